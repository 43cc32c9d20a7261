/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xv-message.h"

/* The frame buffer starts this large and doubles as bytes arrive: a length word alone reserves
 * nothing more, so a peer that claims a maximal frame and stalls costs what it sent. */
#define MESSAGE_READER_INITIAL  ((size_t) XVP_MESSAGE_INITIAL)
/* Frames up to this size are encoded on the stack first, then up to MEDIUM into a heap buffer,
 * both without a sizing pass; larger ones are sized first (xdr_sizeof), then encoded. */
#define MESSAGE_ENCODE_SMALL    4096u
#define MESSAGE_ENCODE_MEDIUM   ((size_t) XVP_MESSAGE_INITIAL)

/* read(2) asks for at least this much, so that a small frame (and often the next ones) arrives
 * in one system call instead of two (length word, rest); bytes past the frame in progress wait
 * in the read-ahead buffer. What is left of a large frame is read straight into its buffer. */
#define MESSAGE_READER_AHEAD    ((size_t) 4096)

struct MessageReader {
        uint8_t length[MESSAGE_LEN_SIZE];
        size_t length_filled;
        uint8_t *frame;         /* allocated once the length word passed the checks (@small
                                 * for a frame of at most MESSAGE_INLINE_MAX bytes) */
        size_t frame_size;      /* the length word: what the complete frame needs */
        size_t frame_allocated; /* <= frame_size */
        size_t frame_filled;
        size_t frame_max;
        uint8_t *ahead;         /* bytes read past the frame in progress (frames sent back to back) */
        size_t ahead_start, ahead_end;
        bool drained;           /* the last read(2) returned less than it asked for */
        uint8_t small[MESSAGE_INLINE_MAX];      /* reused: a small frame costs no allocation */
};

static uint32_t be32_read(const uint8_t *p) {
        return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | (uint32_t) p[3];
}

static void be32_write(uint8_t *p, uint32_t v) {
        p[0] = (uint8_t) (v >> 24);
        p[1] = (uint8_t) (v >> 16);
        p[2] = (uint8_t) (v >> 8);
        p[3] = (uint8_t) v;
}

static int rpc_error(XvError *error, int r) {
        return xv_error_domain(error, XVP_FROM_RPC, r);
}

/* The frame bytes of a Message allocated with them (message_new_inline()). */
static uint8_t *message_inline_frame(Message *m) {
        return (uint8_t *) (m + 1);
}

Message *message_free(Message *m) {
        if (!m)
                return NULL;
        if (m->frame != message_inline_frame(m))
                free(m->frame);
        free(m);
        return NULL;
}

/* A Message with room for @size frame bytes (at most MESSAGE_INLINE_MAX) in the same allocation,
 * a copy of @frame; the header is the caller's to fill. */
static Message *message_new_inline(const uint8_t *frame, size_t size) {
        Message *m;

        assert(size <= MESSAGE_INLINE_MAX);
        m = malloc(sizeof(Message) + size);
        if (!m)
                return NULL;
        *m = (Message) {
                .frame = message_inline_frame(m),
                .size = size,
        };
        memcpy(m->frame, frame, size);
        return m;
}

int message_length_decode(const uint8_t word[static 4], size_t frame_max, size_t *ret_size, XvError *error) {
        uint32_t len;

        assert(ret_size);

        if (frame_max == 0 || frame_max > MESSAGE_FRAME_MAX)
                frame_max = MESSAGE_FRAME_MAX;

        len = be32_read(word);
        if (len < MESSAGE_FRAME_MIN)
                return rpc_error(error, xv_error_setf(error, XVP_ERR_RPC,
                                                      "packet %" PRIu32 " bytes received is too small, need at least %zu",
                                                      len, MESSAGE_FRAME_MIN));
        if (len > frame_max)
                return rpc_error(error, xv_error_setf(error, XVP_ERR_RPC,
                                                      "packet %" PRIu32 " bytes received too large, want at most %zu",
                                                      len, frame_max));

        *ret_size = len;
        return 0;
}

