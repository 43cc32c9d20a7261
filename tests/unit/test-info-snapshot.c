/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * src/xen/xv-backend-common.c, the shared hypervisor snapshot (XvbInfoCache): served while it is
 * no older than its bound, refreshed once when older (when enough calls come to pay for a list of
 * the host's size), dropped by every invalidation, and a domain it does not hold (or holds under
 * another uuid) left to the caller. The clock and the
 * hypervisor's list are the test's own: nothing here depends on time passing.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "tests.h"
#include "xv-alloc.h"
#include "xv-backend-common.h"

/* The fake clock (µs) and the fake hypervisor: domains 0..n_domains-1, state and cpu time set by
 * the test; every list is counted. */
static uint64_t fake_now;
static unsigned n_domains = 3;
static int fake_state = XVP_DOMAIN_RUNNING;
static unsigned n_lists;
static int list_error;
static uint64_t list_duration;                  /* the fake clock advances this much per list */
static void (*during_list)(void);               /* called inside a list, without the lock held */

static uint64_t fake_clock(void) {
        return fake_now;
}

static XvUuid uuid_of(int domid) {
        XvUuid u = {};

        u.bytes[0] = 0x6f;
        u.bytes[15] = (uint8_t) domid;
        return u;
}

static int fake_list(void *userdata, HcallDomainInfo **ret, size_t *ret_n) {
        HcallDomainInfo *l;

        ASSERT_TRUE(userdata == &n_domains);
        n_lists++;
        if (during_list)
                during_list();
        if (list_error < 0)
                return list_error;
        l = new0(HcallDomainInfo, n_domains + 1);
        if (!l)
                return -ENOMEM;
        for (unsigned i = 0; i < n_domains; i++)
                l[i] = (HcallDomainInfo) {
                        .domid = (int) i,
                        .uuid = uuid_of((int) i),
                        .state = fake_state,
                        .cpu_time_ns = fake_now,        /* tells which list answered */
                };
        *ret = l;
        *ret_n = n_domains;
        fake_now += list_duration;
        return 0;
}

static void reset(XvbInfoCache *c) {
        fake_now = 1000000;
        n_domains = 3;
        fake_state = XVP_DOMAIN_RUNNING;
        n_lists = 0;
        list_error = 0;
        list_duration = 0;
        during_list = NULL;
        xvb_info_cache_init(c, fake_clock, XVB_INFO_MAX_AGE_USEC);
}

TEST(served_within_the_bound_refreshed_after) {
        XvbInfoCache c;
        HcallDomainInfo info;
        XvUuid u = uuid_of(1);

        reset(&c);
        /* The first call lists; every call within the bound (inclusive) is served from it. */
        ASSERT_OK(xvb_info_cache_get(&c, fake_list, &n_domains, 1, &u, &info));
        ASSERT_EQ(n_lists, 1u);
        ASSERT_EQ(info.domid, 1);
        ASSERT_EQ(info.cpu_time_ns, (uint64_t) 1000000);
        for (unsigned i = 0; i < 100; i++) {
                fake_now = 1000000 + (uint64_t) i * XVB_INFO_MAX_AGE_USEC / 100;
                ASSERT_OK(xvb_info_cache_get(&c, fake_list, &n_domains, (int) (i % 3), NULL, &info));
                ASSERT_EQ(info.cpu_time_ns, (uint64_t) 1000000);
        }
        fake_now = 1000000 + XVB_INFO_MAX_AGE_USEC;
        ASSERT_OK(xvb_info_cache_get(&c, fake_list, &n_domains, 2, NULL, &info));
        ASSERT_EQ(n_lists, 1u);
        ASSERT_EQ(c.n_refreshes, (uint64_t) 1);

        /* One µs past the bound: one refresh, whose stamp starts the next period. */
        fake_now = 1000000 + XVB_INFO_MAX_AGE_USEC + 1;
        fake_state = XVP_DOMAIN_PAUSED;
        ASSERT_OK(xvb_info_cache_get(&c, fake_list, &n_domains, 1, &u, &info));
        ASSERT_EQ(n_lists, 2u);
        ASSERT_EQ(info.state, XVP_DOMAIN_PAUSED);
        ASSERT_EQ(info.cpu_time_ns, fake_now);
        fake_now += XVB_INFO_MAX_AGE_USEC;
        ASSERT_OK(xvb_info_cache_get(&c, fake_list, &n_domains, 1, &u, &info));
        ASSERT_EQ(n_lists, 2u);
        xvb_info_cache_done(&c);
}

