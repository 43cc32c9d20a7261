/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The wire-ABI lock, layer b: golden encodings of representative frames (the .bin files next to this one),
 * each checked as encode -> compare -> decode -> re-encode; the bounds of the .x enforced in both
 * directions; framing and classification errors with libvirtd's texts; frames recorded from
 * stock clients (reference/protocol.md) decoded with our filters; and the generated dispatch
 * table, compiled here with stub handlers. XV_TEST_REGENERATE=1 rewrites the .bin files.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests.h"
#include "xv-alloc.h"
#include "xv-fileio.h"
#include "xv-message.h"
#include "xvd-dispatch-table.h"

#define GOLDEN_SIZE_MAX (1024 * 1024)

static char *S(const char *s) {
        return (char *) s;      /* rpcgen strings are char *; the encoder never writes to them */
}

static void put32(uint8_t *p, uint32_t v) {
        p[0] = (uint8_t) (v >> 24);
        p[1] = (uint8_t) (v >> 16);
        p[2] = (uint8_t) (v >> 8);
        p[3] = (uint8_t) v;
}

static int nibble(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* Parses hex digits, ignoring blanks (the word-grouped dumps of protocol.md). */
static uint8_t *hex(const char *s, size_t *ret_size) {
        uint8_t *buf = calloc(1, strlen(s) / 2 + 1);
        size_t n = 0;
        int hi = -1;

        ASSERT_NOT_NULL(buf);
        for (; *s; s++) {
                int v;

                if (*s == ' ' || *s == '\n')
                        continue;
                v = nibble(*s);
                ASSERT_GE(v, 0);
                if (hi < 0)
                        hi = v;
                else {
                        buf[n++] = (uint8_t) (hi << 4 | v);
                        hi = -1;
                }
        }
        ASSERT_EQ(hi, -1);
        *ret_size = n;
        return buf;
}

static void uuid_fill(char uuid[static XVP_UUID_BUFLEN], uint8_t first) {
        for (size_t i = 0; i < XVP_UUID_BUFLEN; i++)
                uuid[i] = (char) (first + i);
}

/* A frame from a header and raw payload bytes, built by hand (to test the decoder on input our
 * encoder would refuse to produce). */
static Message *frame_raw(const xvp_message_header *h, const void *payload, size_t size) {
        _cleanup_(message_freep) Message *m = NULL;
        _cleanup_free_ uint8_t *buf = NULL;

        ASSERT_OK(message_encode(h, NULL, NULL, &m, NULL));
        buf = malloc(MESSAGE_FRAME_MIN + size);
        ASSERT_NOT_NULL(buf);
        memcpy(buf, m->frame, MESSAGE_FRAME_MIN);
        if (size > 0)
                memcpy(buf + MESSAGE_FRAME_MIN, payload, size);
        put32(buf, (uint32_t) (MESSAGE_FRAME_MIN + size));
        message_free(TAKE_PTR(m));
        ASSERT_OK(message_from_frame(buf, MESSAGE_FRAME_MIN + size, &m, NULL));
        return TAKE_PTR(m);
}

static void assert_header_eq(const xvp_message_header *a, const xvp_message_header *b) {
        ASSERT_EQ(a->prog, b->prog);
        ASSERT_EQ(a->vers, b->vers);
        ASSERT_EQ(a->proc, b->proc);
        ASSERT_EQ(a->type, b->type);
        ASSERT_EQ(a->serial, b->serial);
        ASSERT_EQ(a->status, b->status);
}

static void assert_bytes_eq(const char *what, const uint8_t *a, size_t a_size, const uint8_t *b, size_t b_size) {
        size_t i = 0;

        while (i < a_size && i < b_size && a[i] == b[i])
                i++;
        if (i == a_size && i == b_size)
                return;
        printf("# %s: sizes %zu and %zu, first difference at byte %zu\n", what, a_size, b_size, i);
        ASSERT_TRUE(false);
}

/* Compares @data with tests/protocol/<name>.bin, or writes it with XV_TEST_REGENERATE=1. */
static void compare_golden_bin(const char *name, const uint8_t *data, size_t size) {
        _cleanup_free_ char *rel = NULL, *path = NULL, *expected = NULL;
        size_t expected_size;
        int r;

        ASSERT_GE(asprintf(&rel, "protocol/%s.bin", name), 0);
        path = test_path(test_srcdir(), rel);

        if (getenv("XV_TEST_REGENERATE")) {
                ASSERT_OK(write_file_atomic(path, data, size, 0644));
                return;
        }

        r = read_full_file(path, GOLDEN_SIZE_MAX, &expected, &expected_size);
        if (r < 0)
                printf("# cannot read %s: %s\n", path, strerror(-r));
        ASSERT_OK(r);
        assert_bytes_eq(path, (const uint8_t *) expected, expected_size, data, size);
}

/* encode -> compare with the golden file -> decode the golden bytes -> re-encode -> identical. */
static void check_golden_frame(const char *name, const Message *m, xdrproc_t filter, size_t payload_size) {
        _cleanup_(message_freep) Message *decoded = NULL, *again = NULL;
        _cleanup_free_ void *payload = NULL;

        compare_golden_bin(name, m->frame, m->size);

        ASSERT_OK(message_from_frame(m->frame, m->size, &decoded, NULL));
        assert_header_eq(&decoded->header, &m->header);

        payload = calloc(1, MAX(payload_size, (size_t) 1));
        ASSERT_NOT_NULL(payload);
        ASSERT_OK(message_decode_payload(decoded, filter, payload, NULL));
        ASSERT_OK(message_encode(&decoded->header, filter, payload, &again, NULL));
        if (filter)
                xdr_free(filter, payload);
        assert_bytes_eq(name, m->frame, m->size, again->frame, again->size);
}

TEST(golden_header) {
        xvp_message_header h = {
                .prog = XVP_PROGRAM,
                .vers = XVP_PROTOCOL_VERSION,
                .proc = XVP_PROC_DOMAIN_GET_INFO,
                .type = XVP_MSG_REPLY,
                .serial = 7,
                .status = XVP_STATUS_OK,
        }, back = {};
        uint8_t buf[MESSAGE_HEADER_SIZE];
        size_t size;
        XDR xdr;
        _cleanup_free_ uint8_t *expected = hex("20008086 00000001 00000010 00000001 00000007 00000000", &size);

        xdrmem_create(&xdr, (char *) buf, sizeof(buf), XDR_ENCODE);
        ASSERT_TRUE(xdr_xvp_message_header(&xdr, &h));
        ASSERT_EQ(xdr_getpos(&xdr), MESSAGE_HEADER_SIZE);
        xdr_destroy(&xdr);
        assert_bytes_eq("header", expected, size, buf, sizeof(buf));
        compare_golden_bin("header", buf, sizeof(buf));

        xdrmem_create(&xdr, (char *) buf, sizeof(buf), XDR_DECODE);
        ASSERT_TRUE(xdr_xvp_message_header(&xdr, &back));
        xdr_destroy(&xdr);
        assert_header_eq(&h, &back);
}

TEST(golden_error_reply) {
        _cleanup_(message_freep) Message *m = NULL, *decoded = NULL;
        _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;
        xvp_message_header call = {
                .prog = XVP_PROGRAM, .vers = 1, .proc = 9999, .type = XVP_MSG_CALL, .serial = 3,
        };
        xvp_error w = {};

        ASSERT_NULL(dispatch_table_lookup(9999));
        ASSERT_ERROR(message_error_unknown_procedure(9999, &e), EPROTO);
        ASSERT_OK(message_new_error_reply(&call, &e, -EPROTO, &m));
        ASSERT_EQ(m->header.type, XVP_MSG_REPLY);
        ASSERT_EQ(m->header.status, XVP_STATUS_ERROR);
        ASSERT_EQ(m->header.proc, 9999);
        ASSERT_EQ(m->header.serial, 3u);
        check_golden_frame("error-reply", m, (xdrproc_t) xdr_xvp_error, sizeof(xvp_error));

        ASSERT_OK(message_from_frame(m->frame, m->size, &decoded, NULL));
        ASSERT_OK(message_decode_payload(decoded, (xdrproc_t) xdr_xvp_error, &w, NULL));
        ASSERT_EQ(w.code, XVP_ERR_RPC);
        ASSERT_EQ(w.domain, XVP_FROM_RPC);
        ASSERT_NOT_NULL(w.message);
        ASSERT_STREQ(*w.message, "unknown procedure: 9999");
        ASSERT_EQ(w.level, XVP_ERR_LEVEL_ERROR);
        ASSERT_NULL(w.dom);
        ASSERT_NOT_NULL(w.str1);
        ASSERT_NULL(w.str2);
        ASSERT_NULL(w.str3);
        ASSERT_EQ(w.int1, -1);
        ASSERT_EQ(w.int2, -1);
        ASSERT_NULL(w.net);
        xdr_free((xdrproc_t) xdr_xvp_error, &w);
}

/* The CONNECT_OPEN call of protocol.md §2, byte for byte. */
TEST(golden_connect_open_call) {
        _cleanup_(message_freep) Message *m = NULL;
        _cleanup_free_ uint8_t *expected = NULL;
        xvp_nonnull_string name = S("test:///default");
        xvp_connect_open_args args = { .name = &name, .flags = 0 };
        xvp_message_header h = { .prog = XVP_PROGRAM, .vers = 1, .proc = XVP_PROC_CONNECT_OPEN,
                                 .type = XVP_MSG_CALL, .serial = 2, .status = XVP_STATUS_OK };
        size_t size;

        expected = hex("00000038 20008086 00000001 00000001 00000000 00000002 00000000 00000001 "
                       "0000000f 74657374 3a2f2f2f 64656661 756c7400 00000000", &size);
        ASSERT_OK(message_encode(&h, (xdrproc_t) xdr_xvp_connect_open_args, &args, &m, NULL));
        assert_bytes_eq("CONNECT_OPEN as in protocol.md", expected, size, m->frame, m->size);
        check_golden_frame("connect-open-call", m, (xdrproc_t) xdr_xvp_connect_open_args,
                           sizeof(xvp_connect_open_args));
}

TEST(golden_domain_get_info_reply) {
        _cleanup_(message_freep) Message *m = NULL;
        xvp_message_header call = { .prog = XVP_PROGRAM, .vers = 1, .proc = XVP_PROC_DOMAIN_GET_INFO,
                                    .type = XVP_MSG_CALL, .serial = 5 };
        xvp_domain_get_info_ret ret = {
                .state = XVP_DOMAIN_RUNNING,
                .max_mem = 1048576,
                .memory = 524288,
                .nr_virt_cpu = 2,
                .cpu_time = 123456789000ULL,
        };

        ASSERT_OK(message_new_reply(&call, (xdrproc_t) xdr_xvp_domain_get_info_ret, &ret, &m, NULL));
        /* The 32-byte ret of protocol.md §9: uchar and ushort take 4 bytes each. */
        ASSERT_EQ(m->size, MESSAGE_FRAME_MIN + 32);
        check_golden_frame("domain-get-info-reply", m, (xdrproc_t) xdr_xvp_domain_get_info_ret,
                           sizeof(xvp_domain_get_info_ret));
}

TEST(golden_list_all_domains_reply) {
        _cleanup_(message_freep) Message *m = NULL, *decoded = NULL;
        xvp_message_header call = { .prog = XVP_PROGRAM, .vers = 1, .proc = XVP_PROC_CONNECT_LIST_ALL_DOMAINS,
                                    .type = XVP_MSG_CALL, .serial = 6 };
        xvp_nonnull_domain doms[2] = {
                { .name = S("Domain-0"), .id = 0 },
                { .name = S("vm1"), .id = -1 },
        };
        xvp_connect_list_all_domains_ret ret = {
                .domains = { .domains_len = 2, .domains_val = doms },
                .ret = 2,
        }, back = {};

        uuid_fill(doms[0].uuid, 0x00);
        uuid_fill(doms[1].uuid, 0x10);
        ASSERT_OK(message_new_reply(&call, (xdrproc_t) xdr_xvp_connect_list_all_domains_ret, &ret, &m, NULL));
        check_golden_frame("list-all-domains-reply", m, (xdrproc_t) xdr_xvp_connect_list_all_domains_ret,
                           sizeof(xvp_connect_list_all_domains_ret));

        ASSERT_OK(message_from_frame(m->frame, m->size, &decoded, NULL));
        ASSERT_OK(message_decode_payload(decoded, (xdrproc_t) xdr_xvp_connect_list_all_domains_ret, &back, NULL));
        ASSERT_EQ(back.domains.domains_len, 2u);
        ASSERT_STREQ(back.domains.domains_val[1].name, "vm1");
        ASSERT_EQ(back.domains.domains_val[1].id, -1);
        ASSERT_EQ(back.domains.domains_val[1].uuid[15], 0x1f);
        ASSERT_EQ(back.ret, 2u);
        xdr_free((xdrproc_t) xdr_xvp_connect_list_all_domains_ret, &back);
}

/* The 68-byte lifecycle event of protocol.md §12.5 ("xt1", id 1, STARTED/BOOTED, serial 1). */
TEST(golden_event_callback_lifecycle) {
        _cleanup_(message_freep) Message *m = NULL;
        _cleanup_free_ uint8_t *expected = NULL;
        xvp_domain_event_callback_lifecycle_msg msg = {
                .callback_id = 0,
                .dom = { .name = S("xt1"), .id = 1 },
                .event = XVP_DOMAIN_EVENT_STARTED,
                .detail = XVP_DOMAIN_EVENT_STARTED_BOOTED,
        };
        size_t size;

        uuid_fill(msg.dom.uuid, 0xa0);
        ASSERT_OK(message_new_event(XVP_PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE,
                                    (xdrproc_t) xdr_xvp_domain_event_callback_lifecycle_msg, &msg, &m, NULL));
        expected = hex("00000044 20008086 00000001 0000013e 00000002 00000001 00000000 "
                       "00000000 00000003 78743100", &size);
        ASSERT_EQ(m->size, 68u);
        assert_bytes_eq("318 prefix as in protocol.md", expected, size, m->frame, size);
        ASSERT_EQ(m->frame[size], 0xa0);
        check_golden_frame("event-callback-lifecycle", m,
                           (xdrproc_t) xdr_xvp_domain_event_callback_lifecycle_msg,
                           sizeof(xvp_domain_event_callback_lifecycle_msg));
}

TEST(golden_keepalive_ping) {
        _cleanup_(message_freep) Message *m = NULL;
        _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;
        _cleanup_free_ uint8_t *expected = NULL;
        size_t size;

        ASSERT_OK(message_new_keepalive(XVP_KEEPALIVE_PROC_PING, &m));
        expected = hex("0000001c 6b656570 00000001 00000001 00000002 00000000 00000000", &size);
        assert_bytes_eq("PING", expected, size, m->frame, m->size);
        check_golden_frame("keepalive-ping", m, NULL, 0);
        ASSERT_EQ(message_classify(&m->header, &e), MESSAGE_KIND_KEEPALIVE_PING);
        ASSERT_FALSE(xv_error_is_set(&e));
}

/* The session start of protocol.md §2: every frame decodes with the table's filters and
 * re-encodes to the same bytes. */
TEST(protocol_md_session) {
        static const struct {
                bool reply;
                const char *hex;
        } frames[] = {
                { false, "0000001c 20008086 00000001 00000042 00000000 00000000 00000000" },
                { true,  "00000024 20008086 00000001 00000042 00000001 00000000 00000000 00000001 00000000" },
                { false, "00000020 20008086 00000001 0000003c 00000000 00000001 00000000 0000000a" },
                { true,  "00000020 20008086 00000001 0000003c 00000001 00000001 00000000 00000001" },
                { false, "00000038 20008086 00000001 00000001 00000000 00000002 00000000 00000001 0000000f "
                         "74657374 3a2f2f2f 64656661 756c7400 00000000" },
                { true,  "0000001c 20008086 00000001 00000001 00000001 00000002 00000000" },
        };

        for (size_t i = 0; i < ELEMENTSOF(frames); i++) {
                _cleanup_(message_freep) Message *m = NULL, *again = NULL;
                _cleanup_free_ uint8_t *bytes = NULL;
                _cleanup_free_ void *payload = NULL;
                const ProcRow *row;
                xdrproc_t filter;
                size_t size, psize;

                bytes = hex(frames[i].hex, &size);
                ASSERT_OK(message_from_frame(bytes, size, &m, NULL));
                ASSERT_EQ(m->header.serial, (unsigned) (i / 2));
                if (!frames[i].reply)
                        ASSERT_EQ(message_classify(&m->header, NULL), MESSAGE_KIND_CALL);
                row = dispatch_table_lookup(m->header.proc);
                ASSERT_NOT_NULL(row);
                filter = frames[i].reply ? row->ret_filter : row->args_filter;
                psize = frames[i].reply ? row->ret_size : row->args_size;
                payload = calloc(1, MAX(psize, (size_t) 1));
                ASSERT_NOT_NULL(payload);
                ASSERT_OK(message_decode_payload(m, filter, payload, NULL));
                ASSERT_OK(message_encode(&m->header, filter, payload, &again, NULL));
                xdr_free(filter, payload);
                assert_bytes_eq(frames[i].hex, bytes, size, again->frame, again->size);
        }
}

/* Calls whose arguments protocol.md spells out for the traced commands. */
TEST(traced_calls_decode) {
        _cleanup_free_ uint8_t *p = NULL;
        size_t size;
        xvp_message_header h = { .prog = XVP_PROGRAM, .vers = 1, .type = XVP_MSG_CALL, .serial = 6 };

        {
                /* virsh list --all: 273 {need_results 1, flags ACTIVE|INACTIVE}. */
                _cleanup_(message_freep) Message *m = NULL;
                xvp_connect_list_all_domains_args a = {};
                const ProcRow *row = dispatch_table_lookup(XVP_PROC_CONNECT_LIST_ALL_DOMAINS);

                ASSERT_NOT_NULL(row);
                h.proc = XVP_PROC_CONNECT_LIST_ALL_DOMAINS;
                p = hex("00000001 00000003", &size);
                m = frame_raw(&h, p, size);
                ASSERT_OK(message_decode_payload(m, row->args_filter, &a, NULL));
                ASSERT_EQ(a.need_results, 1);
                ASSERT_EQ(a.flags, (unsigned) (XVP_CONNECT_LIST_DOMAINS_ACTIVE | XVP_CONNECT_LIST_DOMAINS_INACTIVE));
                p = mfree(p);
        }
        {
                /* virsh dumpxml test: 14 {dom {"test", uuid, id 1}, flags 0}. */
                _cleanup_(message_freep) Message *m = NULL;
                xvp_domain_get_xml_desc_args a = {};
                const ProcRow *row = dispatch_table_lookup(XVP_PROC_DOMAIN_GET_XML_DESC);

                ASSERT_NOT_NULL(row);
                ASSERT_STREQ(row->polkit_action, "org.xenvirt.api.domain.read");
                ASSERT_TRUE(row->flags & PROC_READONLY_OK);
                h.proc = XVP_PROC_DOMAIN_GET_XML_DESC;
                p = hex("00000004 74657374 6695eb01 f6a48304 79aa97f2 502e193f 00000001 00000000", &size);
                m = frame_raw(&h, p, size);
                ASSERT_OK(message_decode_payload(m, row->args_filter, &a, NULL));
                ASSERT_STREQ(a.dom.name, "test");
                ASSERT_EQ((uint8_t) a.dom.uuid[0], 0x66);
                ASSERT_EQ((uint8_t) a.dom.uuid[15], 0x3f);
                ASSERT_EQ(a.dom.id, 1);
                ASSERT_EQ(a.flags, 0u);
                xdr_free(row->args_filter, &a);
                p = mfree(p);
        }
        {
                /* virsh migrate --live, 61 args as in protocol.md §12.3. */
                _cleanup_(message_freep) Message *m = NULL;
                xvp_domain_migrate_prepare_args a = {};

                h.proc = XVP_PROC_DOMAIN_MIGRATE_PREPARE;
                p = hex("00000000 00000000 00000001 00000000 00000000 00000000", &size);
                m = frame_raw(&h, p, size);
                ASSERT_OK(message_decode_payload(m, (xdrproc_t) xdr_xvp_domain_migrate_prepare_args, &a, NULL));
                ASSERT_NULL(a.uri_in);
                ASSERT_EQ(a.flags, 1u);
                ASSERT_NULL(a.dname);
                ASSERT_EQ(a.resource, 0u);
                p = mfree(p);
        }
        {
                /* The typed parameter example of protocol.md §12.2: weight, UINT 512. */
                xvp_typed_param tp = {};
                XDR xdr;

                p = hex("00000006 77656967 68740000 00000002 00000200", &size);
                xdrmem_create(&xdr, (char *) p, (u_int) size, XDR_DECODE);
                ASSERT_TRUE(xdr_xvp_typed_param(&xdr, &tp));
                ASSERT_EQ(xdr_getpos(&xdr), size);
                xdr_destroy(&xdr);
                ASSERT_STREQ(tp.field, "weight");
                ASSERT_EQ(tp.value.type, XVP_TYPED_PARAM_UINT);
                ASSERT_EQ(tp.value.xvp_typed_param_value_u.ui, 512u);
                xdr_free((xdrproc_t) xdr_xvp_typed_param, &tp);
        }
}

/* Every procedure a stock client sent in reference/virsh-traces.tsv has a callable row. */
TEST(traced_procedures_known) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        size_t seen = 0;

        path = test_path(test_shared_dir(), "reference/virsh-traces.tsv");
        text = test_read_file(path);

        for (char *line = text, *next; line && *line; line = next) {
                char *field[7] = {};
                size_t n = 0;
                unsigned proc = 0;

                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                for (char *f = line, *tab; f && n < ELEMENTSOF(field); f = tab) {
                        tab = strchr(f, '\t');
                        if (tab)
                                *tab++ = '\0';
                        field[n++] = f;
                }
                if (n < 7 || streq(field[0], "client"))
                        continue;

                for (const char *c = field[4]; *c; c++) {
                        ASSERT_TRUE(*c >= '0' && *c <= '9');
                        proc = proc * 10 + (unsigned) (*c - '0');
                }
                if (streq(field[3], "0x6b656570")) {
                        ASSERT_TRUE(proc == XVP_KEEPALIVE_PROC_PING || proc == XVP_KEEPALIVE_PROC_PONG);
                        continue;
                }
                ASSERT_STREQ(field[3], "0x20008086");
                ASSERT_STREQ(field[6], "CALL");

                const ProcRow *row = dispatch_table_lookup((int) proc);
                if (!row)
                        printf("# %s (%u) from '%s' has no row\n", field[5], proc, field[1]);
                ASSERT_NOT_NULL(row);
                ASSERT_NOT_NULL(row->handler);
                /* REMOTE_PROC_DOMAIN_GET_INFO -> domain-get-info */
                ASSERT_TRUE(strncmp(field[5], "REMOTE_PROC_", 12) == 0);
                for (size_t i = 0; field[5][12 + i] || row->name[i]; i++) {
                        char want = (char) (field[5][12 + i] == '_' ? '-' : field[5][12 + i] | 0x20);

                        ASSERT_EQ(row->name[i], want);
                }
                seen++;
        }
        ASSERT_GT(seen, 100u);
}