static int header_decode(const uint8_t *frame, size_t size, xvp_message_header *ret, XvError *error) {
        XDR xdr;
        bool ok;

        assert(size >= MESSAGE_FRAME_MIN);

        xdrmem_create(&xdr, (char *) frame + MESSAGE_LEN_SIZE, (u_int) MESSAGE_HEADER_SIZE, XDR_DECODE);
        ok = xdr_xvp_message_header(&xdr, ret);
        xdr_destroy(&xdr);
        if (!ok)
                return rpc_error(error, xv_error_setf(error, XVP_ERR_RPC, "Unable to decode message header"));
        return 0;
}

/* Takes ownership of @frame (malloc'd, @size bytes, length word already checked) on success. */
static int message_new_take(uint8_t *frame, size_t size, Message **ret, XvError *error) {
        Message *m;
        int r;

        m = calloc(1, sizeof(Message));
        if (!m)
                return -ENOMEM;

        r = header_decode(frame, size, &m->header, error);
        if (r < 0) {
                free(m);
                return r;
        }

        m->frame = frame;
        m->size = size;
        *ret = m;
        return 0;
}

/* Like message_new_take(), for a small frame copied into the Message (@frame stays the caller's). */
static int message_new_copy(const uint8_t *frame, size_t size, Message **ret, XvError *error) {
        _cleanup_(message_freep) Message *m = NULL;
        int r;

        m = message_new_inline(frame, size);
        if (!m)
                return -ENOMEM;
        r = header_decode(m->frame, size, &m->header, error);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(m);
        return 0;
}

int message_from_frame(const void *frame, size_t size, Message **ret, XvError *error) {
        _cleanup_free_ uint8_t *copy = NULL;
        size_t len;
        int r;

        assert(frame || size == 0);
        assert(ret);

        if (size < MESSAGE_LEN_SIZE)
                return rpc_error(error, xv_error_setf(error, XVP_ERR_RPC,
                                                      "packet of %zu bytes has no length word", size));

        r = message_length_decode(frame, MESSAGE_FRAME_MAX, &len, error);
        if (r < 0)
                return r;
        if (len != size)
                return rpc_error(error, xv_error_setf(error, XVP_ERR_RPC,
                                                      "packet length word says %zu bytes, but %zu were received",
                                                      len, size));

        copy = malloc(size);
        if (!copy)
                return -ENOMEM;
        memcpy(copy, frame, size);

        r = message_new_take(copy, size, ret, error);
        if (r < 0)
                return r;
        TAKE_PTR(copy);
        return 0;
}

const uint8_t *message_payload(const Message *m, size_t *ret_size) {
        assert(m);
        assert(m->size >= MESSAGE_FRAME_MIN);

        if (ret_size)
                *ret_size = m->size - MESSAGE_FRAME_MIN;
        return m->frame + MESSAGE_FRAME_MIN;
}

int message_decode_payload(const Message *m, xdrproc_t filter, void *ret, XvError *error) {
        const uint8_t *payload;
        size_t size;
        XDR xdr;
        bool ok;

        assert(m);

        if (!filter)
                return 0;       /* an empty payload; libvirt ignores trailing bytes here too */
        assert(ret);

        payload = message_payload(m, &size);

        /* The decoder allocates each string or array only after checking its claimed length
         * against the bound of the .x, so a lie costs at most one bounded allocation. */
        xdrmem_create(&xdr, (char *) payload, (u_int) size, XDR_DECODE);
        ok = filter(&xdr, ret);
        xdr_destroy(&xdr);
        if (!ok) {
                /* A half-decoded struct: free what was allocated so far. */
                xdr_free(filter, ret);
                return rpc_error(error, xv_error_setf(error, XVP_ERR_RPC, "Unable to decode message payload"));
        }

        return 0;
}

/* Encodes @header and @payload into @buf (@allocated bytes) and writes the length word. False
 * when they do not fit or a bound of the .x is broken. */
static bool frame_encode(const xvp_message_header *header, xdrproc_t filter, const void *payload,
                         uint8_t *buf, size_t allocated, size_t *ret_size) {
        xvp_message_header h = *header;
        size_t size;
        XDR xdr;
        bool ok;

        xdrmem_create(&xdr, (char *) buf + MESSAGE_LEN_SIZE, (u_int) (allocated - MESSAGE_LEN_SIZE), XDR_ENCODE);
        ok = xdr_xvp_message_header(&xdr, &h);
        /* Encoding does not modify the payload, whatever the filter's prototype says. */
        if (ok && filter)
                ok = filter(&xdr, (void *) payload);
        size = MESSAGE_LEN_SIZE + xdr_getpos(&xdr);
        xdr_destroy(&xdr);
        if (!ok)
                return false;
        be32_write(buf, (uint32_t) size);
        *ret_size = size;
        return true;
}

