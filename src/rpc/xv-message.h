/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Framing of the libvirt-compatible wire protocol: a 4-byte big-endian length word that counts
 * itself, a 24-byte header (program, version, procedure, type, serial, status) and an XDR
 * payload. This module checks every length before it allocates, encodes and decodes headers and
 * payloads with the rpcgen filters into bounded buffers, builds replies, error replies, events
 * and keepalive frames, and splits a byte stream into frames for a non-blocking socket.
 *
 * It knows nothing of procedures beyond their numbers: the dispatcher owns the table.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xenvirt_protocol.h"
#include "xv-error.h"
#include "xv-macro.h"

#define MESSAGE_LEN_SIZE        ((size_t) XVP_MESSAGE_LEN_MAX)
#define MESSAGE_HEADER_SIZE     ((size_t) XVP_MESSAGE_HEADER_MAX)
/* The smallest frame: length word and header, empty payload (28 bytes). */
#define MESSAGE_FRAME_MIN       (MESSAGE_LEN_SIZE + MESSAGE_HEADER_SIZE)
/* The largest frame: XVP_MESSAGE_MAX does not count the length word (libvirt's rule). */
#define MESSAGE_FRAME_MAX       ((size_t) XVP_MESSAGE_MAX + MESSAGE_LEN_SIZE)
#define MESSAGE_PAYLOAD_MAX     ((size_t) XVP_MESSAGE_PAYLOAD_MAX)

/* libvirtd puts serial 1 into the events it sends; the clients ignore it. Do the same. */
#define MESSAGE_EVENT_SERIAL    1u

/* Frames up to this size live in their Message's own allocation (one malloc per message): the
 * calls and replies of lookups, getinfo and the like are 28 to a few hundred bytes. */
#define MESSAGE_INLINE_MAX      ((size_t) 1024)

/* One complete frame, with its header decoded. */
typedef struct Message {
        struct Message *next;   /* free for the holder's queue (a client's outgoing frames) */
        xvp_message_header header;
        uint8_t *frame;         /* the whole frame, length word included; owned (in this
                                 * allocation, right after the struct, when small) */
        size_t size;            /* bytes in frame, equal to the length word */
} Message;

Message *message_free(Message *m);
DEFINE_CLEANUP_FUNC(Message *, message_free);

/* Decodes a length word and checks it: at least MESSAGE_FRAME_MIN, at most @frame_max (itself
 * at most MESSAGE_FRAME_MAX). Nothing should be allocated for a frame before this succeeded. */
int message_length_decode(const uint8_t word[static 4], size_t frame_max, size_t *ret_size, XvError *error);

/* Copies one complete frame (length word included) and decodes its header. Fails when the
 * length word does not match @size or breaks the limits. */
int message_from_frame(const void *frame, size_t size, Message **ret, XvError *error);

/* The payload that follows the header. */
const uint8_t *message_payload(const Message *m, size_t *ret_size);

/* Decodes the payload into *@ret (zeroed by the caller) with @filter; a NULL filter means an
 * empty payload. Bytes after the decoded struct are ignored, as libvirt does. On failure
 * whatever was decoded has been freed again (its pointers are NULL), and @error says
 * "Unable to decode message payload". On success the caller frees with xdr_free(@filter). */
int message_decode_payload(const Message *m, xdrproc_t filter, void *ret, XvError *error);

/* Encodes a frame: @header, then @payload with @filter (NULL: empty payload). The size is
 * computed first and checked against XVP_MESSAGE_PAYLOAD_MAX before anything is allocated;
 * a payload that breaks a bound of the .x (an over-long array or string) fails to encode. */
int message_encode(const xvp_message_header *header, xdrproc_t filter, const void *payload,
                   Message **ret, XvError *error);

/* A REPLY/OK to @call: same program, version, procedure and serial. */
int message_new_reply(const xvp_message_header *call, xdrproc_t filter, const void *payload,
                      Message **ret, XvError *error);

/* A REPLY/ERROR to @call carrying @e (see message_error_to_wire()). Fails only on OOM. */
int message_new_error_reply(const xvp_message_header *call, const XvError *e, int r, Message **ret);

/* A server-sent MESSAGE of the remote program (events), with MESSAGE_EVENT_SERIAL. */
int message_new_event(int proc, xdrproc_t filter, const void *payload, Message **ret, XvError *error);

/* A keepalive MESSAGE: @proc is XVP_KEEPALIVE_PROC_PING or _PONG; serial 0, empty payload. */
int message_new_keepalive(int proc, Message **ret);

