/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The libxl backend (src/xen/xv-backend-libxl*.c) against a private xensim that simulates a
 * modern host (--no-xend --xen-version 4.17): the REAL libxl and libxenctrl on top of xensim's
 * replacement libxencall (the program re-executes itself once with LD_LIBRARY_PATH set, like
 * test-hcall). Checked: opening and status, node facts, the persistent definitions in the xl
 * directory (define / lookup / list / autostart / undefine, files on disk), domains created
 * behind the backend's back (adopted: listed transient, inspectable, STARTED/STOPPED events
 * through the event fd), and lifecycle calls the simulation cannot carry failing cleanly.
 * The caches of running domains, counted by xensim's hypercall counters ("hv stats"): a burst
 * of getinfo shares one hypervisor list per XVB_INFO_MAX_AGE_USEC instead of one hypercall per
 * call, a second dumpxml makes no hypercall, changes through the backend show at once and
 * changes behind its back after the xenstore watch fired (or the snapshot's age).
 */
#include <poll.h>
#include <stdio.h>
#include <sys/stat.h>

#include "tests.h"
#include "xsim-launch.h"
#include "xv-backend.h"
#include "xv-domain-xml.h"
#include "xv-hypervisor.h"
#include "xv-parse-util.h"
#include "xv-xenstore.h"

#define EVENT_WAIT_MS 10000     /* bound for an event to arrive (normally well under a second) */
#define WARM_ATTEMPTS 5         /* a warm count measured again when a slow machine let it expire */
#define XML_MAX_AGE_MS 2000     /* LX_XML_RUNNING_MAX_AGE_USEC */

static const char *const modern_args[] = { "--no-xend", "--xen-version", "4.17", NULL };

typedef struct Fixture {
        XsimInstance x;
        char *xl_dir, *save_dir;
        XvHypervisor *h;
} Fixture;

static void fixture_up(Fixture *f) {
        HvConfig cfg = { .backend = HV_BACKEND_LIBXL };
        XvError e = XV_ERROR_NULL;
        int r;

        *f = (Fixture) {};
        xsim_start(&f->x, modern_args);
        ASSERT_TRUE(asprintf(&f->xl_dir, "%s/xl", f->x.dir) >= 0);
        ASSERT_TRUE(asprintf(&f->save_dir, "%s/save", f->x.dir) >= 0);
        cfg.xl_dir = f->xl_dir;
        cfg.managed_save_dir = f->save_dir;
        r = hypervisor_open(&cfg, &f->h, &e);
        if (r < 0)
                test_fail(__FILE__, __LINE__, "hypervisor_open: %s", strnull(e.message));
        xv_error_done(&e);
}

static void fixture_down(Fixture *f) {
        f->h = hypervisor_close(f->h);
        xsim_stop(&f->x);
        free(f->xl_dir);
        free(f->save_dir);
}

static DomainDef *make_def(const char *name, const char *uuid) {
        _cleanup_free_ char *xml = NULL;
        DomainDef *def = NULL;
        XvError e = XV_ERROR_NULL;

        ASSERT_TRUE(asprintf(&xml,
                             "<domain type='xen'><name>%s</name><uuid>%s</uuid>"
                             "<memory unit='KiB'>262144</memory><vcpu>2</vcpu>"
                             "<os><type>linux</type><kernel>/boot/vmlinuz</kernel></os></domain>",
                             name, uuid) >= 0);
        if (domain_def_parse_xml(xml, &def, &e) < 0)
                test_fail(__FILE__, __LINE__, "parse: %s", strnull(e.message));
        return def;
}

typedef struct Seen {
        HvEvent ev[64];
        size_t n;
} Seen;

static void on_event(XvHypervisor *h, const HvEvent *event, void *userdata) {
        Seen *s = userdata;

        if (s->n < ELEMENTSOF(s->ev)) {
                s->ev[s->n] = *event;
                s->ev[s->n].ref.name = strdup(event->ref.name);
                s->n++;
        }
}

static bool seen_has(const Seen *s, const char *name, int event, int detail) {
        for (size_t i = 0; i < s->n; i++)
                if (streq_ptr(s->ev[i].ref.name, name) && s->ev[i].event == event && s->ev[i].detail == detail)
                        return true;
        return false;
}

/* Polls the backend's event fd like the daemon and processes events until @name/@event/@detail
 * was delivered, or EVENT_WAIT_MS passed. Returns the milliseconds it took, -1 on timeout. */
static int64_t wait_event(XvHypervisor *h, Seen *s, const char *name, int event, int detail) {
        uint64_t start = xsim_now_ms();

        while (xsim_now_ms() - start < EVENT_WAIT_MS) {
                struct pollfd p = { .fd = hypervisor_event_fd(h), .events = POLLIN };

                if (seen_has(s, name, event, detail))
                        return (int64_t) (xsim_now_ms() - start);
                (void) poll(&p, 1, 100);
                ASSERT_TRUE(hypervisor_process_events(h) >= 0);
        }
        return seen_has(s, name, event, detail) ? (int64_t) (xsim_now_ms() - start) : -1;
}

static void seen_done(Seen *s) {
        for (size_t i = 0; i < s->n; i++)
                free(s->ev[i].ref.name);
        s->n = 0;
}

/* Delivers whatever the backend has to say (watch events of domains xensim made included), so
 * that no xenstore event waits: the shared snapshot is not used while one does. */
static void drain_events(XvHypervisor *h) {
        for (unsigned i = 0; i < 100; i++) {
                struct pollfd p = { .fd = hypervisor_event_fd(h), .events = POLLIN };

                if (poll(&p, 1, 50) <= 0)
                        return;
                ASSERT_TRUE(hypervisor_process_events(h) >= 0);
        }
}

TEST(open_status_and_node) {
        Fixture f;
        HvStatus st;
        HvNodeInfo ni;
        uint64_t v = 0;
        XvError e = XV_ERROR_NULL;

        fixture_up(&f);
        hypervisor_get_status(f.h, &st);
        ASSERT_STREQ(st.backend, "libxl");
        ASSERT_FALSE(st.xend_ok);
        ASSERT_EQ(st.xend_config_version, 0);
        ASSERT_TRUE(st.xenstore_ok);
        ASSERT_TRUE(st.hypercalls_ok);
        ASSERT_EQ(hypervisor_get_xend_config_version(f.h), 0);
        ASSERT_OK(hypervisor_get_version(f.h, &v, &e));
        ASSERT_EQ(v / 1000, 4017);
        ASSERT_OK(hypervisor_node_get_info(f.h, &ni, &e));
        ASSERT_GT(ni.cpus, 0);
        ASSERT_GT(ni.memory_kib, 0);
        /* The directory exists (created 0700: definitions may hold VNC passwords). */
        {
                struct stat sb;

                ASSERT_OK(stat(f.xl_dir, &sb));
                ASSERT_EQ(sb.st_mode & 0777, 0700);
        }
        xv_error_done(&e);
        fixture_down(&f);
}

TEST(auto_selects_libxl_without_xend) {
        XsimInstance x;
        HvConfig cfg = { .backend = HV_BACKEND_AUTO };
        _cleanup_free_ char *xl = NULL, *xend = NULL;
        XvHypervisor *h = NULL;
        XvError e = XV_ERROR_NULL;
        HvStatus st;

        xsim_start(&x, modern_args);
        ASSERT_TRUE(asprintf(&xl, "%s/xl", x.dir) >= 0);
        xend = xsim_path(&x, "xend-socket");
        cfg.xl_dir = xl;
        cfg.xend_socket = xend;
        if (hypervisor_open(&cfg, &h, &e) < 0)
                test_fail(__FILE__, __LINE__, "hypervisor_open: %s", strnull(e.message));
        hypervisor_get_status(h, &st);
        ASSERT_STREQ(st.backend, "libxl");
        h = hypervisor_close(h);
        xsim_stop(&x);
}

TEST(define_list_autostart_undefine) {
        _cleanup_(domain_def_freep) DomainDef *def = make_def("pers1", "8a0c4f2e-0d1e-4b9c-9a3b-2b5e0e6f7a11");
        _cleanup_(domain_def_freep) DomainDef *back = NULL;
        _cleanup_free_ char *cfgfile = NULL, *link = NULL, *text = NULL;
        _cleanup_strv_free_ char **names = NULL;
        HvDomainSummary *l = NULL;
        HvDomainRef ref = {}, by_name = {};
        XvError e = XV_ERROR_NULL;
        HvDomainInfo info;
        size_t n = 0;
        bool b = true;
        Fixture f;
        Seen s = {};

        fixture_up(&f);
        ASSERT_OK(hypervisor_set_event_callback(f.h, on_event, &s));
        ASSERT_OK(hypervisor_domain_define(f.h, def, &ref, &e));
        ASSERT_STREQ(ref.name, "pers1");
        ASSERT_EQ(ref.id, -1);
        ASSERT_GE(wait_event(f.h, &s, "pers1", XVP_DOMAIN_EVENT_DEFINED, XVP_DOMAIN_EVENT_DEFINED_ADDED), 0);

        cfgfile = test_path(f.xl_dir, "pers1.cfg");
        text = test_read_file(cfgfile);
        ASSERT_NOT_NULL(strstr(text, "8a0c4f2e-0d1e-4b9c-9a3b-2b5e0e6f7a11"));

        ASSERT_OK(hypervisor_lookup_by_name(f.h, "pers1", &by_name, &e));
        ASSERT_EQ(by_name.id, -1);
        ASSERT_OK(hypervisor_domain_get_info(f.h, &by_name, &info, &e));
        ASSERT_EQ(info.state, XVP_DOMAIN_SHUTOFF);
        ASSERT_EQ(info.max_memory_kib, 262144);
        ASSERT_EQ(info.nr_vcpus, 2);
        ASSERT_OK(hypervisor_domain_is_persistent(f.h, &by_name, &b, &e));
        ASSERT_TRUE(b);
        ASSERT_OK(hypervisor_domain_get_def(f.h, &by_name, HV_XML_INACTIVE, &back, &e));
        ASSERT_STREQ(back->name, "pers1");
        ASSERT_EQ(back->memory_kib, 262144);

        ASSERT_OK(hypervisor_list_defined_names(f.h, &names, &e));
        ASSERT_TRUE(strv_contains(names, "pers1"));
        ASSERT_OK(hypervisor_list_all_domains(f.h, XVP_CONNECT_LIST_DOMAINS_INACTIVE, &l, &n, &e));
        ASSERT_EQ(n, 1);
        ASSERT_STREQ(l[0].ref.name, "pers1");
        ASSERT_TRUE(l[0].persistent);
        ASSERT_FALSE(l[0].autostart);
        hv_domain_summaries_free(l, n);

        ASSERT_OK(hypervisor_domain_set_autostart(f.h, &by_name, true, &e));
        link = test_path(f.xl_dir, "auto/pers1.cfg");
        ASSERT_OK(access(link, F_OK));
        ASSERT_OK(hypervisor_domain_get_autostart(f.h, &by_name, &b, &e));
        ASSERT_TRUE(b);
        ASSERT_OK(hypervisor_list_all_domains(f.h, XVP_CONNECT_LIST_DOMAINS_AUTOSTART, &l, &n, &e));
        ASSERT_EQ(n, 1);
        hv_domain_summaries_free(l, n);

        /* Starting needs a real hypervisor: a clear error, and the definition stays. */
        {
                HvDomainRef started = {};
                XvError e2 = XV_ERROR_NULL;

                ASSERT_TRUE(hypervisor_domain_create(f.h, &by_name, 0, &started, &e2) < 0);
                ASSERT_NOT_NULL(e2.message);
                xv_error_done(&e2);
                ASSERT_OK(access(cfgfile, F_OK));
                ASSERT_OK(hypervisor_domain_get_info(f.h, &by_name, &info, &e));
                ASSERT_EQ(info.state, XVP_DOMAIN_SHUTOFF);
        }

        ASSERT_OK(hypervisor_domain_undefine(f.h, &by_name, 0, &e));
        ASSERT_TRUE(access(cfgfile, F_OK) < 0);
        ASSERT_TRUE(access(link, F_OK) < 0);
        ASSERT_GE(wait_event(f.h, &s, "pers1", XVP_DOMAIN_EVENT_UNDEFINED, XVP_DOMAIN_EVENT_UNDEFINED_REMOVED), 0);
        {
                HvDomainRef gone = {};
                XvError e2 = XV_ERROR_NULL;

                ASSERT_TRUE(hypervisor_lookup_by_name(f.h, "pers1", &gone, &e2) < 0);
                ASSERT_EQ(e2.code, XVP_ERR_NO_DOMAIN);
                xv_error_done(&e2);
        }
        hv_domain_ref_done(&ref);
        hv_domain_ref_done(&by_name);
        seen_done(&s);
        xv_error_done(&e);
        fixture_down(&f);
}

TEST(adopted_domains_and_events) {
        HvDomainRef ref = {};
        XvError e = XV_ERROR_NULL;
        _cleanup_(domain_def_freep) DomainDef *def = NULL;
        HvDomainSummary *l = NULL;
        size_t n = 0;
        bool found = false;
        int64_t ms;
        Fixture f;
        Seen s = {};
        int id;

        fixture_up(&f);
        ASSERT_OK(hypervisor_set_event_callback(f.h, on_event, &s));
        id = xsim_create_domain(&f.x, "behind1", 128, 2);
        ms = wait_event(f.h, &s, "behind1", XVP_DOMAIN_EVENT_STARTED, XVP_DOMAIN_EVENT_STARTED_BOOTED);
        ASSERT_GE(ms, 0);
        printf("# STARTED of an adopted domain after %" PRIi64 " ms\n", ms);

        ASSERT_OK(hypervisor_list_all_domains(f.h, 0, &l, &n, &e));
        for (size_t i = 0; i < n; i++)
                if (streq(l[i].ref.name, "behind1")) {
                        found = true;
                        ASSERT_EQ(l[i].ref.id, id);
                        ASSERT_FALSE(l[i].persistent);
                }
        hv_domain_summaries_free(l, n);
        ASSERT_TRUE(found);

        ASSERT_OK(hypervisor_lookup_by_id(f.h, id, &ref, &e));
        ASSERT_STREQ(ref.name, "behind1");
        ASSERT_OK(hypervisor_domain_get_def(f.h, &ref, 0, &def, &e));
        ASSERT_STREQ(def->name, "behind1");
        ASSERT_EQ(def->id, id);

        ASSERT_EQ(xsim_ctl(&f.x, NULL, "domain destroy behind1"), 0);
        ms = wait_event(f.h, &s, "behind1", XVP_DOMAIN_EVENT_STOPPED, XVP_DOMAIN_EVENT_STOPPED_DESTROYED);
        ASSERT_GE(ms, 0);

        /* Migration v1 is XenD's. */
        ASSERT_TRUE(hypervisor_domain_migrate_perform(f.h, &ref, "otherhost", 0, &e) < 0);
        ASSERT_EQ(e.code, XVP_ERR_NO_SUPPORT);
        xv_error_done(&e);

        hv_domain_ref_done(&ref);
        seen_done(&s);
        fixture_down(&f);
}

/* Many running domains: each found by name, uuid and id in the name table (hashed three ways)
 * with no hypercall, a destroyed one no longer found while the others still are. */
TEST(running_names_by_name_uuid_id) {
        enum { N_DOMAINS = 48 };
        int ids[N_DOMAINS];
        XvUuid uuids[N_DOMAINS];
        XvError e = XV_ERROR_NULL;
        HvDomainRef ref = {};
        Fixture f;
        Seen s = {};

        fixture_up(&f);
        ASSERT_OK(hypervisor_set_event_callback(f.h, on_event, &s));
        for (unsigned i = 0; i < N_DOMAINS; i++) {
                char name[32];

                (void) snprintf(name, sizeof(name), "many%02u", i);
                ids[i] = xsim_create_domain(&f.x, name, 64, 1);
                ASSERT_GT(ids[i], 0);
        }
        ASSERT_GE(wait_event(f.h, &s, "many47", XVP_DOMAIN_EVENT_STARTED, XVP_DOMAIN_EVENT_STARTED_BOOTED), 0);
        drain_events(f.h);

        xsim_hv_reset(&f.x);
        for (unsigned i = 0; i < N_DOMAINS; i++) {
                char name[32];

                (void) snprintf(name, sizeof(name), "many%02u", i);
                ASSERT_OK(hypervisor_lookup_by_name(f.h, name, &ref, &e));
                ASSERT_STREQ(ref.name, name);
                ASSERT_EQ(ref.id, ids[i]);
                uuids[i] = ref.uuid;
                hv_domain_ref_done(&ref);
        }
        for (unsigned i = 0; i < N_DOMAINS; i++) {
                char name[32];

                (void) snprintf(name, sizeof(name), "many%02u", i);
                ASSERT_OK(hypervisor_lookup_by_uuid(f.h, &uuids[i], &ref, &e));
                ASSERT_STREQ(ref.name, name);
                ASSERT_EQ(ref.id, ids[i]);
                hv_domain_ref_done(&ref);
                ASSERT_OK(hypervisor_lookup_by_id(f.h, ids[i], &ref, &e));
                ASSERT_STREQ(ref.name, name);
                ASSERT_TRUE(uuid_equal(&ref.uuid, &uuids[i]));
                hv_domain_ref_done(&ref);
        }
        /* Distinct domains, distinct uuids: no two lookups collapsed onto one entry. */
        for (unsigned i = 1; i < N_DOMAINS; i++)
                ASSERT_FALSE(uuid_equal(&uuids[i], &uuids[i - 1]));
        ASSERT_EQ(xsim_hv_count(&f.x, "total"), 0u);

        ASSERT_EQ(xsim_ctl(&f.x, NULL, "domain destroy many17"), 0);
        ASSERT_GE(wait_event(f.h, &s, "many17", XVP_DOMAIN_EVENT_STOPPED, XVP_DOMAIN_EVENT_STOPPED_DESTROYED), 0);
        ASSERT_TRUE(hypervisor_lookup_by_name(f.h, "many17", &ref, &e) < 0);
        ASSERT_EQ(e.code, XVP_ERR_NO_DOMAIN);
        xv_error_done(&e);
        ASSERT_TRUE(hypervisor_lookup_by_uuid(f.h, &uuids[17], &ref, &e) < 0);
        ASSERT_EQ(e.code, XVP_ERR_NO_DOMAIN);
        xv_error_done(&e);
        ASSERT_OK(hypervisor_lookup_by_name(f.h, "many18", &ref, &e));
        ASSERT_EQ(ref.id, ids[18]);
        hv_domain_ref_done(&ref);

        seen_done(&s);
        fixture_down(&f);
}

/* getinfo, state and is-active of running domains from one shared hypervisor list. */
TEST(info_snapshot_shared) {
        static const char *const names[] = { "snap1", "snap2", "snap3" };
        HvDomainRef refs[ELEMENTSOF(names)] = {};
        XvError e = XV_ERROR_NULL;
        HvDomainInfo info;
        uint64_t lists = 0, ones = 0, elapsed_ms = 0;
        int state, reason;
        bool active;
        Fixture f;
        Seen s = {};

        fixture_up(&f);
        ASSERT_OK(hypervisor_set_event_callback(f.h, on_event, &s));
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                ASSERT_GT(xsim_create_domain(&f.x, names[i], 128, 2), 0);
                ASSERT_GE(wait_event(f.h, &s, names[i], XVP_DOMAIN_EVENT_STARTED, XVP_DOMAIN_EVENT_STARTED_BOOTED), 0);
                ASSERT_OK(hypervisor_lookup_by_name(f.h, names[i], &refs[i], &e));
        }

        /* 300 reads: at most one list per age window the burst spans, and no hypercall of its
         * own for any call (measured again should a watch event arrive in between). */
        for (unsigned attempt = 0; attempt < WARM_ATTEMPTS; attempt++) {
                uint64_t start;

                drain_events(f.h);
                xsim_hv_reset(&f.x);
                start = xsim_now_ms();
                for (unsigned k = 0; k < 100; k++)
                        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                                ASSERT_OK(hypervisor_domain_get_info(f.h, &refs[i], &info, &e));
                                ASSERT_EQ(info.state == XVP_DOMAIN_RUNNING || info.state == XVP_DOMAIN_BLOCKED, true);
                                ASSERT_EQ(info.max_memory_kib, 128 * 1024);
                                ASSERT_EQ(info.nr_vcpus, 2);
                        }
                elapsed_ms = xsim_now_ms() - start;
                lists = xsim_hv_count(&f.x, "sysctl getdomaininfolist");
                ones = xsim_hv_count(&f.x, "sysctl getdomaininfolist one");
                if (ones == 0)
                        break;
        }
        printf("# 300 getinfo: %" PRIu64 " lists, %" PRIu64 " single-domain hypercalls in %" PRIu64 " ms\n",
               lists, ones, elapsed_ms);
        ASSERT_EQ(ones, 0);
        ASSERT_GE(lists, 1);
        /* XVB_INFO_MAX_AGE_USEC is 1 ms: one list per started millisecond, at most. */
        ASSERT_LE(lists, elapsed_ms + 1);
        ASSERT_LT(lists, 300);

        /* Paused behind the backend's back (no watch fires): shows once the snapshot aged. */
        ASSERT_EQ(xsim_ctl(&f.x, NULL, "domain pause snap2"), 0);
        {
                uint64_t start = xsim_now_ms();

                do
                        ASSERT_OK(hypervisor_domain_get_state(f.h, &refs[1], &state, &reason, &e));
                while (state != XVP_DOMAIN_PAUSED && xsim_now_ms() - start < EVENT_WAIT_MS);
                ASSERT_EQ(state, XVP_DOMAIN_PAUSED);
        }
        /* Resumed through the backend: the very next read says so. */
        if (hypervisor_domain_resume(f.h, &refs[1], &e) >= 0) {
                ASSERT_OK(hypervisor_domain_get_state(f.h, &refs[1], &state, &reason, &e));
                ASSERT_NE(state, XVP_DOMAIN_PAUSED);
                ASSERT_EQ(reason, XVP_DOMAIN_RUNNING_UNPAUSED);
        } else {
                printf("# resume through libxl failed in the simulation: %s\n", strnull(e.message));
                xv_error_done(&e);
        }

        /* Destroyed behind the backend's back: inactive (and unknown) once @releaseDomain was seen. */
        ASSERT_EQ(xsim_ctl(&f.x, NULL, "domain destroy snap3"), 0);
        ASSERT_GE(wait_event(f.h, &s, "snap3", XVP_DOMAIN_EVENT_STOPPED, XVP_DOMAIN_EVENT_STOPPED_DESTROYED), 0);
        {
                XvError e2 = XV_ERROR_NULL;

                ASSERT_TRUE(hypervisor_domain_is_active(f.h, &refs[2], &active, &e2) < 0);
                ASSERT_EQ(e2.code, XVP_ERR_NO_DOMAIN);
                xv_error_done(&e2);
        }
        ASSERT_OK(hypervisor_domain_is_active(f.h, &refs[0], &active, &e));
        ASSERT_TRUE(active);

        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                hv_domain_ref_done(&refs[i]);
        seen_done(&s);
        xv_error_done(&e);
        fixture_down(&f);
}