/* A Message around @frame (taken) whose header is known already. */
static int message_new_encoded(const xvp_message_header *header, uint8_t *frame, size_t size, Message **ret) {
        Message *m;

        m = malloc(sizeof(Message));
        if (!m)
                return -ENOMEM;
        *m = (Message) {
                .header = *header,
                .frame = frame,
                .size = size,
        };
        *ret = m;
        return 0;
}

int message_encode(const xvp_message_header *header, xdrproc_t filter, const void *payload,
                   Message **ret, XvError *error) {
        /* Most frames are small: encoded on the stack first, they skip the sizing pass and need
         * one allocation of their exact size. Listings try a heap buffer of MESSAGE_ENCODE_MEDIUM
         * next; only larger frames (and ones that break a bound) are sized first. */
        uint8_t small[MESSAGE_ENCODE_SMALL];
        _cleanup_free_ uint8_t *frame = NULL;
        size_t payload_size = 0, size;
        int r;

        assert(header);
        assert(ret);
        assert(!filter || payload);

        if (frame_encode(header, filter, payload, small, sizeof(small), &size)) {
                if (size <= MESSAGE_INLINE_MAX) {
                        Message *m = message_new_inline(small, size);

                        if (!m)
                                return -ENOMEM;
                        m->header = *header;
                        *ret = m;
                        return 0;
                }
                frame = malloc(size);
                if (!frame)
                        return -ENOMEM;
                memcpy(frame, small, size);
        } else if ((frame = malloc(MESSAGE_ENCODE_MEDIUM)) &&
                   frame_encode(header, filter, payload, frame, MESSAGE_ENCODE_MEDIUM, &size)) {
                /* A listing of a few thousand domains: still no sizing pass; give back the rest. */
                uint8_t *f = realloc(frame, size);

                if (f)
                        frame = f;
        } else {
                free(frame);
                frame = NULL;
                /* xdr_sizeof() runs the filter on a counting stream: a bound the payload breaks
                 * fails there or, at the latest, when encoding into the buffer sized by it. It
                 * takes a non-const pointer, but encoding does not modify the payload. */
                if (filter)
                        payload_size = xdr_sizeof(filter, (void *) payload);
                if (payload_size > MESSAGE_PAYLOAD_MAX)
                        return rpc_error(error, xv_error_setf(error, XVP_ERR_RPC,
                                                              "message payload of %zu bytes exceeds the limit of %zu bytes",
                                                              payload_size, MESSAGE_PAYLOAD_MAX));

                size = MESSAGE_FRAME_MIN + payload_size;
                frame = malloc(size);
                if (!frame)
                        return -ENOMEM;
                if (!frame_encode(header, filter, payload, frame, size, &payload_size) || payload_size != size)
                        /* a bound broken, or the size computed and the bytes written disagree */
                        return rpc_error(error, xv_error_setf(error, XVP_ERR_RPC, "Unable to encode message payload"));
        }

        r = message_new_encoded(header, frame, size, ret);
        if (r < 0)
                return r;
        TAKE_PTR(frame);
        return 0;
}

int message_new_reply(const xvp_message_header *call, xdrproc_t filter, const void *payload,
                      Message **ret, XvError *error) {
        xvp_message_header h;

        assert(call);

        h = *call;
        h.type = XVP_MSG_REPLY;
        h.status = XVP_STATUS_OK;
        return message_encode(&h, filter, payload, ret, error);
}

