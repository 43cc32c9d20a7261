/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * test-xenctrl COMMAND [ARGS...]: drives the REAL libxenctrl (linked normally) against xensim's
 * hypervisor, reached through the replacement libxencall loaded with LD_LIBRARY_PATH. It prints
 * what libxenctrl returned as "key=value" lines for t-hypervisor.sh to check against xensim's
 * state. A failing call prints "error: CALL: MESSAGE (errno N)" to stderr and exits 1.
 *
 *   version                        xc_version(version, extraversion, capabilities, ...)
 *   physinfo                       xc_physinfo, xc_sched_id, xc_get_max_cpus
 *   list                           xc_domain_getinfolist, one line per domain
 *   info DOMID                     xc_domain_getinfo for one domain
 *   vcpus DOMID                    xc_vcpu_getinfo + xc_vcpu_getaffinity for every vcpu
 *   pin DOMID VCPU CPU...          xc_vcpu_setaffinity (hard), then prints the affinity back
 *   pause|unpause|destroy DOMID    xc_domain_pause/unpause/destroy
 *   shutdown DOMID REASON          xc_domain_shutdown (SHUTDOWN_* code)
 *   setmaxmem DOMID KIB            xc_domain_setmaxmem
 *   sched DOMID [WEIGHT CAP]       xc_sched_credit_domain_set (with arguments), then _get
 *   availheap NODE                 xc_availheap (NODE -1: every node)
 *   topology                       xc_numainfo + xc_cputopoinfo
 *   threads N COUNT                N threads share one handle, COUNT list+version calls each
 */

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xenctrl.h>

#include "xv-macro.h"
#include "xv-parse-util.h"

#define TEST_VCPUS_MAX 128
#define TEST_THREADS_MAX 64

static int fail(const char *call) {
        int e = errno;

        fprintf(stderr, "error: %s: %s (errno %d)\n", call, strerror(e), e);
        return 1;
}

static void xc_interface_closep(xc_interface **x) {
        if (*x)
                (void) xc_interface_close(*x);
}

static int cmd_version(xc_interface *xc) {
        xen_extraversion_t extra = {};
        xen_capabilities_info_t caps = {};
        xen_compile_info_t ci = {};
        xen_changeset_info_t cs = {};
        xen_platform_parameters_t pp = {};
        int v, pagesize;

        v = xc_version(xc, XENVER_version, NULL);
        if (v < 0)
                return fail("xc_version(XENVER_version)");
        if (xc_version(xc, XENVER_extraversion, &extra) < 0)
                return fail("xc_version(XENVER_extraversion)");
        if (xc_version(xc, XENVER_capabilities, &caps) < 0)
                return fail("xc_version(XENVER_capabilities)");
        if (xc_version(xc, XENVER_compile_info, &ci) < 0)
                return fail("xc_version(XENVER_compile_info)");
        if (xc_version(xc, XENVER_changeset, &cs) < 0)
                return fail("xc_version(XENVER_changeset)");
        if (xc_version(xc, XENVER_platform_parameters, &pp) < 0)
                return fail("xc_version(XENVER_platform_parameters)");
        pagesize = xc_version(xc, XENVER_pagesize, NULL);
        if (pagesize < 0)
                return fail("xc_version(XENVER_pagesize)");

        printf("version=%d.%d\n", v >> 16, v & 0xffff);
        printf("extraversion=%.*s\n", (int) sizeof(extra), extra);
        printf("capabilities=%.*s\n", (int) sizeof(caps), caps);
        printf("compiler=%.*s\n", (int) sizeof(ci.compiler), ci.compiler);
        printf("changeset=%.*s\n", (int) sizeof(cs), cs);
        printf("virt_start=0x%" PRIx64 "\n", (uint64_t) pp.virt_start);
        printf("pagesize=%d\n", pagesize);
        return 0;
}

static int cmd_physinfo(xc_interface *xc) {
        xc_physinfo_t pi = {};
        int sched = 0;
        int max_cpus;

        if (xc_physinfo(xc, &pi) < 0)
                return fail("xc_physinfo");
        if (xc_sched_id(xc, &sched) < 0)
                return fail("xc_sched_id");
        max_cpus = xc_get_max_cpus(xc);
        if (max_cpus < 0)
                return fail("xc_get_max_cpus");

        printf("nr_cpus=%u\n", pi.nr_cpus);
        printf("max_cpus=%d\n", max_cpus);
        printf("threads_per_core=%u\n", pi.threads_per_core);
        printf("cores_per_socket=%u\n", pi.cores_per_socket);
        printf("nr_nodes=%u\n", pi.nr_nodes);
        printf("cpu_khz=%u\n", pi.cpu_khz);
        printf("total_pages=%" PRIu64 "\n", (uint64_t) pi.total_pages);
        printf("free_pages=%" PRIu64 "\n", (uint64_t) pi.free_pages);
        printf("cap_hvm=%d\n", !!(pi.capabilities & XEN_SYSCTL_PHYSCAP_hvm));
        printf("cap_pv=%d\n", !!(pi.capabilities & XEN_SYSCTL_PHYSCAP_pv));
        printf("sched_id=%d\n", sched);
        return 0;
}

