/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The dispatcher: classify a frame, answer keepalive, look the procedure up in the generated
 * table, enforce the read-only socket, the "authentication required" and the "connection not
 * open" rules, decode the arguments, authorize, run the handler inline or on a worker
 * (@blocking: yes), encode the reply or the error, and log every successful state-changing call
 * once with the caller's credentials.
 *
 * Authorization is the dispatcher's alone (handlers never check): AUTH_POLKIT asks polkit for
 * the connection-level action; with access_drivers = polkit every call of a non-root client is
 * checked against its @acl (and its @aclflag action when the flag is set), with the domain's
 * name and uuid as details, taken from the arguments, from the XML of a define/create, or from
 * the reply of a lookup (checked before the reply goes out). Every question is asynchronous:
 * the call waits, cancellable by its client's disconnection, and the loop never blocks.
 */

#include "xv-message.h"

typedef struct Manager Manager;
typedef struct Client Client;

/* Handles one complete frame from @c; takes ownership of @msg. On the thread of @c's lane; calls
 * on workers complete there too. */
void dispatch_frame(Manager *m, Client *c, Message *msg);