/* Hypercalls one dumpxml of @ref makes. */
static uint64_t xml_cost(Fixture *f, const HvDomainRef *ref, unsigned flags, char **ret) {
        XvError e = XV_ERROR_NULL;
        char *xml = NULL;

        xsim_hv_reset(&f->x);
        if (hypervisor_domain_get_xml(f->h, ref, flags, &xml, &e) < 0)
                test_fail(__FILE__, __LINE__, "get_xml: %s", strnull(e.message));
        if (ret)
                *ret = xml;
        else
                free(xml);
        /* The shared snapshot's list is the resolution's, not dumpxml's own. */
        return xsim_hv_count(&f->x, "total") - xsim_hv_count(&f->x, "sysctl getdomaininfolist");
}

/* The hypercalls of a dumpxml right after one that filled the cache: measured again (a bounded
 * number of times) when the two were further apart than the entries' age bound. */
static uint64_t xml_warm_cost(Fixture *f, const HvDomainRef *ref, unsigned flags) {
        uint64_t n = UINT64_MAX;

        for (unsigned attempt = 0; attempt < WARM_ATTEMPTS; attempt++) {
                uint64_t start;

                drain_events(f->h);
                start = xsim_now_ms();
                (void) xml_cost(f, ref, flags, NULL);
                n = xml_cost(f, ref, flags, NULL);
                if (n == 0 || xsim_now_ms() - start < XML_MAX_AGE_MS)
                        return n;
        }
        return n;
}

