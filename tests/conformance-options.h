/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The one option set of the corpus README for xmlequiv.py: what it may ignore when comparing
 * libvirt's expected XML with ours. Every difference it hides is an era decoration: elements the
 * Xen driver never modelled, and attributes that only spell out a default. The conformance runner
 * and the unit tests that compare with the corpus share it, so that they cannot drift apart; a
 * test that must ignore more lists the extra paths after these.
 */
#define CONFORMANCE_XML_IGNORES                         \
        "vcpu/@placement",                              \
        "devices/input[@type='keyboard']",              \
        "devices/memballoon",                           \
        "devices/disk/address",                         \
        "devices/controller",                           \
        "devices/video",                                \
        "os/type/@arch",                                \
        "os/type/@machine",                             \
        "os/loader/@type",                              \
        "devices/disk/driver[@type='raw']/@type",       \
        "devices/disk/backingStore",                    \
        "clock[@adjustment='reset']/@adjustment",       \
        "memory/@unit",                                 \
        "currentMemory/@unit",                          \
        "devices/graphics/listen"
