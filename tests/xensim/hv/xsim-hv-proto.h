/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The wire protocol between the replacement libxencall.so.1 (tests/xensim/hv/xencall.c, loaded
 * beneath the real libxenctrl with LD_LIBRARY_PATH) and xensim's hypervisor (tests/xensim/xsim-hv.c).
 *
 * Transport: an AF_UNIX SOCK_SEQPACKET socket named by $XENSIM_HV_SOCKET, one connection per
 * xencall handle. Every message is exactly one fixed-size record, so a short or long record is a
 * protocol violation and the server drops the connection.
 *
 * Hypercall buffers: libxenctrl hands the hypervisor guest handles, which are plain pointers into
 * buffers it got from xencall_alloc_buffer(_pages). The replacement library carves every such
 * buffer out of one "arena", a sealed memfd of XSIM_HV_ARENA_SIZE bytes mapped MAP_SHARED. The
 * first record on a connection (XSIM_HV_MSG_HELLO) passes that memfd with SCM_RIGHTS together with
 * the address the client mapped it at; the server maps the same memfd and translates each guest
 * address by its offset from that base. The hypercall itself (XSIM_HV_MSG_CALL) is therefore just
 * the op number and its five register arguments, and the server decodes domctl/sysctl/xen_version
 * exactly as Xen does: a guest address outside the arena fails with -EFAULT, as an unmapped guest
 * address does on real hardware. This keeps all knowledge of Xen's structures on the server side.
 *
 * Replies carry the hypercall's return value: >= 0 is the result, < 0 a negative errno (the
 * library turns it into -1 + errno as the privcmd ioctl does).
 */

#include <stdint.h>

#define XSIM_HV_MAGIC           UINT32_C(0x4d564858)    /* "XHVM" little endian */
#define XSIM_HV_PROTO_VERSION   1

/* The arena: 64 MiB of (sparse) shared memory per handle. The largest buffer libxenctrl asks for
 * in practice is the getdomaininfolist array (XSIM_DOMAINS_MAX entries of 256 bytes = 4 MiB). */
#define XSIM_HV_PAGE_SIZE       4096
#define XSIM_HV_ARENA_SIZE      (UINT64_C(64) * 1024 * 1024)
#define XSIM_HV_ARENA_PAGES     (XSIM_HV_ARENA_SIZE / XSIM_HV_PAGE_SIZE)

#define XSIM_HV_HYPERCALL_ARGS  5

typedef enum XsimHvMsgType {
        XSIM_HV_MSG_HELLO = 1,          /* client → server, carries the arena memfd */
        XSIM_HV_MSG_CALL = 2,           /* client → server */
        XSIM_HV_MSG_REPLY = 3,          /* server → client, answers HELLO and CALL */
} XsimHvMsgType;

typedef struct XsimHvRequest {
        uint32_t magic;                 /* XSIM_HV_MAGIC */
        uint32_t type;                  /* XSIM_HV_MSG_HELLO or XSIM_HV_MSG_CALL */
        uint32_t version;               /* HELLO: XSIM_HV_PROTO_VERSION */
        uint32_t pad;
        uint64_t arena_base;            /* HELLO: the client's address of the arena */
        uint64_t arena_size;            /* HELLO: must equal XSIM_HV_ARENA_SIZE */
        uint64_t op;                    /* CALL: __HYPERVISOR_* */
        uint64_t args[XSIM_HV_HYPERCALL_ARGS];  /* CALL: the register arguments */
} XsimHvRequest;

typedef struct XsimHvReply {
        uint32_t magic;                 /* XSIM_HV_MAGIC */
        uint32_t type;                  /* XSIM_HV_MSG_REPLY */
        int64_t ret;                    /* >= 0 result, < 0 negative errno */
} XsimHvReply;

_Static_assert(sizeof(XsimHvRequest) == 80, "XsimHvRequest layout");
_Static_assert(sizeof(XsimHvReply) == 16, "XsimHvReply layout");
