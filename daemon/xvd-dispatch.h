/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The dispatcher: classify a frame, answer keepalive, look the procedure up in the generated
 * table, enforce the read-only socket and the "connection not open" rule, decode the arguments,
 * run the handler inline or on a worker (@blocking: yes), encode the reply or the error, and
 * log every successful state-changing call once with the caller's credentials.
 */

#include "xv-message.h"

typedef struct Manager Manager;
typedef struct Client Client;

/* Handles one complete frame from @c; takes ownership of @msg. Loop thread only. */
void dispatch_frame(Manager *m, Client *c, Message *msg);