TEST(bounds_refused_on_encode) {
        _cleanup_free_ xvp_nonnull_domain *doms = NULL;
        _cleanup_free_ char *big = NULL;
        _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;
        xvp_message_header call = { .prog = XVP_PROGRAM, .vers = 1, .type = XVP_MSG_CALL };
        Message *m = NULL;

        /* Exactly XVP_DOMAIN_LIST_MAX domains encode; one more does not. */
        doms = calloc(XVP_DOMAIN_LIST_MAX + 1, sizeof(xvp_nonnull_domain));
        ASSERT_NOT_NULL(doms);
        for (size_t i = 0; i <= XVP_DOMAIN_LIST_MAX; i++)
                doms[i].name = S("d");
        xvp_connect_list_all_domains_ret list = {
                .domains = { .domains_len = XVP_DOMAIN_LIST_MAX, .domains_val = doms },
                .ret = XVP_DOMAIN_LIST_MAX,
        };
        call.proc = XVP_PROC_CONNECT_LIST_ALL_DOMAINS;
        ASSERT_OK(message_new_reply(&call, (xdrproc_t) xdr_xvp_connect_list_all_domains_ret, &list, &m, NULL));
        m = message_free(m);
        list.domains.domains_len++;
        ASSERT_LT(message_new_reply(&call, (xdrproc_t) xdr_xvp_connect_list_all_domains_ret, &list, &m, &e), 0);
        ASSERT_NULL(m);
        ASSERT_EQ(e.code, XVP_ERR_RPC);
        ASSERT_STREQ(e.message, "Unable to encode message payload");

        /* A string of XVP_STRING_MAX bytes encodes; one byte more does not. */
        big = malloc(XVP_STRING_MAX + 2);
        ASSERT_NOT_NULL(big);
        memset(big, 'x', XVP_STRING_MAX + 1);
        big[XVP_STRING_MAX + 1] = '\0';
        xvp_domain_get_xml_desc_ret xml = { .xml = big };
        call.proc = XVP_PROC_DOMAIN_GET_XML_DESC;
        ASSERT_LT(message_new_reply(&call, (xdrproc_t) xdr_xvp_domain_get_xml_desc_ret, &xml, &m, NULL), 0);
        ASSERT_NULL(m);
        big[XVP_STRING_MAX] = '\0';
        ASSERT_OK(message_new_reply(&call, (xdrproc_t) xdr_xvp_domain_get_xml_desc_ret, &xml, &m, NULL));
        ASSERT_EQ(m->size, MESSAGE_FRAME_MIN + 4 + XVP_STRING_MAX);
        m = message_free(m);

        /* 17 scheduler parameters, a 2049-byte cpumap, a 4098-char label: all refused. */
        xvp_typed_param params[XVP_DOMAIN_SCHEDULER_PARAMETERS_MAX + 1] = {};
        for (size_t i = 0; i < ELEMENTSOF(params); i++) {
                params[i].field = S("weight");
                params[i].value.type = XVP_TYPED_PARAM_UINT;
        }
        xvp_domain_get_scheduler_parameters_ret sched = {
                .params = { .params_len = ELEMENTSOF(params), .params_val = params },
        };
        ASSERT_LT(message_new_reply(&call, (xdrproc_t) xdr_xvp_domain_get_scheduler_parameters_ret,
                                    &sched, &m, NULL), 0);
        sched.params.params_len--;
        ASSERT_OK(message_new_reply(&call, (xdrproc_t) xdr_xvp_domain_get_scheduler_parameters_ret,
                                    &sched, &m, NULL));
        m = message_free(m);

        /* A typed parameter of an unknown type cannot be encoded either. */
        params[0].value.type = 8;
        ASSERT_LT(message_new_reply(&call, (xdrproc_t) xdr_xvp_domain_get_scheduler_parameters_ret,
                                    &sched, &m, NULL), 0);

        char cpumap[XVP_CPUMAP_MAX + 1] = {};
        xvp_domain_pin_vcpu_args pin = {
                .dom = { .name = S("vm1") },
                .cpumap = { .cpumap_len = sizeof(cpumap), .cpumap_val = cpumap },
        };
        call.proc = XVP_PROC_DOMAIN_PIN_VCPU;
        ASSERT_LT(message_encode(&call, (xdrproc_t) xdr_xvp_domain_pin_vcpu_args, &pin, &m, NULL), 0);

        _cleanup_free_ char *label = calloc(1, XVP_SECURITY_LABEL_MAX + 1);
        ASSERT_NOT_NULL(label);
        xvp_domain_get_security_label_ret sec = {
                .label = { .label_len = XVP_SECURITY_LABEL_MAX + 1, .label_val = label },
        };
        ASSERT_LT(message_new_reply(&call, (xdrproc_t) xdr_xvp_domain_get_security_label_ret, &sec, &m, NULL), 0);
        sec.label.label_len--;
        ASSERT_OK(message_new_reply(&call, (xdrproc_t) xdr_xvp_domain_get_security_label_ret, &sec, &m, NULL));
        /* char arrays cost 4 bytes per char: count word + 4097 words. */
        ASSERT_EQ(m->size, MESSAGE_FRAME_MIN + 4 + 4 * XVP_SECURITY_LABEL_MAX + 4);
        m = message_free(m);
}

