/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * xensim's control socket: fault injection and guest-side events for the tests. A line protocol
 * on a UNIX stream socket, one command per line; every command is answered by zero or more lines
 * of output followed by "OK" or "ERR <message>". See xsim_control_commands in xsim-control.c
 * (and "help") for the commands.
 */

#include <stdbool.h>

#include "xsim-state.h"

#define XSIM_CONTROL_LINE_MAX           4096    /* bytes of one command line */
#define XSIM_CONTROL_CLIENTS_MAX        64
#define XSIM_CONTROL_WORDS_MAX          8

typedef struct XsimControl XsimControl;
struct StrBuf;

/* The servers whose switches are more than a flag in XsimFaults: turning XenD or xenstore absent
 * closes their listening sockets. Both hooks may be NULL (the server is not running). */
typedef struct XsimControlHooks {
        int (*xend_set_absent)(void *userdata, bool absent);
        void *xend;
        int (*xenstore_set_absent)(void *userdata, bool absent);
        size_t (*xenstore_count_watches)(void *userdata, const char *path);
        void *xenstore;
        /* "hv stats [reset]": the hypercall counters (xsim_hv_stats()); NULL: no hypervisor. */
        void (*hv_stats)(void *userdata, bool reset, struct StrBuf *out);
        void *hv;
} XsimControlHooks;

int xsim_control_new(XsimHost *host, const char *socket_path, const XsimControlHooks *hooks,
                     XsimControl **ret);
XsimControl *xsim_control_free(XsimControl *c);
DEFINE_CLEANUP_FUNC(XsimControl *, xsim_control_free);

/* Runs one command line and appends its output (without the final OK/ERR line) to @out, which
 * must be a StrBuf. Returns 0 or a negative errno with @error set. Exposed for tests. */
struct StrBuf;
int xsim_control_run(XsimControl *c, const char *line, struct StrBuf *out, XvError *error);

/* XenD request accounting for the O(1) checks (tests/integration/t0660): xsim-xend.c reports every
 * request it serves, keyed by "METHOD PATH" plus " op=OP" when the request names an operation;
 * "xend stats" lists the counters, "xend stats reset" zeroes them. One simulated host per process,
 * so the table is the process's. Keys beyond XSIM_XEND_STATS_KEYS_MAX are counted as "other". */
#define XSIM_XEND_STATS_KEYS_MAX        1024
#define XSIM_XEND_STATS_KEY_MAX         256     /* bytes of one key; longer ones are cut */
void xsim_control_count_xend_request(const char *method, const char *path, const char *op);

/* Creates a minimal PV domain ("domain create" and xensim --domains): a (vm ...) configuration
 * with a kernel, one xvda disk and one vif, memory and vcpus as given; it is unpaused unless
 * @paused, so it is running like a freshly booted guest. */
#define XSIM_CONTROL_DOMAIN_MEMORY_MIB_MAX      (1024 * 1024)
int xsim_control_create_domain(XsimHost *host, const char *name, unsigned memory_mib, unsigned vcpus,
                               bool paused, XsimDomain **ret, XvError *error);