static void print_handle(const xen_domain_handle_t h) {
        for (size_t i = 0; i < sizeof(xen_domain_handle_t); i++)
                printf("%s%02x", i == 4 || i == 6 || i == 8 || i == 10 ? "-" : "", h[i]);
}

static int cmd_list(xc_interface *xc) {
        _cleanup_free_ xc_domaininfo_t *info = NULL;
        int n;

        /* Domain ids are below DOMID_FIRST_RESERVED; ask in chunks as xenvirtd will. */
        info = calloc(1024, sizeof(xc_domaininfo_t));
        if (!info)
                return fail("calloc");
        n = xc_domain_getinfolist(xc, 0, 1024, info);
        if (n < 0)
                return fail("xc_domain_getinfolist");
        printf("count=%d\n", n);
        for (int i = 0; i < n; i++) {
                const xc_domaininfo_t *d = &info[i];

                printf("domid=%u tot_pages=%" PRIu64 " max_pages=%" PRIu64 " online_vcpus=%u"
                       " max_vcpu_id=%u dying=%d shutdown=%d paused=%d blocked=%d running=%d hvm=%d"
                       " reason=%u cpu_time=%" PRIu64 " handle=",
                       d->domain, (uint64_t) d->tot_pages, (uint64_t) d->max_pages, d->nr_online_vcpus,
                       d->max_vcpu_id, !!(d->flags & XEN_DOMINF_dying), !!(d->flags & XEN_DOMINF_shutdown),
                       !!(d->flags & XEN_DOMINF_paused), !!(d->flags & XEN_DOMINF_blocked),
                       !!(d->flags & XEN_DOMINF_running), !!(d->flags & XEN_DOMINF_hvm_guest),
                       (d->flags >> XEN_DOMINF_shutdownshift) & XEN_DOMINF_shutdownmask,
                       (uint64_t) d->cpu_time);
                print_handle(d->handle);
                printf("\n");
        }
        return 0;
}

static int parse_domid(const char *s, uint32_t *ret) {
        if (safe_atou32_full(s, 10, ret) < 0 || *ret >= DOMID_FIRST_RESERVED) {
                fprintf(stderr, "error: invalid domain id '%s'\n", s);
                return -EINVAL;
        }
        return 0;
}

static int cmd_info(xc_interface *xc, uint32_t domid) {
        xc_dominfo_t di = {};
        int n;

        /* Xen 4.17 answers for the first domain at or after @domid: the caller must check. */
        n = xc_domain_getinfo(xc, domid, 1, &di);
        if (n < 0 && errno != ESRCH)
                return fail("xc_domain_getinfo");
        if (n <= 0 || di.domid != domid) {
                printf("found=0\n");
                return 0;
        }
        printf("found=1\n");
        printf("domid=%u\n", di.domid);
        printf("nr_pages=%lu\n", di.nr_pages);
        printf("max_memkb=%lu\n", di.max_memkb);
        printf("online_vcpus=%u\n", di.nr_online_vcpus);
        printf("max_vcpu_id=%u\n", di.max_vcpu_id);
        printf("paused=%u\nrunning=%u\nblocked=%u\nshutdown=%u\ncrashed=%u\ndying=%u\nhvm=%u\n",
               di.paused, di.running, di.blocked, di.shutdown, di.crashed, di.dying, di.hvm);
        printf("shutdown_reason=%u\n", di.shutdown_reason);
        printf("handle=");
        print_handle(di.handle);
        printf("\n");
        return 0;
}

static int print_affinity(xc_interface *xc, uint32_t domid, unsigned vcpu, int max_cpus) {
        _cleanup_free_ xc_cpumap_t hard = NULL, soft = NULL;

        hard = xc_cpumap_alloc(xc);
        soft = xc_cpumap_alloc(xc);
        if (!hard || !soft)
                return fail("xc_cpumap_alloc");
        if (xc_vcpu_getaffinity(xc, domid, (int) vcpu, hard, soft, XEN_VCPUAFFINITY_HARD) < 0)
                return fail("xc_vcpu_getaffinity");
        printf("vcpu=%u affinity=", vcpu);
        for (int c = 0, first = 1; c < max_cpus; c++)
                if (xc_cpumap_testcpu(c, hard)) {
                        printf("%s%d", first ? "" : ",", c);
                        first = 0;
                }
        printf("\n");
        return 0;
}