/* Decodes @hex_payload as @filter and expects "Unable to decode message payload". */
static void check_decode_refused(xdrproc_t filter, size_t struct_size, const char *hex_payload) {
        _cleanup_(message_freep) Message *m = NULL;
        _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;
        _cleanup_free_ uint8_t *p = NULL;
        _cleanup_free_ void *out = NULL;
        xvp_message_header h = { .prog = XVP_PROGRAM, .vers = 1, .proc = 1, .type = XVP_MSG_REPLY };
        size_t size;

        p = hex(hex_payload, &size);
        m = frame_raw(&h, p, size);
        out = calloc(1, struct_size);
        ASSERT_NOT_NULL(out);
        ASSERT_ERROR(message_decode_payload(m, filter, out, &e), EPROTO);
        ASSERT_EQ(e.code, XVP_ERR_RPC);
        ASSERT_EQ(e.domain, XVP_FROM_RPC);
        ASSERT_STREQ(e.message, "Unable to decode message payload");
}

TEST(bounds_refused_on_decode) {
        /* One domain too many (16385), before a single element was read. */
        check_decode_refused((xdrproc_t) xdr_xvp_connect_list_all_domains_ret,
                             sizeof(xvp_connect_list_all_domains_ret), "00004001");
        /* A string one byte over XVP_STRING_MAX. */
        check_decode_refused((xdrproc_t) xdr_xvp_domain_get_xml_desc_ret,
                             sizeof(xvp_domain_get_xml_desc_ret), "00400001 61616161");
        /* 17 scheduler parameters. */
        check_decode_refused((xdrproc_t) xdr_xvp_domain_get_scheduler_parameters_ret,
                             sizeof(xvp_domain_get_scheduler_parameters_ret), "00000011");
        /* A 4098-char label, and a 2049-byte cpumap. */
        check_decode_refused((xdrproc_t) xdr_xvp_domain_get_security_label_ret,
                             sizeof(xvp_domain_get_security_label_ret), "00001002");
        check_decode_refused((xdrproc_t) xdr_xvp_node_get_cpu_map_ret,
                             sizeof(xvp_node_get_cpu_map_ret), "00000801");
        /* A typed parameter of type 8. */
        check_decode_refused((xdrproc_t) xdr_xvp_domain_get_scheduler_parameters_ret,
                             sizeof(xvp_domain_get_scheduler_parameters_ret),
                             "00000001 00000001 61000000 00000008 00000000");
        /* A reply one field short (the clients fail those too), and a string cut short. */
        check_decode_refused((xdrproc_t) xdr_xvp_domain_get_info_ret,
                             sizeof(xvp_domain_get_info_ret),
                             "00000001 00000000 00100000 00000000 00080000 00000002");
        check_decode_refused((xdrproc_t) xdr_xvp_domain_get_xml_desc_ret,
                             sizeof(xvp_domain_get_xml_desc_ret), "00000010 3c646f6d");
}

