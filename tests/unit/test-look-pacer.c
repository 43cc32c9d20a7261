/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * src/xen/xv-backend-common.c, XvbLookPacer: a look that watch events ask for is due once
 * XVB_LOOK_GAP_FACTOR times the last look's duration has passed since it ended (capped); until
 * then the backend's poll timer is set to fire once when it is due, and after the deferred look
 * the timer takes up its period again in its old phase. The times passed in are the test's own
 * (the timerfd is real, read back with timerfd_gettime()): nothing here waits for time to pass.
 */
#include <errno.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "tests.h"
#include "xv-backend-common.h"

#define POLL_USEC (2ULL * 1000 * 1000)
#define SLACK_USEC 20000        /* the timer's own clock runs on while the test looks at it */

typedef struct Timer {
        int fd;
} Timer;

static void timer_open(Timer *t) {
        struct itimerspec its = { .it_value = { .tv_sec = 2 }, .it_interval = { .tv_sec = 2 } };

        t->fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        ASSERT_GE(t->fd, 0);
        ASSERT_OK(timerfd_settime(t->fd, 0, &its, NULL));
}

static uint64_t usec_of(const struct timespec *ts) {
        return (uint64_t) ts->tv_sec * 1000000 + (uint64_t) ts->tv_nsec / 1000;
}

/* A pacer over a fresh timer of period POLL_USEC. */
static void pacer_open(Timer *t, XvbLookPacer *p) {
        timer_open(t);
        xvb_look_pacer_init(p, t->fd, POLL_USEC);
}

/* The timer's next expiry (µs from now) and its period. */
static void timer_get(const Timer *t, uint64_t *next, uint64_t *period) {
        struct itimerspec its;

        ASSERT_OK(timerfd_gettime(t->fd, &its));
        *next = usec_of(&its.it_value);
        *period = usec_of(&its.it_interval);
}

TEST(first_look_and_a_look_after_the_gap_are_due) {
        XvbLookPacer p;
        Timer t;

        pacer_open(&t, &p);
        ASSERT_TRUE(xvb_look_due(&p, 1000000));         /* no look yet */
        xvb_look_done(&p, 1000000, 1001000);            /* 1 ms: the gap is 20 ms */
        ASSERT_TRUE(xvb_look_due(&p, 1001000 + 20 * 1000));
        ASSERT_TRUE(xvb_look_due(&p, 1001000 + 500 * 1000));
        ASSERT_FALSE(p.deferred);
        close(t.fd);
}

TEST(a_look_within_the_gap_waits_for_the_timer) {
        uint64_t next, period, end = 5000000;
        XvbLookPacer p;
        Timer t;

        pacer_open(&t, &p);
        xvb_look_done(&p, end - 2000, end);             /* 2 ms: the gap is 40 ms */

        ASSERT_FALSE(xvb_look_due(&p, end + 10000));    /* 10 ms after: 30 ms to go */
        ASSERT_TRUE(p.deferred);
        timer_get(&t, &next, &period);
        ASSERT_EQ(period, 0u);                          /* once */
        ASSERT_LE(next, 30000u);
        ASSERT_GT(next, 30000u - SLACK_USEC);

        /* Asked again before then: still owed, the timer is left as it is. */
        ASSERT_FALSE(xvb_look_due(&p, end + 20000));
        timer_get(&t, &next, &period);
        ASSERT_EQ(period, 0u);
        ASSERT_LE(next, 30000u);
        close(t.fd);
}

TEST(after_the_deferred_look_the_period_resumes_in_phase) {
        uint64_t next, period, before, end = 7000000;
        XvbLookPacer p;
        Timer t;

        pacer_open(&t, &p);
        xvb_look_done(&p, end - 1000, end);
        timer_get(&t, &before, &period);
        ASSERT_EQ(period, POLL_USEC);

        ASSERT_FALSE(xvb_look_due(&p, end + 1000));
        /* Where the periodic tick was to come, relative to the test's clock. */
        ASSERT_LE(p.next_tick, end + 1000 + before);
        ASSERT_GE(p.next_tick + SLACK_USEC, end + 1000 + before);

        xvb_look_done(&p, end + 20000, end + 21000);    /* the owed look, made when due */
        ASSERT_FALSE(p.deferred);
        timer_get(&t, &next, &period);
        ASSERT_EQ(period, POLL_USEC);
        /* Next tick = the old one: from end + 21 ms it is (old tick - 21 ms) away. */
        ASSERT_LE(next, p.next_tick - (end + 21000));
        ASSERT_GE(next + SLACK_USEC, p.next_tick - (end + 21000));
        close(t.fd);
}

TEST(a_tick_that_passed_meanwhile_moves_by_whole_periods) {
        uint64_t next, period, end = 9000000;
        XvbLookPacer p;
        Timer t;

        pacer_open(&t, &p);
        xvb_look_done(&p, end - 1000, end);
        ASSERT_FALSE(xvb_look_due(&p, end + 1000));
        /* The owed look ends 3.5 periods after the tick that was due: the next one is half a
         * period away. */
        xvb_look_done(&p, p.next_tick + 3 * POLL_USEC, p.next_tick + 3 * POLL_USEC + POLL_USEC / 2);
        timer_get(&t, &next, &period);
        ASSERT_EQ(period, POLL_USEC);
        ASSERT_LE(next, POLL_USEC / 2);
        ASSERT_GE(next + SLACK_USEC, POLL_USEC / 2);
        close(t.fd);
}

TEST(the_gap_is_capped) {
        XvbLookPacer p;
        Timer t;

        pacer_open(&t, &p);
        xvb_look_done(&p, 0, 10ULL * 1000 * 1000);      /* a 10-s look: 200 s by the factor */
        ASSERT_FALSE(xvb_look_due(&p, 10ULL * 1000 * 1000 + XVB_LOOK_GAP_MAX_USEC - 1));
        xvb_look_done(&p, 0, 10ULL * 1000 * 1000);
        ASSERT_TRUE(xvb_look_due(&p, 10ULL * 1000 * 1000 + XVB_LOOK_GAP_MAX_USEC));
        close(t.fd);
}

TEST(without_a_timer_a_look_is_never_deferred) {
        XvbLookPacer p;

        xvb_look_pacer_init(&p, -EBADF, POLL_USEC);
        xvb_look_done(&p, 0, 1000000);
        ASSERT_TRUE(xvb_look_due(&p, 1000001));
        ASSERT_FALSE(p.deferred);
}

TEST(a_clock_going_backwards_looks) {
        XvbLookPacer p;
        Timer t;

        pacer_open(&t, &p);
        xvb_look_done(&p, 5000000, 5001000);
        ASSERT_TRUE(xvb_look_due(&p, 4000000));
        close(t.fd);
}

DEFINE_TEST_MAIN
