#!/bin/sh
# Installs every Debian 12 package xenvirt needs to build, test and demo (as root).
# One list, used by the README commands and by .ci/run.
set -e

PACKAGES="
  autoconf automake libtool pkg-config make gcc clang
  libxml2-dev libtirpc-dev rpcsvc-proto libsystemd-dev libxen-dev
  python3 libvirt-clients python3-libvirt libxml2-utils libedit-dev xz-utils curl xenstore-utils coreutils
  systemd procps
  dbus-daemon polkitd util-linux passwd
  valgrind cppcheck clang-tidy bear
  debhelper dpkg-dev lintian openssh-server netcat-openbsd man-db git
  qemu-system-x86 busybox-static xen-utils-4.17 cpio
"

if [ "$(id -u)" != 0 ]; then
        echo "error: run as root (apt-get install)" >&2
        exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update
# shellcheck disable=SC2086
apt-get install -y --no-install-recommends $PACKAGES