static void check_frame_refused(const char *hex_frame, const char *message) {
        _cleanup_(message_freep) Message *m = NULL;
        _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;
        _cleanup_free_ uint8_t *p = NULL;
        size_t size;

        p = hex(hex_frame, &size);
        ASSERT_LT(message_from_frame(p, size, &m, &e), 0);
        ASSERT_NULL(m);
        ASSERT_EQ(e.code, XVP_ERR_RPC);
        ASSERT_EQ(e.domain, XVP_FROM_RPC);
        ASSERT_STREQ(e.message, message);
}

TEST(length_word_lies) {
        /* Shorter than a header. */
        check_frame_refused("0000001b 20008086 00000001 00000001 00000000 00000000 000000",
                            "packet 27 bytes received is too small, need at least 28");
        check_frame_refused("00000000", "packet 0 bytes received is too small, need at least 28");
        /* Beyond XVP_MESSAGE_MAX plus the length word. */
        check_frame_refused("02000005 20008086 00000001 00000001 00000000 00000000 00000000",
                            "packet 33554437 bytes received too large, want at most 33554436");
        /* Truncated, and longer than claimed. */
        check_frame_refused("00000028 20008086 00000001 00000001 00000000 00000000 00000000 00000001",
                            "packet length word says 40 bytes, but 32 were received");
        check_frame_refused("0000001c 20008086 00000001 00000001 00000000 00000000 00000000 00000000",
                            "packet length word says 28 bytes, but 32 were received");
        check_frame_refused("0000", "packet of 2 bytes has no length word");
}