TEST(invalidation_refreshes_at_once) {
        XvbInfoCache c;
        HcallDomainInfo info;

        reset(&c);
        ASSERT_OK(xvb_info_cache_get(&c, fake_list, &n_domains, 0, NULL, &info));
        ASSERT_EQ(info.state, XVP_DOMAIN_RUNNING);
        /* A change made through the backend: the next call sees it, without the clock moving. */
        fake_state = XVP_DOMAIN_PAUSED;
        xvb_info_cache_invalidate(&c);
        ASSERT_OK(xvb_info_cache_get(&c, fake_list, &n_domains, 0, NULL, &info));
        ASSERT_EQ(info.state, XVP_DOMAIN_PAUSED);
        ASSERT_EQ(n_lists, 2u);
        /* Invalidations without a call in between cost one list, not one each. */
        for (unsigned i = 0; i < 10; i++)
                xvb_info_cache_invalidate(&c);
        ASSERT_OK(xvb_info_cache_get(&c, fake_list, &n_domains, 0, NULL, &info));
        ASSERT_OK(xvb_info_cache_get(&c, fake_list, &n_domains, 1, NULL, &info));
        ASSERT_EQ(n_lists, 3u);
        xvb_info_cache_done(&c);
}

TEST(missing_or_other_uuid_is_left_to_the_caller) {
        XvbInfoCache c;
        HcallDomainInfo info = { .domid = -7 };
        XvUuid other = uuid_of(9);

        reset(&c);
        /* Not in a fresh snapshot (created a moment ago): -ENOENT, no second list, @ret untouched. */
        ASSERT_ERROR(xvb_info_cache_get(&c, fake_list, &n_domains, 5, NULL, &info), ENOENT);
        ASSERT_EQ(info.domid, -7);
        ASSERT_EQ(n_lists, 1u);
        /* Its id reused by another domain. */
        ASSERT_ERROR(xvb_info_cache_get(&c, fake_list, &n_domains, 1, &other, &info), ENOENT);
        ASSERT_EQ(info.domid, -7);
        ASSERT_EQ(n_lists, 1u);
        /* The domain appears: an invalidation (the @introduceDomain watch) makes it visible. */
        n_domains = 6;
        xvb_info_cache_invalidate(&c);
        ASSERT_OK(xvb_info_cache_get(&c, fake_list, &n_domains, 5, NULL, &info));
        ASSERT_EQ(info.domid, 5);
        xvb_info_cache_done(&c);
}

TEST(list_failure_keeps_nothing) {
        XvbInfoCache c;
        HcallDomainInfo info;

        reset(&c);
        list_error = -EPERM;
        ASSERT_ERROR(xvb_info_cache_get(&c, fake_list, &n_domains, 0, NULL, &info), EPERM);
        ASSERT_ERROR(xvb_info_cache_get(&c, fake_list, &n_domains, 0, NULL, &info), EPERM);
        ASSERT_EQ(n_lists, 2u);
        list_error = 0;
        ASSERT_OK(xvb_info_cache_get(&c, fake_list, &n_domains, 0, NULL, &info));
        ASSERT_EQ(n_lists, 3u);
        /* A failed refresh of an expired snapshot does not serve the expired one. */
        fake_now += XVB_INFO_MAX_AGE_USEC + 1;
        list_error = -EIO;
        ASSERT_ERROR(xvb_info_cache_get(&c, fake_list, &n_domains, 0, NULL, &info), EIO);
        xvb_info_cache_done(&c);
}

TEST(clock_going_backwards_counts_as_expired) {
        XvbInfoCache c;
        HcallDomainInfo info;

        reset(&c);
        ASSERT_OK(xvb_info_cache_get(&c, fake_list, &n_domains, 0, NULL, &info));
        fake_now -= 1;
        ASSERT_OK(xvb_info_cache_get(&c, fake_list, &n_domains, 0, NULL, &info));
        ASSERT_EQ(n_lists, 2u);
        xvb_info_cache_done(&c);
}