static int cmd_vcpus(xc_interface *xc, uint32_t domid) {
        xc_dominfo_t di = {};
        int max_cpus, r;

        if (xc_domain_getinfo(xc, domid, 1, &di) != 1 || di.domid != domid) {
                errno = ESRCH;
                return fail("xc_domain_getinfo");
        }
        max_cpus = xc_get_max_cpus(xc);
        if (max_cpus < 0)
                return fail("xc_get_max_cpus");
        for (unsigned v = 0; v <= di.max_vcpu_id && v < TEST_VCPUS_MAX; v++) {
                xc_vcpuinfo_t vi = {};

                if (xc_vcpu_getinfo(xc, domid, v, &vi) < 0)
                        return fail("xc_vcpu_getinfo");
                printf("vcpu=%u online=%u blocked=%u running=%u cpu=%u cpu_time=%" PRIu64 "\n",
                       vi.vcpu, vi.online, vi.blocked, vi.running, vi.cpu, (uint64_t) vi.cpu_time);
                r = print_affinity(xc, domid, v, max_cpus);
                if (r != 0)
                        return r;
        }
        return 0;
}

static int cmd_pin(xc_interface *xc, uint32_t domid, const char *vcpu_s, char **cpus, int n_cpus) {
        _cleanup_free_ xc_cpumap_t hard = NULL, soft = NULL;
        unsigned vcpu;
        int max_cpus;

        if (safe_atou(vcpu_s, &vcpu) < 0) {
                fprintf(stderr, "error: invalid vcpu '%s'\n", vcpu_s);
                return 2;
        }
        max_cpus = xc_get_max_cpus(xc);
        if (max_cpus < 0)
                return fail("xc_get_max_cpus");
        hard = xc_cpumap_alloc(xc);
        soft = xc_cpumap_alloc(xc);
        if (!hard || !soft)
                return fail("xc_cpumap_alloc");
        for (int i = 0; i < n_cpus; i++) {
                unsigned c;

                if (safe_atou(cpus[i], &c) < 0 || c >= (unsigned) max_cpus) {
                        fprintf(stderr, "error: invalid cpu '%s'\n", cpus[i]);
                        return 2;
                }
                xc_cpumap_setcpu((int) c, hard);
        }
        if (xc_vcpu_setaffinity(xc, domid, (int) vcpu, hard, soft, XEN_VCPUAFFINITY_HARD) < 0)
                return fail("xc_vcpu_setaffinity");
        return print_affinity(xc, domid, vcpu, max_cpus);
}

static int cmd_sched(xc_interface *xc, uint32_t domid, char **args, int n_args) {
        struct xen_domctl_sched_credit sc = {};

        if (n_args == 2) {
                unsigned weight, cap;

                if (safe_atou(args[0], &weight) < 0 || weight > UINT16_MAX ||
                    safe_atou(args[1], &cap) < 0 || cap > UINT16_MAX) {
                        fprintf(stderr, "error: invalid weight or cap\n");
                        return 2;
                }
                sc.weight = (uint16_t) weight;
                sc.cap = (uint16_t) cap;
                if (xc_sched_credit_domain_set(xc, domid, &sc) < 0)
                        return fail("xc_sched_credit_domain_set");
        }
        memset(&sc, 0, sizeof(sc));
        if (xc_sched_credit_domain_get(xc, domid, &sc) < 0)
                return fail("xc_sched_credit_domain_get");
        printf("weight=%u\ncap=%u\n", sc.weight, sc.cap);
        return 0;
}

static int cmd_topology(xc_interface *xc) {
        xc_meminfo_t mem[8];
        xc_cputopo_t topo[64];
        uint32_t dist[64];
        unsigned nodes = 8, cpus = 64;

        if (xc_numainfo(xc, &nodes, mem, dist) < 0)
                return fail("xc_numainfo");
        for (unsigned i = 0; i < nodes; i++)
                printf("node=%u memsize=%" PRIu64 " memfree=%" PRIu64 "\n",
                       i, mem[i].memsize, mem[i].memfree);
        if (xc_cputopoinfo(xc, &cpus, topo) < 0)
                return fail("xc_cputopoinfo");
        for (unsigned i = 0; i < cpus; i++)
                printf("cpu=%u core=%u socket=%u node=%u\n", i, topo[i].core, topo[i].socket, topo[i].node);
        return 0;
}

typedef struct Worker {
        pthread_t thread;
        xc_interface *xc;
        unsigned count;
        int error;              /* errno of the first failure, 0 if none */
} Worker;

static void *worker_run(void *userdata) {
        Worker *w = userdata;
        xc_domaininfo_t info[16];

        /* xenvirtd's workers share one handle: every call must come back whole and in order. */
        for (unsigned i = 0; i < w->count && w->error == 0; i++) {
                xen_extraversion_t extra = {};

                if (xc_domain_getinfolist(w->xc, 0, 16, info) < 1 || info[0].domain != 0 ||
                    xc_version(w->xc, XENVER_extraversion, &extra) < 0 || extra[0] != '.')
                        w->error = errno ?: EIO;
        }
        return NULL;
}