int message_error_to_wire(const XvError *e, int r, xvp_error *ret) {
        _cleanup_free_ char *text = NULL, *copy = NULL;
        xvp_error w = {};

        assert(ret);

        if (xv_error_is_set(e)) {
                w.code = e->code;
                w.domain = e->domain;
                /* libvirt prints an RPC error's detail alone, every other one after its prefix. */
                if (e->code == XVP_ERR_RPC && e->message)
                        text = strdup(e->message);
                else
                        text = xv_error_format(e, r);
        } else {
                XvError internal = { .code = XVP_ERR_INTERNAL };

                w.code = XVP_ERR_INTERNAL;
                w.domain = XVP_FROM_NONE;
                internal.message = (char *) strerror(r < 0 ? -r : EIO);
                text = xv_error_format(&internal, r);
        }
        if (!text)
                return -ENOMEM;
        copy = strdup(text);
        if (!copy)
                return -ENOMEM;

        w.message = calloc(1, sizeof(xvp_nonnull_string));
        w.str1 = calloc(1, sizeof(xvp_nonnull_string));
        if (!w.message || !w.str1) {
                free(w.message);
                free(w.str1);
                return -ENOMEM;
        }
        *w.message = TAKE_PTR(text);
        *w.str1 = TAKE_PTR(copy);
        w.level = XVP_ERR_LEVEL_ERROR;
        w.int1 = -1;
        w.int2 = -1;

        *ret = w;
        return 0;
}

int message_error_from_wire(const xvp_error *w, XvError *e) {
        xvp_error_code code;

        assert(w);

        code = w->code == XVP_ERR_OK ? XVP_ERR_INTERNAL : (xvp_error_code) w->code;
        if (e && !xv_error_is_set(e)) {
                char *m = NULL;

                if (w->message && *w->message)
                        m = strdup(*w->message);        /* NULL on OOM: the code still says enough */
                e->code = code;
                e->domain = (xvp_error_domain) w->domain;
                e->message = m;
        }
        return xv_error_code_to_errno(code);
}

int message_new_error_reply(const xvp_message_header *call, const XvError *e, int r, Message **ret) {
        xvp_message_header h;
        xvp_error w;
        int k;

        assert(call);

        k = message_error_to_wire(e, r, &w);
        if (k < 0)
                return k;

        h = *call;
        h.type = XVP_MSG_REPLY;
        h.status = XVP_STATUS_ERROR;
        /* A message longer than the wire allows cannot come from us; encoding fails then. */
        k = message_encode(&h, (xdrproc_t) xdr_xvp_error, &w, ret, NULL);
        xdr_free((xdrproc_t) xdr_xvp_error, &w);
        return k;
}

int message_new_event(int proc, xdrproc_t filter, const void *payload, Message **ret, XvError *error) {
        xvp_message_header h = {
                .prog = XVP_PROGRAM,
                .vers = XVP_PROTOCOL_VERSION,
                .proc = proc,
                .type = XVP_MSG_MESSAGE,
                .serial = MESSAGE_EVENT_SERIAL,
                .status = XVP_STATUS_OK,
        };

        return message_encode(&h, filter, payload, ret, error);
}

int message_new_keepalive(int proc, Message **ret) {
        xvp_message_header h = {
                .prog = XVP_KEEPALIVE_PROGRAM,
                .vers = XVP_KEEPALIVE_PROTOCOL_VERSION,
                .proc = proc,
                .type = XVP_MSG_MESSAGE,
                .serial = 0,
                .status = XVP_STATUS_OK,
        };

        assert(proc == XVP_KEEPALIVE_PROC_PING || proc == XVP_KEEPALIVE_PROC_PONG);
        return message_encode(&h, NULL, NULL, ret, NULL);
}