TEST(a_list_only_when_the_calls_warrant_it) {
        XvbInfoCache c;
        HcallDomainInfo info;
        unsigned need;

        reset(&c);
        n_domains = 1000;
        need = 1 + 1000 / XVB_INFO_DOMAINS_PER_CALL;
        ASSERT_GT(need, 2u);
        /* Nothing known of the host's size yet: the first call lists (and learns it). */
        ASSERT_OK(xvb_info_cache_get(&c, fake_list, &n_domains, 7, NULL, &info));
        ASSERT_EQ(n_lists, 1u);

        /* Expired: the calls of the new window ask for their domain themselves (-ESTALE) until
         * there are enough of them to pay for a list of 1000 domains. */
        fake_now += XVB_INFO_MAX_AGE_USEC + 1;
        for (unsigned i = 1; i < need; i++)
                ASSERT_ERROR(xvb_info_cache_get(&c, fake_list, &n_domains, 7, NULL, &info), ESTALE);
        ASSERT_EQ(n_lists, 1u);
        ASSERT_OK(xvb_info_cache_get(&c, fake_list, &n_domains, 7, NULL, &info));
        ASSERT_EQ(n_lists, 2u);
        ASSERT_EQ(info.cpu_time_ns, fake_now);
        /* ... and once listed, every call of the window is served from it. */
        for (unsigned i = 0; i < 10 * need; i++)
                ASSERT_OK(xvb_info_cache_get(&c, fake_list, &n_domains, (int) i % 1000, NULL, &info));
        ASSERT_EQ(n_lists, 2u);

        /* A quiet client (one call per window) never pays for a list. */
        for (unsigned i = 0; i < 50; i++) {
                fake_now += XVB_INFO_MAX_AGE_USEC + 1;
                ASSERT_ERROR(xvb_info_cache_get(&c, fake_list, &n_domains, 7, NULL, &info), ESTALE);
        }
        ASSERT_EQ(n_lists, 2u);

        /* An invalidation under load: the busy window lists again at once. */
        fake_now += XVB_INFO_MAX_AGE_USEC + 1;
        for (unsigned i = 1; i < need; i++)
                ASSERT_ERROR(xvb_info_cache_get(&c, fake_list, &n_domains, 7, NULL, &info), ESTALE);
        ASSERT_OK(xvb_info_cache_get(&c, fake_list, &n_domains, 7, NULL, &info));
        ASSERT_EQ(n_lists, 3u);
        xvb_info_cache_invalidate(&c);
        fake_state = XVP_DOMAIN_PAUSED;
        ASSERT_OK(xvb_info_cache_get(&c, fake_list, &n_domains, 7, NULL, &info));
        ASSERT_EQ(info.state, XVP_DOMAIN_PAUSED);
        ASSERT_EQ(n_lists, 4u);
        xvb_info_cache_done(&c);
}

/* Threads hammering one snapshot with the clock standing still: exactly one list, however many
 * callers found it missing at once (one refresh at a time; the callers that came during it were
 * told to ask for their own domain, -ESTALE, then use its result). */
static void *hammer(void *arg) {
        XvbInfoCache *c = arg;

        for (unsigned i = 0; i < 1000; i++) {
                HcallDomainInfo info = { .domid = -1 };
                int r = xvb_info_cache_get(c, fake_list, &n_domains, (int) (i % 3), NULL, &info);

                if (r == -ESTALE)
                        continue;
                if (r < 0 || info.domid != (int) (i % 3))
                        return (void *) 1;
        }
        return NULL;
}

TEST(one_refresh_for_concurrent_callers) {
        XvbInfoCache c;
        pthread_t t[4];

        reset(&c);
        for (unsigned i = 0; i < ELEMENTSOF(t); i++)
                ASSERT_EQ(pthread_create(&t[i], NULL, hammer, &c), 0);
        for (unsigned i = 0; i < ELEMENTSOF(t); i++) {
                void *res = (void *) 1;

                ASSERT_EQ(pthread_join(t[i], &res), 0);
                ASSERT_NULL(res);
        }
        ASSERT_EQ(n_lists, 1u);
        xvb_info_cache_done(&c);
}

/* What other callers see while one lists (the fake list calls back into the cache, as another
 * thread would: the lock is not held across the list). */
static XvbInfoCache *inner_cache;
static int inner_result;