TEST(dumpxml_cache) {
        _cleanup_(domain_def_freep) DomainDef *def = NULL;
        _cleanup_(xenstore_closep) XsChannel *xs = NULL;
        _cleanup_free_ char *xml = NULL, *path = NULL;
        XvError e = XV_ERROR_NULL;
        HvDomainRef ref = {}, ref2 = {};
        uint64_t cold;
        Fixture f;
        Seen s = {};
        int id;

        fixture_up(&f);
        ASSERT_OK(hypervisor_set_event_callback(f.h, on_event, &s));
        id = xsim_create_domain(&f.x, "xml1", 128, 2);
        ASSERT_GT(id, 0);
        ASSERT_GE(wait_event(f.h, &s, "xml1", XVP_DOMAIN_EVENT_STARTED, XVP_DOMAIN_EVENT_STARTED_BOOTED), 0);
        ASSERT_OK(hypervisor_lookup_by_name(f.h, "xml1", &ref, &e));
        drain_events(f.h);

        /* Cold: libxl's record (absent for a domain xensim made) and the hypervisor's numbers. */
        cold = xml_cost(&f, &ref, 0, &xml);
        printf("# dumpxml cold: %" PRIu64 " hypercalls\n", cold);
        ASSERT_GT(cold, 0);
        ASSERT_NOT_NULL(strstr(xml, "<name>xml1</name>"));
        xml = mfree(xml);
        /* Warm: none, whatever the flags (each its own text). */
        ASSERT_EQ(xml_warm_cost(&f, &ref, 0), 0);
        ASSERT_EQ(xml_warm_cost(&f, &ref, HV_XML_SECURE), 0);
        ASSERT_EQ(xml_warm_cost(&f, &ref, HV_XML_INACTIVE), 0);
        ASSERT_OK(hypervisor_domain_get_xml(f.h, &ref, HV_XML_INACTIVE, &xml, &e));
        ASSERT_NULL(strstr(xml, " id="));
        xml = mfree(xml);
        ASSERT_OK(hypervisor_domain_get_xml(f.h, &ref, 0, &xml, &e));
        ASSERT_NOT_NULL(strstr(xml, " id="));
        xml = mfree(xml);

        /* A change through the backend shows in the very next dumpxml: a definition for the
         * running domain (its uuid) makes it persistent, and its XML the stored definition. */
        ASSERT_EQ(xml_warm_cost(&f, &ref, 0), 0);
        def = make_def("xml1", "00000000-0000-0000-0000-000000000000");
        def->uuid = ref.uuid;
        ASSERT_OK(hypervisor_domain_define(f.h, def, NULL, &e));
        ASSERT_OK(hypervisor_domain_get_xml(f.h, &ref, 0, &xml, &e));
        ASSERT_NOT_NULL(strstr(xml, "<kernel>/boot/vmlinuz</kernel>"));
        xml = mfree(xml);
        ASSERT_OK(hypervisor_domain_undefine(f.h, &ref, 0, &e));
        ASSERT_OK(hypervisor_domain_get_xml(f.h, &ref, 0, &xml, &e));
        ASSERT_NULL(strstr(xml, "<kernel>"));
        xml = mfree(xml);

        /* Renamed behind the backend's back (a xenstore write, as another tool would): the watch
         * on /local/domain drops the text, so the new name shows as soon as the event was
         * processed. Checked when that came before the entry's age bound (else only eventually). */
        ASSERT_OK(xenstore_open(false, &xs, &e));
        ASSERT_TRUE(asprintf(&path, "/local/domain/%d/name", id) >= 0);
        {
                uint64_t filled = xsim_now_ms(), start;
                struct pollfd p = { .fd = hypervisor_event_fd(f.h), .events = POLLIN };
                bool renamed = false;

                ASSERT_EQ(xml_warm_cost(&f, &ref, 0), 0);
                ASSERT_OK(xenstore_write(xs, path, "xml1-renamed", &e));
                ASSERT_EQ(poll(&p, 1, EVENT_WAIT_MS), 1);
                ASSERT_TRUE(hypervisor_process_events(f.h) >= 0);
                ASSERT_OK(hypervisor_domain_get_xml(f.h, &ref, 0, &xml, &e));
                renamed = strstr(xml, "<name>xml1-renamed</name>");
                xml = mfree(xml);
                if (xsim_now_ms() - filled < XML_MAX_AGE_MS)
                        ASSERT_TRUE(renamed);
                start = xsim_now_ms();
                while (!renamed && xsim_now_ms() - start < EVENT_WAIT_MS) {
                        drain_events(f.h);
                        ASSERT_OK(hypervisor_domain_get_xml(f.h, &ref, 0, &xml, &e));
                        renamed = strstr(xml, "<name>xml1-renamed</name>");
                        xml = mfree(xml);
                }
                ASSERT_TRUE(renamed);
        }
        ASSERT_OK(hypervisor_lookup_by_name(f.h, "xml1-renamed", &ref2, &e));
        ASSERT_EQ(ref2.id, id);

        hv_domain_ref_done(&ref);
        hv_domain_ref_done(&ref2);
        seen_done(&s);
        xv_error_done(&e);
        fixture_down(&f);
}

