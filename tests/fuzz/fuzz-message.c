/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzzes what a client controls: the stream is split into frames by the incremental reader,
 * each header is classified, the arguments of a known procedure are decoded with its filter
 * from the generated dispatch table and answered by its (stub) handler as the daemon would;
 * then the whole input is decoded as the arguments of every procedure. Whatever decodes must
 * encode again: the bounds are the same in both directions. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "xv-message.h"
#include "xvd-dispatch-table.h"

/* Large enough for every bound to be crossed by a claimed length, small enough to stay fast. */
#define FUZZ_MESSAGE_INPUT_MAX (256 * 1024)

/* Decodes @data as @row's arguments; if that works, the result must encode again. */
static void decode_args(const ProcRow *row, const Message *m) {
        _cleanup_free_ void *args = NULL;
        _cleanup_(message_freep) Message *again = NULL, *reply = NULL;
        _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;
        int r;

        args = calloc(1, MAX(row->args_size, (size_t) 1));
        if (!args)
                return;
        if (message_decode_payload(m, row->args_filter, args, &e) < 0) {
                (void) message_new_error_reply(&m->header, &e, -EPROTO, &reply);
                return;
        }

        if (message_encode(&m->header, row->args_filter, args, &again, NULL) < 0 || again->size > m->size)
                abort();

        if (row->handler) {
                _cleanup_free_ void *ret = calloc(1, MAX(row->ret_size, (size_t) 1));

                if (ret) {
                        r = row->handler(NULL, NULL, args, ret, &e);
                        (void) message_new_error_reply(&m->header, &e, r, &reply);
                }
        }
        xdr_free(row->args_filter, args);
}

static void handle_frame(const Message *m) {
        _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;
        _cleanup_(message_freep) Message *reply = NULL;
        const ProcRow *row;
        int kind;

        kind = message_classify(&m->header, &e);
        if (kind < 0) {
                (void) message_new_error_reply(&m->header, &e, kind, &reply);
                return;
        }
        if (kind == MESSAGE_KIND_KEEPALIVE_PING) {
                (void) message_new_keepalive(XVP_KEEPALIVE_PROC_PONG, &reply);
                return;
        }
        if (kind != MESSAGE_KIND_CALL)
                return;

        row = dispatch_table_lookup(m->header.proc);
        if (!row || (row->flags & PROC_MESSAGE)) {
                int r = message_error_unknown_procedure(m->header.proc, &e);

                (void) message_new_error_reply(&m->header, &e, r, &reply);
                return;
        }
        decode_args(row, m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(message_reader_freep) MessageReader *reader = NULL;
        _cleanup_free_ uint8_t *frame = NULL;
        size_t off = 0;

        if (size > FUZZ_MESSAGE_INPUT_MAX)
                return 0;

        if (message_reader_new(0, &reader) < 0)
                return 0;
        while (off < size) {
                _cleanup_(message_freep) Message *m = NULL;
                size_t consumed;

                if (message_reader_feed(reader, data + off, size - off, &consumed, NULL) < 0)
                        break;  /* a length word that lies: the daemon closes the connection */
                off += consumed;
                if (message_reader_pop(reader, &m) <= 0)
                        continue;
                handle_frame(m);
        }

        /* The input as the payload of a call to every procedure. */
        frame = malloc(MESSAGE_FRAME_MIN + size);
        if (!frame)
                return 0;
        for (int i = 0; i < DISPATCH_TABLE_SIZE; i++) {
                _cleanup_(message_freep) Message *m = NULL, *hdr = NULL;
                const ProcRow *row = &dispatch_table[i];
                xvp_message_header h = {
                        .prog = XVP_PROGRAM, .vers = XVP_PROTOCOL_VERSION, .proc = i, .type = XVP_MSG_CALL,
                };

                if (!row->name)
                        continue;
                if (message_encode(&h, NULL, NULL, &hdr, NULL) < 0)
                        return 0;
                memcpy(frame, hdr->frame, MESSAGE_FRAME_MIN);
                if (size > 0)
                        memcpy(frame + MESSAGE_FRAME_MIN, data, size);
                frame[0] = (uint8_t) ((MESSAGE_FRAME_MIN + size) >> 24);
                frame[1] = (uint8_t) ((MESSAGE_FRAME_MIN + size) >> 16);
                frame[2] = (uint8_t) ((MESSAGE_FRAME_MIN + size) >> 8);
                frame[3] = (uint8_t) (MESSAGE_FRAME_MIN + size);
                if (message_from_frame(frame, MESSAGE_FRAME_MIN + size, &m, NULL) < 0)
                        return 0;
                decode_args(row, m);
        }
        return 0;
}