static void call_during_list(void) {
        HcallDomainInfo info;

        inner_result = xvb_info_cache_get(inner_cache, fake_list, &n_domains, 0, NULL, &info);
}

static void invalidate_during_list(void) {
        xvb_info_cache_invalidate(inner_cache);
}

TEST(no_caller_waits_for_a_refresh) {
        XvbInfoCache c;
        HcallDomainInfo info;

        reset(&c);
        inner_cache = &c;
        ASSERT_OK(xvb_info_cache_get(&c, fake_list, &n_domains, 0, NULL, &info));
        /* Expired: the refreshing caller lists; a call that comes meanwhile is not made to wait
         * (nor to list again): it asks for its own domain. */
        fake_now += XVB_INFO_MAX_AGE_USEC + 1;
        during_list = call_during_list;
        inner_result = 1;
        ASSERT_OK(xvb_info_cache_get(&c, fake_list, &n_domains, 1, NULL, &info));
        ASSERT_EQ(inner_result, -ESTALE);
        ASSERT_EQ(n_lists, 2u);
        xvb_info_cache_done(&c);
}

TEST(an_invalidation_overtaking_a_refresh_throws_it_away) {
        XvbInfoCache c;
        HcallDomainInfo info;

        reset(&c);
        inner_cache = &c;
        /* A change lands while the list is being taken: what the list returned may predate it,
         * so it is not kept, and the caller asks for its own domain. */
        during_list = invalidate_during_list;
        ASSERT_ERROR(xvb_info_cache_get(&c, fake_list, &n_domains, 0, NULL, &info), ESTALE);
        ASSERT_EQ(c.n_refreshes, (uint64_t) 0);
        during_list = NULL;
        fake_state = XVP_DOMAIN_PAUSED;
        ASSERT_OK(xvb_info_cache_get(&c, fake_list, &n_domains, 0, NULL, &info));
        ASSERT_EQ(info.state, XVP_DOMAIN_PAUSED);
        ASSERT_EQ(c.n_refreshes, (uint64_t) 1);
        xvb_info_cache_done(&c);
}

TEST(the_maximum_age_follows_the_cost_of_a_list) {
        XvbInfoCache c;
        HcallDomainInfo info;
        uint64_t age, t0;

        reset(&c);
        ASSERT_EQ(xvb_info_cache_max_age(&c), XVB_INFO_MAX_AGE_USEC);
        /* A list that takes 200 µs: the snapshot then lives 20 times that, so that refreshing
         * takes at most ~1/20 of the time. */
        list_duration = 200;
        t0 = fake_now;
        ASSERT_OK(xvb_info_cache_get(&c, fake_list, &n_domains, 0, NULL, &info));
        age = xvb_info_cache_max_age(&c);
        ASSERT_EQ(age, (uint64_t) 200 * XVB_INFO_LIST_COST_FACTOR);
        ASSERT_GT(age, XVB_INFO_MAX_AGE_USEC);
        fake_now = t0 + age;
        ASSERT_OK(xvb_info_cache_get(&c, fake_list, &n_domains, 0, NULL, &info));
        ASSERT_EQ(n_lists, 1u);
        fake_now = t0 + age + 1;
        ASSERT_OK(xvb_info_cache_get(&c, fake_list, &n_domains, 0, NULL, &info));
        ASSERT_EQ(n_lists, 2u);

        /* Capped: a list slowed down to a second does not make the snapshot live 20 s. */
        list_duration = 1000 * 1000;
        fake_now += XVB_INFO_MAX_AGE_CAP_USEC + 1;
        ASSERT_OK(xvb_info_cache_get(&c, fake_list, &n_domains, 0, NULL, &info));
        ASSERT_EQ(xvb_info_cache_max_age(&c), XVB_INFO_MAX_AGE_CAP_USEC);

        /* Cheap lists again: back to the floor. */
        list_duration = 10;
        fake_now += XVB_INFO_MAX_AGE_CAP_USEC + 1;
        ASSERT_OK(xvb_info_cache_get(&c, fake_list, &n_domains, 0, NULL, &info));
        ASSERT_EQ(xvb_info_cache_max_age(&c), XVB_INFO_MAX_AGE_USEC);
        xvb_info_cache_done(&c);
}

DEFINE_TEST_MAIN