TEST(reader_limits) {
        _cleanup_(message_reader_freep) MessageReader *r = NULL;
        _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;
        uint8_t word[4];
        size_t consumed;

        /* A huge claimed length is refused from the length word alone, before any allocation. */
        ASSERT_OK(message_reader_new(0, &r));
        put32(word, 0x7fffffff);
        ASSERT_OK(message_reader_feed(r, word, 2, &consumed, &e));
        ASSERT_EQ(consumed, 2u);
        ASSERT_FALSE(xv_error_is_set(&e));
        ASSERT_TRUE(message_reader_busy(r));
        ASSERT_ERROR(message_reader_feed(r, word + 2, 2, &consumed, &e), EPROTO);
        ASSERT_STREQ(e.message, "packet 2147483647 bytes received too large, want at most 33554436");
        r = message_reader_free(r);
        xv_error_done(&e);

        /* A per-frame limit below the protocol's. */
        ASSERT_OK(message_reader_new(64, &r));
        put32(word, 65);
        ASSERT_ERROR(message_reader_feed(r, word, 4, &consumed, &e), EPROTO);
        ASSERT_STREQ(e.message, "packet 65 bytes received too large, want at most 64");
        r = message_reader_free(r);
        xv_error_done(&e);

        ASSERT_OK(message_reader_new(64, &r));
        put32(word, 20);
        ASSERT_ERROR(message_reader_feed(r, word, 4, &consumed, &e), EPROTO);
}