static int cmd_threads(xc_interface *xc, const char *n_s, const char *count_s) {
        Worker workers[TEST_THREADS_MAX] = {};
        unsigned n, count, failed = 0;

        if (safe_atou(n_s, &n) < 0 || n == 0 || n > TEST_THREADS_MAX || safe_atou(count_s, &count) < 0) {
                fprintf(stderr, "error: threads N COUNT (N 1..%u)\n", (unsigned) TEST_THREADS_MAX);
                return 2;
        }
        for (unsigned i = 0; i < n; i++) {
                workers[i] = (Worker) { .xc = xc, .count = count };
                if (pthread_create(&workers[i].thread, NULL, worker_run, &workers[i]) != 0) {
                        errno = EAGAIN;
                        return fail("pthread_create");
                }
        }
        for (unsigned i = 0; i < n; i++) {
                (void) pthread_join(workers[i].thread, NULL);
                if (workers[i].error != 0) {
                        errno = workers[i].error;
                        (void) fail("worker");
                        failed++;
                }
        }
        printf("threads=%u calls=%u failed=%u\n", n, n * count * 2, failed);
        return failed > 0;
}

int main(int argc, char *argv[]) {
        _cleanup_(xc_interface_closep) xc_interface *xc = NULL;
        const char *cmd;
        uint32_t domid = 0;

        if (argc < 2) {
                fprintf(stderr, "Usage: %s COMMAND [ARGS...]\n", argv[0]);
                return 2;
        }
        cmd = argv[1];

        xc = xc_interface_open(NULL, NULL, 0);
        if (!xc)
                return fail("xc_interface_open");
        printf("open=ok\n");

        if (streq(cmd, "open"))
                return 0;
        if (streq(cmd, "version"))
                return cmd_version(xc);
        if (streq(cmd, "physinfo"))
                return cmd_physinfo(xc);
        if (streq(cmd, "list"))
                return cmd_list(xc);
        if (streq(cmd, "topology"))
                return cmd_topology(xc);
        if (streq(cmd, "threads") && argc == 4)
                return cmd_threads(xc, argv[2], argv[3]);
        if (streq(cmd, "availheap")) {
                int32_t node;
                uint64_t bytes = 0;

                if (argc != 3 || safe_atoi32(argv[2], &node) < 0) {
                        fprintf(stderr, "error: availheap NODE\n");
                        return 2;
                }
                if (xc_availheap(xc, 0, 0, node, &bytes) < 0)
                        return fail("xc_availheap");
                printf("avail_bytes=%" PRIu64 "\n", bytes);
                return 0;
        }

        /* Everything else takes a domain id. */
        if (argc < 3 || parse_domid(argv[2], &domid) < 0) {
                fprintf(stderr, "error: %s needs a domain id\n", cmd);
                return 2;
        }
        if (streq(cmd, "info"))
                return cmd_info(xc, domid);
        if (streq(cmd, "vcpus"))
                return cmd_vcpus(xc, domid);
        if (streq(cmd, "pin") && argc >= 5)
                return cmd_pin(xc, domid, argv[3], argv + 4, argc - 4);
        if (streq(cmd, "sched") && (argc == 3 || argc == 5))
                return cmd_sched(xc, domid, argv + 3, argc - 3);
        if (streq(cmd, "pause"))
                return xc_domain_pause(xc, domid) < 0 ? fail("xc_domain_pause") : 0;
        if (streq(cmd, "unpause"))
                return xc_domain_unpause(xc, domid) < 0 ? fail("xc_domain_unpause") : 0;
        if (streq(cmd, "destroy"))
                return xc_domain_destroy(xc, domid) < 0 ? fail("xc_domain_destroy") : 0;
        if (streq(cmd, "shutdown") && argc == 4) {
                unsigned reason;

                if (safe_atou(argv[3], &reason) < 0) {
                        fprintf(stderr, "error: invalid reason '%s'\n", argv[3]);
                        return 2;
                }
                return xc_domain_shutdown(xc, domid, (int) reason) < 0 ? fail("xc_domain_shutdown") : 0;
        }
        if (streq(cmd, "setmaxmem") && argc == 4) {
                uint64_t kib;

                if (safe_atou64_full(argv[3], 10, &kib) < 0) {
                        fprintf(stderr, "error: invalid KiB '%s'\n", argv[3]);
                        return 2;
                }
                return xc_domain_setmaxmem(xc, domid, kib) < 0 ? fail("xc_domain_setmaxmem") : 0;
        }
        fprintf(stderr, "error: unknown command or wrong arguments: %s\n", cmd);
        return 2;
}