/* The only place an XvError becomes an xvp_error: code and domain as set (an unset error with
 * @r < 0 becomes XVP_ERR_INTERNAL with strerror(-r)), the message as libvirt's clients print it
 * (the detail alone for XVP_ERR_RPC, "<prefix>: <detail>" otherwise), level 2, the message
 * again in str1 (libvirt puts its format string there; both clients accept it), int1 and int2
 * -1, everything else absent. Free *@ret with xdr_free(xdr_xvp_error). Fails only on OOM. */
int message_error_to_wire(const XvError *e, int r, xvp_error *ret);

/* The reverse, for the client side: sets @e (if unset) from a decoded error payload. Returns
 * the negative errno that matches the code. */
int message_error_from_wire(const xvp_error *w, XvError *e);

/* What the receiver of a frame from a client does with it. */
typedef enum MessageKind {
        MESSAGE_KIND_CALL,              /* a call of the remote program: look the procedure up */
        MESSAGE_KIND_KEEPALIVE_PING,    /* answer with a PONG */
        MESSAGE_KIND_KEEPALIVE_PONG,
        MESSAGE_KIND_IGNORE,            /* a MESSAGE of the remote program: libvirtd ignores these */
        _MESSAGE_KIND_MAX,
        _MESSAGE_KIND_INVALID = -EINVAL,
} MessageKind;

/* Classifies a header received from a client, in libvirtd's order: unknown program or version
 * ("Cannot find program %u version %u"), then for calls a status other than OK ("Unexpected
 * message status %u"), then any type other than CALL or MESSAGE ("Unexpected message type %u").
 * Each failure is code XVP_ERR_RPC, domain XVP_FROM_RPC, and is answered with an error reply
 * that echoes the header; the connection stays up. Returns a MessageKind or a negative errno. */
int message_classify(const xvp_message_header *h, XvError *error);

/* Sets "unknown procedure: %d" (XVP_ERR_RPC, XVP_FROM_RPC) and returns its errno. */
int message_error_unknown_procedure(int proc, XvError *error);

/*
 * Incremental reader for a non-blocking socket. It allocates a frame's buffer only after its
 * length word passed the checks, and reads at most a few KiB past the end of the frame in
 * progress (into a fixed read-ahead buffer), so a peer still costs no more than what it sent.
 */
typedef struct MessageReader MessageReader;

/* @frame_max is the per-frame limit (the value of the length word), clamped to
 * [MESSAGE_FRAME_MIN, MESSAGE_FRAME_MAX]; 0 means MESSAGE_FRAME_MAX. */
int message_reader_new(size_t frame_max, MessageReader **ret);
MessageReader *message_reader_free(MessageReader *r);
DEFINE_CLEANUP_FUNC(MessageReader *, message_reader_free);

/* Takes bytes up to the end of the frame in progress and sets *@ret_consumed to how many it
 * took; call again with the rest. A length word that breaks the limits fails (the connection
 * must then be closed: the stream can no longer be split into frames). */
int message_reader_feed(MessageReader *r, const void *data, size_t size, size_t *ret_consumed,
                        XvError *error);

/* Completes the frame in progress from the bytes read ahead earlier, else with one read(2) from
 * @fd: of a few KiB into the read-ahead buffer (so that a small frame needs one system call,
 * and frames sent back to back share one), or, for what remains of a large frame, straight into
 * its buffer. Returns 1 when a frame is complete (take it with message_reader_pop()), 0 when
 * more is needed (including EAGAIN and EINTR), -ENOTCONN on end of file between frames (no
 * error set: the peer closed), -ECONNRESET on end of file inside a frame, or another negative
 * errno. A length word that breaks the limits fails as in message_reader_feed(). */
int message_reader_read(MessageReader *r, int fd, XvError *error);

/* Bytes read ahead wait for the next message_reader_read() (no EPOLLIN will announce them). */
bool message_reader_has_ahead(const MessageReader *r);

/* The last read(2) got less than it asked for (or EAGAIN) and nothing waits in the read-ahead
 * buffer: the socket was empty then, and waiting for EPOLLIN saves a read that would fail. */
bool message_reader_drained(const MessageReader *r);

/* Whether part of a frame has been received. */
bool message_reader_busy(const MessageReader *r);

/* Hands out the completed frame: returns 1 and sets *@ret, or 0 while it is incomplete. */
int message_reader_pop(MessageReader *r, Message **ret);