TEST(reader_splits_stream) {
        _cleanup_(message_reader_freep) MessageReader *r = NULL;
        _cleanup_(message_freep) Message *ping = NULL, *open = NULL;
        _cleanup_free_ uint8_t *stream = NULL;
        xvp_nonnull_string name = S("xen:///system");
        xvp_connect_open_args args = { .name = &name, .flags = XVP_CONNECT_RO };
        xvp_message_header h = { .prog = XVP_PROGRAM, .vers = 1, .proc = XVP_PROC_CONNECT_OPEN,
                                 .type = XVP_MSG_CALL, .serial = 2 };
        size_t total, off = 0, frames = 0;

        ASSERT_OK(message_new_keepalive(XVP_KEEPALIVE_PROC_PING, &ping));
        ASSERT_OK(message_encode(&h, (xdrproc_t) xdr_xvp_connect_open_args, &args, &open, NULL));
        total = ping->size + open->size + ping->size;
        stream = malloc(total);
        ASSERT_NOT_NULL(stream);
        memcpy(stream, ping->frame, ping->size);
        memcpy(stream + ping->size, open->frame, open->size);
        memcpy(stream + ping->size + open->size, ping->frame, ping->size);

        /* Fed in odd-sized chunks: each frame comes out whole and in order. */
        ASSERT_OK(message_reader_new(0, &r));
        while (off < total) {
                size_t chunk = MIN((size_t) 5, total - off), consumed;

                ASSERT_OK(message_reader_feed(r, stream + off, chunk, &consumed, NULL));
                ASSERT_GT(consumed, 0u);
                off += consumed;
                for (;;) {
                        _cleanup_(message_freep) Message *m = NULL;
                        const Message *want;

                        if (message_reader_pop(r, &m) == 0)
                                break;
                        want = frames == 1 ? open : ping;
                        assert_bytes_eq("split frame", want->frame, want->size, m->frame, m->size);
                        frames++;
                }
        }
        ASSERT_EQ(frames, 3u);
        ASSERT_FALSE(message_reader_busy(r));

        /* Fed all at once: feeding stops at the end of each frame. */
        size_t consumed;
        _cleanup_(message_freep) Message *m = NULL;
        ASSERT_OK(message_reader_feed(r, stream, total, &consumed, NULL));
        ASSERT_EQ(consumed, ping->size);
        ASSERT_EQ(message_reader_pop(r, &m), 1);
        ASSERT_EQ(m->header.prog, (unsigned) XVP_KEEPALIVE_PROGRAM);
        ASSERT_OK(message_reader_feed(r, stream + consumed, total - consumed, &consumed, NULL));
        ASSERT_EQ(consumed, open->size);
}

/* Frames on both sides of MESSAGE_INLINE_MAX (carried in the Message's own allocation up to it,
 * in a buffer of their own above it), encoded, then split by the reader, come out byte for byte,
 * one after the other through the same reader (whose buffer for small frames is reused). */