TEST(read_only_refuses_writes) {
        _cleanup_(domain_def_freep) DomainDef *def = make_def("ro1", "9a0c4f2e-0d1e-4b9c-9a3b-2b5e0e6f7a12");
        HvConfig cfg = { .backend = HV_BACKEND_LIBXL, .read_only = true };
        _cleanup_free_ char *xl = NULL;
        XvHypervisor *h = NULL;
        XvError e = XV_ERROR_NULL;
        XsimInstance x;

        xsim_start(&x, modern_args);
        ASSERT_TRUE(asprintf(&xl, "%s/xl", x.dir) >= 0);
        cfg.xl_dir = xl;
        if (hypervisor_open(&cfg, &h, &e) < 0)
                test_fail(__FILE__, __LINE__, "hypervisor_open: %s", strnull(e.message));
        ASSERT_TRUE(hypervisor_domain_define(h, def, NULL, &e) < 0);
        ASSERT_EQ(e.code, XVP_ERR_OPERATION_DENIED);
        xv_error_done(&e);
        h = hypervisor_close(h);
        xsim_stop(&x);
}

int main(int argc, char *argv[]) {
        /* The replacement libxencall must be found by the dynamic linker, which reads
         * LD_LIBRARY_PATH only at startup: re-execute once with it set. */
        if (!getenv("XV_TEST_LIBXL_REEXEC")) {
                _cleanup_free_ char *libs = NULL, *path = NULL;
                const char *old = getenv("LD_LIBRARY_PATH");
                char self[4096];
                ssize_t l;

                if (asprintf(&libs, "%s/tests/xensim/hv/.libs", xsim_builddir()) < 0 ||
                    asprintf(&path, "%s%s%s", libs, old ? ":" : "", strempty(old)) < 0)
                        return EXIT_FAILURE;
                if (setenv("LD_LIBRARY_PATH", path, 1) < 0 || setenv("XV_TEST_LIBXL_REEXEC", "1", 1) < 0)
                        return EXIT_FAILURE;
                l = readlink("/proc/self/exe", self, sizeof(self) - 1);
                if (l <= 0)
                        return EXIT_FAILURE;
                self[l] = 0;
                execv(self, argv);
                fprintf(stderr, "Cannot re-execute: %m\n");
                return EXIT_FAILURE;
        }
        return test_main(argc, argv);
}