int message_classify(const xvp_message_header *h, XvError *error) {
        assert(h);

        /* Keepalive frames are MESSAGEs with an empty payload; anything else claiming the
         * keepalive program is treated like an unknown program, as libvirtd does. */
        if (h->prog == XVP_KEEPALIVE_PROGRAM && h->vers == XVP_KEEPALIVE_PROTOCOL_VERSION &&
            h->type == XVP_MSG_MESSAGE && h->status == XVP_STATUS_OK) {
                if (h->proc == XVP_KEEPALIVE_PROC_PING)
                        return MESSAGE_KIND_KEEPALIVE_PING;
                if (h->proc == XVP_KEEPALIVE_PROC_PONG)
                        return MESSAGE_KIND_KEEPALIVE_PONG;
        }

        if (h->prog != XVP_PROGRAM || h->vers != XVP_PROTOCOL_VERSION)
                return rpc_error(error, xv_error_setf(error, XVP_ERR_RPC, "Cannot find program %u version %u",
                                                      h->prog, h->vers));

        switch (h->type) {
        case XVP_MSG_CALL:
                if (h->status != XVP_STATUS_OK)
                        return rpc_error(error, xv_error_setf(error, XVP_ERR_RPC, "Unexpected message status %u",
                                                              (unsigned) h->status));
                return MESSAGE_KIND_CALL;
        case XVP_MSG_MESSAGE:
                /* libvirtd drops a client's MESSAGE frames of the remote program without a word. */
                return MESSAGE_KIND_IGNORE;
        default:
                /* Streams and fd passing are not part of xenvirt's protocol. */
                return rpc_error(error, xv_error_setf(error, XVP_ERR_RPC, "Unexpected message type %u",
                                                      (unsigned) h->type));
        }
}

int message_error_unknown_procedure(int proc, XvError *error) {
        return rpc_error(error, xv_error_setf(error, XVP_ERR_RPC, "unknown procedure: %d", proc));
}

int message_reader_new(size_t frame_max, MessageReader **ret) {
        MessageReader *r;

        assert(ret);

        r = calloc(1, sizeof(MessageReader));
        if (!r)
                return -ENOMEM;

        if (frame_max == 0 || frame_max > MESSAGE_FRAME_MAX)
                frame_max = MESSAGE_FRAME_MAX;
        r->frame_max = MAX(frame_max, MESSAGE_FRAME_MIN);
        *ret = r;
        return 0;
}

MessageReader *message_reader_free(MessageReader *r) {
        if (!r)
                return NULL;
        if (r->frame != r->small)
                free(r->frame);
        free(r->ahead);
        free(r);
        return NULL;
}

bool message_reader_busy(const MessageReader *r) {
        return r && r->length_filled > 0;
}

static bool reader_complete(const MessageReader *r) {
        return r->frame && r->frame_filled == r->frame_size;
}

/* Where the next bytes go and how many fit there (never past the frame in progress); grows the
 * frame buffer when it is full. 0, or -ENOMEM. */
static int reader_space(MessageReader *r, uint8_t **ret_where, size_t *ret_size) {
        if (r->length_filled < MESSAGE_LEN_SIZE) {
                *ret_where = r->length + r->length_filled;
                *ret_size = MESSAGE_LEN_SIZE - r->length_filled;
                return 0;
        }
        if (r->frame_filled == r->frame_allocated && r->frame_allocated < r->frame_size) {
                size_t n = MIN(r->frame_size, 2 * r->frame_allocated);
                uint8_t *f = realloc(r->frame, n);

                if (!f)
                        return -ENOMEM;
                r->frame = f;
                r->frame_allocated = n;
        }
        *ret_where = r->frame + r->frame_filled;
        *ret_size = r->frame_allocated - r->frame_filled;
        return 0;
}

/* Accounts for @n bytes just written to reader_space(); allocates the frame once the length
 * word is complete and has passed the checks. */
static int reader_advance(MessageReader *r, size_t n, XvError *error) {
        size_t size;
        int k;

        if (r->length_filled < MESSAGE_LEN_SIZE) {
                r->length_filled += n;
                if (r->length_filled < MESSAGE_LEN_SIZE)
                        return 0;

                k = message_length_decode(r->length, r->frame_max, &size, error);
                if (k < 0)
                        return k;

                r->frame = size <= sizeof(r->small) ? r->small : malloc(MIN(size, MESSAGE_READER_INITIAL));
                if (!r->frame)
                        return -ENOMEM;
                memcpy(r->frame, r->length, MESSAGE_LEN_SIZE);
                r->frame_size = size;
                r->frame_allocated = MIN(size, MESSAGE_READER_INITIAL);
                r->frame_filled = MESSAGE_LEN_SIZE;
                return 0;
        }

        r->frame_filled += n;
        return 0;
}