TEST(inline_boundary) {
        _cleanup_(message_reader_freep) MessageReader *r = NULL;
        xvp_message_header h = { .prog = XVP_PROGRAM, .vers = 1, .proc = XVP_PROC_CONNECT_OPEN,
                                 .type = XVP_MSG_CALL, .serial = 7 };
        /* CONNECT_OPEN's frame: 28 bytes of length word and header, the optional name's
         * presence word, its length word, its bytes (a multiple of 4 here), the flags. */
        const size_t fixed = MESSAGE_FRAME_MIN + 4 + 4 + 4;
        const size_t sizes[] = { MESSAGE_INLINE_MAX - 4, MESSAGE_INLINE_MAX, MESSAGE_INLINE_MAX + 4,
                                 MESSAGE_INLINE_MAX, 4096, 64 };

        ASSERT_OK(message_reader_new(0, &r));
        for (size_t i = 0; i < ELEMENTSOF(sizes); i++) {
                _cleanup_(message_freep) Message *sent = NULL, *got = NULL;
                _cleanup_free_ char *text = NULL;
                xvp_nonnull_string name;
                xvp_connect_open_args args = { .name = &name };
                size_t len = sizes[i] - fixed, off = 0, consumed;

                text = malloc(len + 1);
                ASSERT_NOT_NULL(text);
                memset(text, 'a' + (int) i, len);
                text[len] = '\0';
                name = text;
                ASSERT_OK(message_encode(&h, (xdrproc_t) xdr_xvp_connect_open_args, &args, &sent, NULL));
                ASSERT_EQ(sent->size, sizes[i]);
                /* Up to MESSAGE_INLINE_MAX bytes, the frame follows the struct in one allocation. */
                ASSERT_EQ(sent->frame == (uint8_t *) (sent + 1), sizes[i] <= MESSAGE_INLINE_MAX);

                while (off < sent->size) {
                        ASSERT_OK(message_reader_feed(r, sent->frame + off, MIN((size_t) 300, sent->size - off),
                                                      &consumed, NULL));
                        off += consumed;
                }
                ASSERT_EQ(message_reader_pop(r, &got), 1);
                assert_bytes_eq("frame through the reader", sent->frame, sent->size, got->frame, got->size);
                ASSERT_EQ(got->frame == (uint8_t *) (got + 1), sizes[i] <= MESSAGE_INLINE_MAX);
                ASSERT_EQ(got->header.serial, 7u);
                ASSERT_FALSE(message_reader_busy(r));
        }
}

TEST(reader_socket) {
        _cleanup_(message_reader_freep) MessageReader *r = NULL;
        _cleanup_(message_freep) Message *ping = NULL, *m = NULL;
        _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;
        int fds[2], k;

        ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds));
        ASSERT_OK(message_new_keepalive(XVP_KEEPALIVE_PROC_PONG, &ping));
        ASSERT_OK(message_reader_new(0, &r));

        /* Nothing yet: EAGAIN. */
        ASSERT_EQ(message_reader_read(r, fds[0], &e), 0);

        /* A whole frame, read in (at most) two steps: the length word, then the rest. */
        ASSERT_EQ(write(fds[1], ping->frame, ping->size), (ssize_t) ping->size);
        do
                k = message_reader_read(r, fds[0], &e);
        while (k == 0);
        ASSERT_EQ(k, 1);
        ASSERT_EQ(message_reader_pop(r, &m), 1);
        ASSERT_EQ(message_classify(&m->header, NULL), MESSAGE_KIND_KEEPALIVE_PONG);

        /* Half a frame, then the peer goes away. */
        ASSERT_EQ(write(fds[1], ping->frame, 10), 10);
        safe_close(fds[1]);
        do
                k = message_reader_read(r, fds[0], &e);
        while (k == 0);
        ASSERT_EQ(k, -ECONNRESET);
        ASSERT_STREQ(e.message, "connection closed in the middle of a message");
        safe_close(fds[0]);

        /* A clean close between frames is not an error. */
        r = message_reader_free(r);
        xv_error_done(&e);
        ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds));
        ASSERT_OK(message_reader_new(0, &r));
        safe_close(fds[1]);
        ASSERT_EQ(message_reader_read(r, fds[0], &e), -ENOTCONN);
        ASSERT_FALSE(xv_error_is_set(&e));
        safe_close(fds[0]);
}

static void check_classify_refused(xvp_message_header h, const char *message) {
        _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;
        _cleanup_(message_freep) Message *reply = NULL;

        ASSERT_ERROR(message_classify(&h, &e), EPROTO);
        ASSERT_EQ(e.code, XVP_ERR_RPC);
        ASSERT_EQ(e.domain, XVP_FROM_RPC);
        ASSERT_STREQ(e.message, message);

        /* The error reply echoes program, version, procedure and serial, wrong as they may be. */
        ASSERT_OK(message_new_error_reply(&h, &e, -EPROTO, &reply));
        ASSERT_EQ(reply->header.prog, h.prog);
        ASSERT_EQ(reply->header.vers, h.vers);
        ASSERT_EQ(reply->header.proc, h.proc);
        ASSERT_EQ(reply->header.serial, h.serial);
        ASSERT_EQ(reply->header.type, XVP_MSG_REPLY);
        ASSERT_EQ(reply->header.status, XVP_STATUS_ERROR);
}

TEST(classify) {
        xvp_message_header call = { .prog = XVP_PROGRAM, .vers = 1, .proc = 16, .type = XVP_MSG_CALL, .serial = 9 };
        xvp_message_header h;

        ASSERT_EQ(message_classify(&call, NULL), MESSAGE_KIND_CALL);

        h = call;
        h.prog = 0x12345678;
        check_classify_refused(h, "Cannot find program 305419896 version 1");
        h = call;
        h.vers = 2;
        check_classify_refused(h, "Cannot find program 536903814 version 2");
        h = call;
        h.status = XVP_STATUS_ERROR;
        check_classify_refused(h, "Unexpected message status 1");
        h = call;
        h.type = XVP_MSG_STREAM;
        check_classify_refused(h, "Unexpected message type 3");
        h = call;
        h.type = XVP_MSG_REPLY;
        check_classify_refused(h, "Unexpected message type 1");

        /* A client's MESSAGE of the remote program is ignored, as libvirtd does. */
        h = call;
        h.type = XVP_MSG_MESSAGE;
        ASSERT_EQ(message_classify(&h, NULL), MESSAGE_KIND_IGNORE);

        /* Keepalive: only MESSAGE PING/PONG; anything else is an unknown program. */
        h = (xvp_message_header) { .prog = XVP_KEEPALIVE_PROGRAM, .vers = 1, .proc = XVP_KEEPALIVE_PROC_PING,
                                   .type = XVP_MSG_MESSAGE };
        ASSERT_EQ(message_classify(&h, NULL), MESSAGE_KIND_KEEPALIVE_PING);
        h.type = XVP_MSG_CALL;
        check_classify_refused(h, "Cannot find program 1801807216 version 1");
        h.type = XVP_MSG_MESSAGE;
        h.proc = 3;
        check_classify_refused(h, "Cannot find program 1801807216 version 1");
}

