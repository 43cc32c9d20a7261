/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Whether the call running on this thread may block.
 *
 * The dispatcher serves cheap read-only calls (lookups, info, listings) on the event loop thread
 * instead of handing them to a worker, but only as a first try: while it runs a handler there,
 * xv_call_may_block() is false on that thread. Code that would wait for something slow or
 * unbounded (a XenD request, a lock another thread holds across one, polkit, a directory scan)
 * checks it first and, when blocking is not allowed, returns xv_call_would_block() before it
 * has changed anything. The dispatcher then runs the same call again on a worker, where
 * xv_call_may_block() is true, so that the answer is the same either way. Every other thread
 * may always block.
 *
 * The dispatcher tries the loop thread only once a backend has declared with
 * xv_call_set_nonblocking_supported() that it honours this contract.
 */

#include <stdbool.h>

#include "xv-error.h"

bool xv_call_may_block(void);

/* Returns -EWOULDBLOCK; @error is left alone (the caller's retry on a worker replaces it). */
int xv_call_would_block(XvError *error);

/* The dispatcher, around a first try on the loop thread. Returns the previous value. */
bool xv_call_set_may_block(bool may_block);

/* A backend, once at open: its read-only operations honour xv_call_may_block(). */
void xv_call_set_nonblocking_supported(bool supported);
bool xv_call_nonblocking_supported(void);