int message_reader_feed(MessageReader *r, const void *data, size_t size, size_t *ret_consumed,
                        XvError *error) {
        const uint8_t *p = data;
        size_t consumed = 0;
        int k;

        assert(r);
        assert(data || size == 0);
        assert(ret_consumed);

        while (consumed < size && !reader_complete(r)) {
                uint8_t *where;
                size_t n;

                k = reader_space(r, &where, &n);
                if (k < 0)
                        return k;
                n = MIN(n, size - consumed);
                memcpy(where, p + consumed, n);
                consumed += n;

                k = reader_advance(r, n, error);
                if (k < 0)
                        return k;
        }

        *ret_consumed = consumed;
        return 0;
}

/* Moves read-ahead bytes into the frame in progress. */
static int reader_take_ahead(MessageReader *r, XvError *error) {
        size_t consumed = 0;
        int k;

        if (!r->ahead)
                return 0;
        k = message_reader_feed(r, r->ahead + r->ahead_start, r->ahead_end - r->ahead_start, &consumed, error);
        if (k < 0)
                return k;
        r->ahead_start += consumed;
        if (r->ahead_start == r->ahead_end) {
                free(r->ahead);
                r->ahead = NULL;
                r->ahead_start = r->ahead_end = 0;
        }
        return 0;
}

/* Feeds @n bytes of @buf to the frame in progress and keeps what follows it. */
static int reader_take_buffer(MessageReader *r, const uint8_t *buf, size_t n, XvError *error) {
        size_t consumed = 0;
        int k;

        assert(!r->ahead);

        k = message_reader_feed(r, buf, n, &consumed, error);
        if (k < 0)
                return k;
        if (consumed < n) {
                r->ahead = malloc(n - consumed);
                if (!r->ahead)
                        return -ENOMEM;
                memcpy(r->ahead, buf + consumed, n - consumed);
                r->ahead_start = 0;
                r->ahead_end = n - consumed;
        }
        return 0;
}

int message_reader_read(MessageReader *r, int fd, XvError *error) {
        /* Small reads land here first; only bytes past the frame in progress are kept (in
         * r->ahead), so that an idle connection holds no read buffer. */
        uint8_t buffer[MESSAGE_READER_AHEAD];
        uint8_t *where;
        size_t want;
        ssize_t n;
        bool direct;
        int k;

        assert(r);
        assert(fd >= 0);

        k = reader_take_ahead(r, error);
        if (k < 0)
                return k;
        if (reader_complete(r))
                return 1;

        k = reader_space(r, &where, &want);
        if (k < 0)
                return k;
        direct = want >= MESSAGE_READER_AHEAD;
        if (!direct) {
                where = buffer;
                want = sizeof(buffer);
        }
        n = read(fd, where, want);
        if (n < 0) {
                if (errno == EAGAIN || errno == EINTR) {
                        r->drained = errno == EAGAIN;
                        return 0;
                }
                return xv_error_set_errnof(error, -errno, "Cannot read from socket");
        }
        if (n == 0) {
                if (!message_reader_busy(r))
                        return -ENOTCONN;
                (void) rpc_error(error, xv_error_setf(error, XVP_ERR_RPC,
                                                      "connection closed in the middle of a message"));
                return -ECONNRESET;
        }
        r->drained = (size_t) n < want;

        if (direct)
                k = reader_advance(r, (size_t) n, error);
        else
                k = reader_take_buffer(r, buffer, (size_t) n, error);
        if (k < 0)
                return k;
        return reader_complete(r);
}

bool message_reader_has_ahead(const MessageReader *r) {
        return r && r->ahead_start < r->ahead_end;
}

bool message_reader_drained(const MessageReader *r) {
        return r && r->drained && !message_reader_has_ahead(r);
}

int message_reader_pop(MessageReader *r, Message **ret) {
        uint8_t *frame;
        size_t size;
        int k;

        assert(r);
        assert(ret);

        if (!reader_complete(r))
                return 0;

        frame = r->frame;
        size = r->frame_size;
        if (frame == r->small)
                k = message_new_copy(frame, size, ret, NULL);
        else
                k = message_new_take(frame, size, ret, NULL);
        if (k < 0)
                return k;       /* OOM: the frame stays, a later pop may succeed */

        r->frame = NULL;
        r->frame_size = r->frame_allocated = r->frame_filled = r->length_filled = 0;
        return 1;
}