TEST(error_to_wire) {
        xvp_error w = {};
        XvError back = XV_ERROR_NULL;

        {
                _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;

                ASSERT_ERROR(xv_error_setf(&e, XVP_ERR_NO_SUPPORT, "%s", "domain-suspend"), EOPNOTSUPP);
                xv_error_domain(&e, XVP_FROM_DOMAIN, 0);
                ASSERT_OK(message_error_to_wire(&e, -EOPNOTSUPP, &w));
                ASSERT_EQ(w.code, 3);
                ASSERT_EQ(w.domain, 20);
                ASSERT_STREQ(*w.message, "this function is not supported by the connection driver: domain-suspend");
                ASSERT_STREQ(*w.str1, *w.message);
                ASSERT_EQ(w.level, 2);
                ASSERT_EQ(w.int1, -1);
                ASSERT_EQ(w.int2, -1);
                ASSERT_NULL(w.dom);
                ASSERT_NULL(w.net);

                ASSERT_ERROR(message_error_from_wire(&w, &back), EOPNOTSUPP);
                ASSERT_EQ(back.code, XVP_ERR_NO_SUPPORT);
                ASSERT_EQ(back.domain, XVP_FROM_DOMAIN);
                ASSERT_STREQ(back.message, *w.message);
                xv_error_done(&back);
                xdr_free((xdrproc_t) xdr_xvp_error, &w);
        }
        {
                /* No error set but a failure: internal error with the errno's text. */
                ASSERT_OK(message_error_to_wire(NULL, -ENOENT, &w));
                ASSERT_EQ(w.code, XVP_ERR_INTERNAL);
                ASSERT_EQ(w.domain, XVP_FROM_NONE);
                ASSERT_STREQ(*w.message, "internal error: No such file or directory");
                xdr_free((xdrproc_t) xdr_xvp_error, &w);
        }
        {
                /* A code without a message (OOM while formatting): the prefix alone. */
                XvError e = { .code = XVP_ERR_NO_DOMAIN, .domain = XVP_FROM_XEND };

                ASSERT_OK(message_error_to_wire(&e, -ENOENT, &w));
                ASSERT_EQ(w.code, 42);
                ASSERT_EQ(w.domain, 2);
                ASSERT_STREQ(*w.message, "Domain not found");
                xdr_free((xdrproc_t) xdr_xvp_error, &w);
        }
}

/* Every row of the generated table is consistent, and every args filter decodes an all-zero
 * payload (empty strings and arrays, absent optionals) and encodes it back to the same bytes. */
TEST(dispatch_table) {
        static const uint8_t zero[4096];
        size_t rows = 0;

        ASSERT_NULL(dispatch_table_lookup(0));
        ASSERT_NULL(dispatch_table_lookup(-1));
        ASSERT_NULL(dispatch_table_lookup(DISPATCH_TABLE_SIZE));
        ASSERT_NULL(dispatch_table_lookup(36));         /* a libvirt network procedure */

        for (int i = 0; i < DISPATCH_TABLE_SIZE; i++) {
                const ProcRow *row = &dispatch_table[i];
                _cleanup_free_ void *args = NULL;
                _cleanup_free_ uint8_t *again = NULL;
                unsigned consumed;
                XDR xdr;

                if (!row->name) {
                        ASSERT_NULL(dispatch_table_lookup(i));
                        continue;
                }
                rows++;
                ASSERT_EQ(row->number, i);
                ASSERT_TRUE(dispatch_table_lookup(i) == row);
                ASSERT_NOT_NULL(row->args_filter);
                ASSERT_NOT_NULL(row->ret_filter);
                for (const char *c = row->name; *c; c++)
                        ASSERT_TRUE((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-');

                if (row->flags & PROC_MESSAGE) {
                        ASSERT_NULL(row->handler);
                        ASSERT_NULL(row->polkit_action);
                        ASSERT_EQ(row->ret_size, 0u);
                } else
                        ASSERT_NOT_NULL(row->handler);
                if (!row->polkit_action)
                        ASSERT_TRUE(row->flags & PROC_READONLY_OK);
                else
                        ASSERT_TRUE(strncmp(row->polkit_action, "org.xenvirt.api.", 16) == 0);

                args = calloc(1, MAX(row->args_size, (size_t) 1));
                ASSERT_NOT_NULL(args);
                xdrmem_create(&xdr, (char *) zero, sizeof(zero), XDR_DECODE);
                ASSERT_TRUE(row->args_filter(&xdr, args));
                consumed = xdr_getpos(&xdr);
                xdr_destroy(&xdr);

                again = calloc(1, sizeof(zero));
                ASSERT_NOT_NULL(again);
                xdrmem_create(&xdr, (char *) again, sizeof(zero), XDR_ENCODE);
                ASSERT_TRUE(row->args_filter(&xdr, args));
                ASSERT_EQ(xdr_getpos(&xdr), consumed);
                xdr_destroy(&xdr);
                xdr_free(row->args_filter, args);
                assert_bytes_eq(row->name, zero, consumed, again, consumed);
        }
        ASSERT_EQ(rows, (size_t) DISPATCH_PROC_COUNT);

        /* Spot checks of the annotations. */
        ASSERT_EQ(dispatch_table[XVP_PROC_DOMAIN_SUSPEND].flags, (unsigned) PROC_BLOCKING);
        ASSERT_STREQ(dispatch_table[XVP_PROC_DOMAIN_SUSPEND].polkit_action, "org.xenvirt.api.domain.suspend");
        ASSERT_EQ(dispatch_table[XVP_PROC_CONNECT_OPEN].flags, (unsigned) PROC_READONLY_OK);
        ASSERT_NULL(dispatch_table[XVP_PROC_CONNECT_OPEN].polkit_action);
        ASSERT_EQ(dispatch_table[XVP_PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE].flags,
                  (unsigned) (PROC_READONLY_OK | PROC_MESSAGE));
        ASSERT_STREQ(dispatch_table[XVP_PROC_DOMAIN_MIGRATE_PREPARE].name, "domain-migrate-prepare");
}

/* The stub handlers answer code 3, the one that makes the clients fall back. */
TEST(stub_handlers) {
        for (int i = 0; i < DISPATCH_TABLE_SIZE; i++) {
                const ProcRow *row = &dispatch_table[i];
                _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;
                _cleanup_free_ void *args = NULL, *ret = NULL;

                if (!row->handler)
                        continue;
                args = calloc(1, MAX(row->args_size, (size_t) 1));
                ret = calloc(1, MAX(row->ret_size, (size_t) 1));
                ASSERT_NOT_NULL(args);
                ASSERT_NOT_NULL(ret);
                ASSERT_ERROR(row->handler(NULL, NULL, args, ret, &e), EOPNOTSUPP);
                ASSERT_EQ(e.code, XVP_ERR_NO_SUPPORT);
                ASSERT_STREQ(e.message, row->name);
        }
}

DEFINE_TEST_MAIN
