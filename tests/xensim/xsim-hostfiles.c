/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xsim-hostfiles.h"
#include "xv-alloc.h"
#include "xv-sexpr.h"
#include "xv-strbuf.h"

#define XSIM_PATH_MAX 4096

/* A statistics directory this module created, so that removing a domain's directories does not
 * have to scan a directory holding every disk of the host. */
typedef struct VbdDir {
        int domid;
        int devid;
        bool tap;
} VbdDir;

struct XsimHostFiles {
        XsimHost *host;
        sd_event_source *refresh_source;        /* deferred rewrite of /proc/net/dev */
        VbdDir *vbds;
        size_t n_vbds, allocated_vbds;
};

/* Creates every missing directory of @path (like mkdir -p). */
static int mkdir_parents(const char *path, bool include_last) {
        char buf[XSIM_PATH_MAX];
        size_t len = strlen(path);

        if (len >= sizeof(buf))
                return -ENAMETOOLONG;
        memcpy(buf, path, len + 1);
        for (char *p = buf + 1; *p; p++) {
                if (*p != '/')
                        continue;
                *p = 0;
                if (mkdir(buf, 0755) < 0 && errno != EEXIST)
                        return -errno;
                *p = '/';
        }
        if (include_last && mkdir(buf, 0755) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

/* Replaces @path (whose directory exists) by @text through a rename, so that a reader sees the old or the new content.
 * No fsync: these files describe a simulation that does not survive a crash anyway. */
static int write_text(const char *path, const char *text) {
        char tmp[XSIM_PATH_MAX];
        _cleanup_close_ int fd = -EBADF;
        size_t len = strlen(text);
        int r;

        if ((size_t) snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
                return -ENAMETOOLONG;
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        for (size_t done = 0; done < len;) {
                ssize_t n = write(fd, text + done, len - done);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        (void) unlink(tmp);
                        return r;
                }
                done += (size_t) n;
        }
        if (rename(tmp, path) < 0) {
                r = -errno;
                (void) unlink(tmp);
                return r;
        }
        return 0;
}

static int write_rooted(XsimHost *host, const char *relpath, const char *text) {
        char path[XSIM_PATH_MAX];

        int r;

        if ((size_t) snprintf(path, sizeof(path), "%s/%s", host->root, relpath) >= sizeof(path))
                return -ENAMETOOLONG;
        r = mkdir_parents(path, false);
        if (r < 0)
                return r;
        return write_text(path, text);
}

/* Removes a directory tree (only what this module created: plain files and directories). */
static int rm_rf(const char *path) {
        DIR *dir;
        struct dirent *de;
        int r = 0;

        dir = opendir(path);
        if (!dir)
                return errno == ENOENT ? 0 : -errno;
        while ((de = readdir(dir))) {
                char sub[XSIM_PATH_MAX];

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if ((size_t) snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name) >= sizeof(sub))
                        continue;
                if (de->d_type == DT_DIR)
                        r = rm_rf(sub);
                else if (unlink(sub) < 0 && errno != ENOENT)
                        r = -errno;
        }
        closedir(dir);
        if (rmdir(path) < 0 && errno != ENOENT)
                return -errno;
        return r;
}

int xsim_disk_devid(const char *name, int *ret) {
        static const int ide_majors[] = { 3, 22, 33, 34, 56, 57, 88, 89, 90, 91 };
        unsigned disk = 0, part = 0, n_letters = 0;
        const char *p, *colon;
        char buf[64];
        size_t len;
        int devid;

        if (!name || !ret)
                return -EINVAL;
        if (strncmp(name, "ioemu:", 6) == 0)
                name += 6;
        if (strncmp(name, "/dev/", 5) == 0)
                name += 5;
        colon = strchr(name, ':');      /* "hda:disk", "hdc:cdrom" */
        len = colon ? (size_t) (colon - name) : strlen(name);
        if (len < 3 || len >= sizeof(buf))
                return -EINVAL;
        memcpy(buf, name, len);
        buf[len] = 0;

        /* Letters in bijective base 26: a..z, then aa..zz ... as Linux names disks. */
        p = buf + 2;
        if (buf[0] == 'x') {
                if (strncmp(buf, "xvd", 3) != 0)
                        return -EINVAL;
                p = buf + 3;
        }
        for (; *p >= 'a' && *p <= 'z'; p++) {
                if (n_letters >= 3)
                        return -EINVAL;
                disk = disk * 26 + (unsigned) (*p - 'a') + 1;
                n_letters++;
        }
        if (n_letters == 0)
                return -EINVAL;
        disk--;
        for (; *p; p++) {
                if (*p < '0' || *p > '9' || part > 1000)
                        return -EINVAL;
                part = part * 10 + (unsigned) (*p - '0');
        }

        if (strncmp(buf, "xvd", 3) == 0) {
                if (disk < 16 && part < 16)
                        devid = (202 << 8) | (int) (disk << 4) | (int) part;
                else if (disk < (1u << 20) && part < 256)
                        devid = (1 << 28) | (int) (disk << 8) | (int) part;
                else
                        return -EINVAL;
        } else if (strncmp(buf, "hd", 2) == 0) {
                if (disk >= 2 * ELEMENTSOF(ide_majors) || part >= 64)
                        return -EINVAL;
                devid = (ide_majors[disk / 2] << 8) | (int) ((disk % 2) * 64 + part);
        } else if (strncmp(buf, "sd", 2) == 0) {
                int major;

                if (disk >= 128 || part >= 16)
                        return -EINVAL;
                major = disk < 16 ? 8 : 65 + (int) (disk / 16) - 1;
                devid = (major << 8) | (int) ((disk % 16) * 16 + part);
        } else
                return -EINVAL;

        *ret = devid;
        return 0;
}

/* Deterministic counters that grow with the domain's cpu time, so two reads can differ. */
static uint64_t fake_counter(const XsimDomain *d, unsigned dev, unsigned which) {
        return (uint64_t) d->domid * 1000 + dev * 100 + which * 10 + d->cpu_time_ns / 1000000;
}

static void vbd_dir_path(XsimHost *host, const VbdDir *v, char *buf, size_t size) {
        (void) snprintf(buf, size, "%s/sys/bus/xen-backend/devices/%s-%d-%d", host->root,
                        v->tap ? "tap" : "vbd", v->domid, v->devid);
}

static void domain_remove_vbds(XsimHostFiles *f, int domid) {
        size_t j = 0;

        for (size_t i = 0; i < f->n_vbds; i++) {
                if (f->vbds[i].domid == domid) {
                        char path[XSIM_PATH_MAX];

                        vbd_dir_path(f->host, &f->vbds[i], path, sizeof(path));
                        (void) rm_rf(path);
                        continue;
                }
                f->vbds[j++] = f->vbds[i];
        }
        f->n_vbds = j;
}

/* The block devices of a domain's configuration, at most XSIM_DISKS_MAX. */
static size_t domain_collect_vbds(const XsimDomain *d, VbdDir out[static XSIM_DISKS_MAX]) {
        size_t n = 0;

        if (!d->config)
                return 0;
        SEXPR_FOREACH_CHILD(dev, d->config) {
                const char *type, *name;
                const Sexpr *spec;
                char key[64];

                if (!streq_ptr(sexpr_head(dev), "device") || n >= XSIM_DISKS_MAX)
                        continue;
                spec = sexpr_item(dev, 1);
                type = sexpr_head(spec);
                if (!type || !(streq(type, "vbd") || streq(type, "tap") || streq(type, "tap2")))
                        continue;
                (void) snprintf(key, sizeof(key), "%s/dev", type);
                name = sexpr_node(spec, key);
                out[n] = (VbdDir) { .domid = d->domid, .tap = !streq(type, "vbd") };
                if (!name || xsim_disk_devid(name, &out[n].devid) < 0)
                        continue;
                n++;
        }
        return n;
}

/* Whether the directories of @d are exactly @want already. */
static bool domain_vbds_match(XsimHostFiles *f, int domid, const VbdDir *want, size_t n_want) {
        size_t n_have = 0;

        for (size_t i = 0; i < f->n_vbds; i++) {
                bool found = false;

                if (f->vbds[i].domid != domid)
                        continue;
                n_have++;
                for (size_t j = 0; j < n_want; j++)
                        if (want[j].devid == f->vbds[i].devid && want[j].tap == f->vbds[i].tap)
                                found = true;
                if (!found)
                        return false;
        }
        return n_have == n_want;
}

static int domain_write_vbds(XsimHostFiles *f, XsimDomain *d) {
        static const char *const stats[] = { "rd_req", "rd_sect", "wr_req", "wr_sect", "oo_req" };
        VbdDir want[XSIM_DISKS_MAX];
        size_t n_want;
        int r;

        n_want = domain_collect_vbds(d, want);
        /* Most changes (pause, memory, vcpus) leave the backends alone: nothing to rewrite. */
        if (domain_vbds_match(f, d->domid, want, n_want))
                return 0;
        domain_remove_vbds(f, d->domid);

        for (size_t n = 0; n < n_want; n++) {
                char path[XSIM_PATH_MAX], stats_dir[XSIM_PATH_MAX];

                if (GREEDY_REALLOC(f->vbds, f->allocated_vbds, f->n_vbds + 1) < 0)
                        return -ENOMEM;
                f->vbds[f->n_vbds++] = want[n];
                vbd_dir_path(f->host, &want[n], path, sizeof(path));
                if ((size_t) snprintf(stats_dir, sizeof(stats_dir), "%s/statistics", path) >= sizeof(stats_dir))
                        return -ENAMETOOLONG;
                /* The devices directory exists (refresh creates it): two levels to make. */
                if (mkdir(path, 0755) < 0 && errno != EEXIST)
                        return -errno;
                if (mkdir(stats_dir, 0755) < 0 && errno != EEXIST)
                        return -errno;
                for (size_t i = 0; i < ELEMENTSOF(stats); i++) {
                        char file[XSIM_PATH_MAX], val[32];

                        if ((size_t) snprintf(file, sizeof(file), "%s/%s", stats_dir, stats[i]) >= sizeof(file))
                                return -ENAMETOOLONG;
                        /* oo_req ("out of requests") stays 0 on a healthy simulated backend. */
                        (void) snprintf(val, sizeof(val), "%" PRIu64 "\n",
                                        streq(stats[i], "oo_req") ? 0 : fake_counter(d, (unsigned) n, (unsigned) i + 1));
                        r = write_text(file, val);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static unsigned domain_count_vifs(const XsimDomain *d) {
        unsigned n = 0;

        if (!d->config)
                return 0;
        SEXPR_FOREACH_CHILD(dev, d->config)
                if (streq_ptr(sexpr_head(dev), "device") && streq_ptr(sexpr_head(sexpr_item(dev, 1)), "vif"))
                        n++;
        return MIN(n, (unsigned) XSIM_VIFS_MAX);
}

static bool domain_has_devices(const XsimDomain *d) {
        return d->domid > 0 && d->state != XSIM_STATE_DYING && d->state != XSIM_STATE_HALTED;
}

static void net_dev_line(StrBuf *b, const char *ifname, uint64_t rx_bytes, uint64_t rx_pkts,
                         uint64_t tx_bytes, uint64_t tx_pkts) {
        /* The layout of Linux's dev_seq_printf_stats(): 8 receive and 8 transmit columns. */
        strbuf_appendf(b, "%6s: %7" PRIu64 " %7" PRIu64 " %4u %4u %4u %5u %10u %9u "
                       "%8" PRIu64 " %7" PRIu64 " %4u %4u %4u %5u %7u %10u\n",
                       ifname, rx_bytes, rx_pkts, 0u, 0u, 0u, 0u, 0u, 0u,
                       tx_bytes, tx_pkts, 0u, 0u, 0u, 0u, 0u, 0u);
}

static int write_net_dev(XsimHost *host) {
        _cleanup_free_ char *text = NULL;
        StrBuf b = STRBUF_INIT;
        int r;

        strbuf_append(&b,
                      "Inter-|   Receive                                                |  Transmit\n"
                      " face |bytes    packets errs drop fifo frame compressed multicast|"
                      "bytes    packets errs drop fifo colls carrier compressed\n");
        net_dev_line(&b, "lo", 123456, 1234, 123456, 1234);
        net_dev_line(&b, "eth0", 98765432, 87654, 12345678, 23456);
        for (size_t i = 0; i < host->n_domains; i++) {
                XsimDomain *d = host->domains[i];
                unsigned n_vifs;

                if (!domain_has_devices(d))
                        continue;
                xsim_domain_account(d);
                n_vifs = domain_count_vifs(d);
                for (unsigned v = 0; v < n_vifs; v++) {
                        char ifname[32];

                        (void) snprintf(ifname, sizeof(ifname), "vif%d.%u", d->domid, v);
                        net_dev_line(&b, ifname, fake_counter(d, v, 1) * 1000, fake_counter(d, v, 2),
                                     fake_counter(d, v, 3) * 1000, fake_counter(d, v, 4));
                }
        }
        r = strbuf_steal(&b, &text);
        if (r < 0)
                return r;
        return write_rooted(host, "proc/net/dev", text);
}

static int on_refresh(sd_event_source *s, void *userdata) {
        XsimHostFiles *f = userdata;

        (void) sd_event_source_set_enabled(s, SD_EVENT_OFF);
        (void) write_net_dev(f->host);
        return 0;
}

static void schedule_refresh(XsimHostFiles *f) {
        if (!f->host->event) {
                (void) write_net_dev(f->host);
                return;
        }
        if (!f->refresh_source) {
                if (sd_event_add_defer(f->host->event, &f->refresh_source, on_refresh, f) < 0) {
                        (void) write_net_dev(f->host);
                        return;
                }
                return;
        }
        (void) sd_event_source_set_enabled(f->refresh_source, SD_EVENT_ONESHOT);
}

/* XenD keeps every domain it manages in /var/lib/xend/domains/<uuid>/: libvirt's Xen driver and
 * xenvirt tell a persistent running domain from a transient one by that directory. */
static void domain_managed_dir(XsimHost *host, const XsimDomain *d, bool present) {
        char path[XSIM_PATH_MAX], u[UUID_STRING_BUF];

        if (!host->root)
                return;
        if ((size_t) snprintf(path, sizeof(path), "%s/var/lib/xend/domains/%s", host->root,
                              uuid_format(&d->uuid, u)) >= sizeof(path))
                return;
        if (present)
                (void) mkdir_parents(path, true);
        else
                (void) rm_rf(path);
}

static void on_host_event(XsimHost *host, XsimEvent event, XsimDomain *d, void *userdata) {
        XsimHostFiles *f = userdata;

        switch (event) {
        case XSIM_EVENT_DEFINED:
        case XSIM_EVENT_UNDEFINED:
                domain_managed_dir(host, d, event == XSIM_EVENT_DEFINED);
                return;
        case XSIM_EVENT_INTRODUCED:
        case XSIM_EVENT_CHANGED:
                /* A device change (hot-plug through XenD rewrites the config) shows up here too. */
                if (d->domid > 0) {
                        if (domain_has_devices(d))
                                (void) domain_write_vbds(f, d);
                        else
                                domain_remove_vbds(f, d->domid);
                }
                break;
        case XSIM_EVENT_RELEASED:
                if (d->domid > 0)
                        domain_remove_vbds(f, d->domid);
                break;
        default:
                return;
        }
        schedule_refresh(f);
}

int xsim_hostfiles_refresh(XsimHostFiles *f) {
        char path[XSIM_PATH_MAX];
        int r;

        if ((size_t) snprintf(path, sizeof(path), "%s/sys/bus/xen-backend/devices", f->host->root) >= sizeof(path))
                return -ENAMETOOLONG;
        r = rm_rf(path);
        if (r < 0)
                return r;
        f->n_vbds = 0;
        r = mkdir_parents(path, true);
        if (r < 0)
                return r;
        for (size_t i = 0; i < f->host->n_domains; i++) {
                XsimDomain *d = f->host->domains[i];

                if (domain_has_devices(d)) {
                        r = domain_write_vbds(f, d);
                        if (r < 0)
                                return r;
                }
        }
        return write_net_dev(f->host);
}

static int write_static_files(XsimHost *host) {
        StrBuf b = STRBUF_INIT;
        _cleanup_free_ char *cpuinfo = NULL;
        int r;

        /* What a 64-bit Xen with VT-x reports; HVM guests need the hvm-* entries. */
        r = write_rooted(host, "sys/hypervisor/properties/capabilities",
                         "xen-3.0-x86_64 xen-3.0-x86_32p hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64\n");
        if (r < 0)
                return r;
        r = write_rooted(host, "etc/xen/xend-config.sxp",
                         "# xend configuration of the simulated host (xensim)\n"
                         "(xend-unix-server yes)\n"
                         "(xend-http-server no)\n"
                         "(xend-unix-path /var/lib/xend/xend-socket)\n"
                         "(xend-relocation-server no)\n"
                         "(network-script network-bridge)\n"
                         "(vif-script vif-bridge)\n"
                         "(dom0-min-mem 196)\n"
                         "(dom0-cpus 0)\n"
                         "(vnc-listen '127.0.0.1')\n");
        if (r < 0)
                return r;

        for (unsigned c = 0; c < host->nr_cpus; c++) {
                unsigned cores = MAX(host->cores_per_socket * host->threads_per_core, 1u);

                strbuf_appendf(&b,
                               "processor\t: %u\n"
                               "vendor_id\t: GenuineIntel\n"
                               "cpu family\t: 6\n"
                               "model\t\t: 44\n"
                               "model name\t: Intel(R) Xeon(R) CPU E5620 @ 2.40GHz\n"
                               "stepping\t: 2\n"
                               "cpu MHz\t\t: %u.000\n"
                               "cache size\t: 12288 KB\n"
                               "physical id\t: %u\n"
                               "siblings\t: %u\n"
                               "core id\t\t: %u\n"
                               "cpu cores\t: %u\n"
                               "fpu\t\t: yes\n"
                               "flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov "
                               "pat pse36 clflush dts acpi mmx fxsr sse sse2 ss ht tm pbe syscall nx "
                               "pdpe1gb rdtscp lm constant_tsc pni pclmulqdq dtes64 monitor ds_cpl vmx "
                               "smx est tm2 ssse3 cx16 xtpr pdcm dca sse4_1 sse4_2 popcnt aes lahf_lm\n"
                               "bogomips\t: %u.00\n"
                               "\n",
                               c, host->cpu_mhz, c / cores, cores, c % cores, cores, host->cpu_mhz * 2);
        }
        r = strbuf_steal(&b, &cpuinfo);
        if (r < 0)
                return r;
        return write_rooted(host, "proc/cpuinfo", cpuinfo);
}

int xsim_hostfiles_new(XsimHost *host, XsimHostFiles **ret) {
        _cleanup_(xsim_hostfiles_freep) XsimHostFiles *f = NULL;
        int r;

        if (!host || !host->root || !ret)
                return -EINVAL;
        f = new0(XsimHostFiles, 1);
        if (!f)
                return -ENOMEM;
        f->host = host;
        r = write_static_files(host);
        if (r < 0)
                return r;
        r = xsim_hostfiles_refresh(f);
        if (r < 0)
                return r;
        r = xsim_host_add_listener(host, on_host_event, f);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(f);
        return 0;
}

XsimHostFiles *xsim_hostfiles_free(XsimHostFiles *f) {
        if (!f)
                return NULL;
        sd_event_source_disable_unref(f->refresh_source);
        free(f->vbds);
        return mfree(f);
}
