/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "xv-alloc.h"
#include "xv-hoststats.h"
#include "xv-uuid.h"
#include "xv-xenstore.h"

/* Everything the xenstore and host-statistics channels parse from values they did not write: a
 * fired watch path, a domain directory entry, a /vm path, a tty value, a guest disk name and a
 * /proc/net/dev text. Each parser gets the whole input as one string; whatever is accepted must
 * satisfy the parser's promise (range, round trip). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *text = NULL;
        HvInterfaceStats stats;
        XvUuid u;
        int id, devid;

        /* Longer than any xenstore value or path (4096, XENSTORE_PAYLOAD_MAX); /proc/net/dev is bounded
         * by its reader. */
        if (size > 4096 + 1024)
                return 0;
        text = strndup((const char *) data, size);
        if (!text)
                return 0;

        if (xenstore_parse_domid(text, &id) >= 0) {
                char buf[16];

                if (id < 0 || id > XENSTORE_DOMID_MAX)
                        abort();
                /* The only spelling of a domid is its decimal form. */
                (void) snprintf(buf, sizeof(buf), "%d", id);
                if (!streq(buf, text))
                        abort();
        }

        if (xenstore_path_domid(text, &id) >= 0) {
                char buf[32];

                if (id < 0 || id > XENSTORE_DOMID_MAX)
                        abort();
                (void) snprintf(buf, sizeof(buf), "/local/domain/%d", id);
                if (strncmp(text, buf, strlen(buf)) != 0 || (text[strlen(buf)] != '\0' && text[strlen(buf)] != '/'))
                        abort();
        }

        /* A path of a domain's own nodes is in the domains' tree, and the backend and /vm
         * parsers accept only what is in theirs. */
        if (xenstore_path_domid(text, &id) >= 0 && !xenstore_path_in_tree(text, XENSTORE_TREE_DOMAINS))
                abort();
        if (xenstore_path_backend_domid(text, &id) >= 0 && !xenstore_path_in_tree(text, XENSTORE_TREE_DOMAINS))
                abort();
        if (xenstore_path_vm_uuid(text, &u) >= 0 && !xenstore_path_in_tree(text, XENSTORE_TREE_VMS))
                abort();

        if (xenstore_parse_vm_path(text, &u) >= 0) {
                char path[4 + UUID_STRING_BUF], buf[UUID_STRING_BUF];
                XvUuid u2;

                /* The canonical path of the same UUID parses back to it. */
                (void) snprintf(path, sizeof(path), "/vm/%s", uuid_format(&u, buf));
                if (xenstore_parse_vm_path(path, &u2) < 0 || !uuid_equal(&u, &u2))
                        abort();
        }

        if (xenstore_parse_tty(text) >= 0 && (strncmp(text, "/dev/", 5) != 0 || strstr(text, "/../")))
                abort();

        if (hoststats_disk_devid(text, &devid) >= 0 && devid < 0)
                abort();

        /* As a /proc/net/dev text, for the name its first line would give. */
        {
                char ifname[32] = "vif1.0";
                size_t n = strcspn(text, ":\n");

                if (text[n] == ':' && n > 0 && n < sizeof(ifname)) {
                        memcpy(ifname, text, n);
                        ifname[n] = '\0';
                }
                if (hoststats_parse_net_dev(text, strlen(text), ifname, &stats) >= 0 &&
                    (stats.rx_bytes < 0 || stats.tx_bytes < 0 || stats.rx_packets < 0 || stats.tx_drop < 0))
                        abort();
                (void) hoststats_parse_net_dev((const char *) data, size, "vif1.0", &stats);
        }
        return 0;
}
