/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xvsh domain commands: the rows of the domain command table and their handlers. Messages, field
 * labels and spacing are virsh 9.0's (observed with the stock virsh against xenvirtd), so that
 * scripts parsing virsh output work unchanged.
 */

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "xv-alloc.h"
#include "xv-parse-util.h"
#include "xvsh.h"

DEFINE_CLEANUP_FUNC(xv_domain *, xv_domain_unref);
#define _cleanup_domain_ _cleanup_(xv_domain_unrefp)
#define _cleanup_xv_error_ _cleanup_(xv_error_clear)

static void domain_listp(xv_domain ***l) {
        xv_domain_list_free(*l);
}

#define OPT_DOMAIN { "domain", OPT_STRING, OPT_REQUIRED | OPT_POSITIONAL, "domain name, id or uuid" }
#define OPT_FILE(h) { "file", OPT_STRING, OPT_REQUIRED | OPT_POSITIONAL, h }
#define OPTS_IMPACT                                                             \
        { "config", OPT_BOOL, 0, "affect next boot" },                          \
        { "live", OPT_BOOL, 0, "affect running domain" },                       \
        { "current", OPT_BOOL, 0, "affect current domain" }

/* --config/--live/--current as virsh combines them. -1 after printing the conflict. */
static int impact_flags(const Cmd *cmd, unsigned *ret) {
        unsigned f = XV_DOMAIN_AFFECT_CURRENT;

        if (cmd_exclusive(cmd, "current", "live") < 0 || cmd_exclusive(cmd, "current", "config") < 0)
                return -1;
        if (cmd_has(cmd, "config"))
                f |= XV_DOMAIN_AFFECT_CONFIG;
        if (cmd_has(cmd, "live"))
                f |= XV_DOMAIN_AFFECT_LIVE;
        *ret = f;
        return 0;
}

static const char *state_string(xv_domain *d, int *ret_state, int *ret_reason) {
        int s = XV_DOMAIN_NOSTATE, reason = 0;

        if (xv_domain_get_state(d, &s, &reason, NULL) < 0)
                s = XV_DOMAIN_NOSTATE;
        if (ret_state)
                *ret_state = s;
        if (ret_reason)
                *ret_reason = reason;
        return xv_domain_state_to_string(s);
}

/* ---------------------------------------------------------------------------------------------
 * list
 */

static int domain_compare(const void *a, const void *b) {
        xv_domain *x = *(xv_domain *const *) a, *y = *(xv_domain *const *) b;
        int ix = xv_domain_get_id(x), iy = xv_domain_get_id(y);

        /* virsh: running domains by id, then inactive ones by name. */
        if (ix >= 0 && iy >= 0)
                return ix < iy ? -1 : ix > iy;
        if (ix >= 0)
                return -1;
        if (iy >= 0)
                return 1;
        return strcmp(xv_domain_get_name(x), xv_domain_get_name(y));
}

static const CmdOpt opts_list[] = {
        { "inactive", OPT_BOOL, 0, "list inactive domains" },
        { "all", OPT_BOOL, 0, "list inactive & active domains" },
        { "transient", OPT_BOOL, 0, "list transient domains" },
        { "persistent", OPT_BOOL, 0, "list persistent domains" },
        { "state-running", OPT_BOOL, 0, "list domains in running state" },
        { "state-paused", OPT_BOOL, 0, "list domains in paused state" },
        { "state-shutoff", OPT_BOOL, 0, "list domains in shutoff state" },
        { "state-other", OPT_BOOL, 0, "list domains in other states" },
        { "autostart", OPT_BOOL, 0, "list domains with autostart enabled" },
        { "no-autostart", OPT_BOOL, 0, "list domains with autostart disabled" },
        { "uuid", OPT_BOOL, 0, "list uuid's only" },
        { "name", OPT_BOOL, 0, "list domain names only" },
        { "id", OPT_BOOL, 0, "list domain IDs only" },
        { "table", OPT_BOOL, 0, "list table (default)" },
        {}
};

static int cmd_list(Ctl *ctl, const Cmd *cmd) {
        _cleanup_(domain_listp) xv_domain **list = NULL;
        _cleanup_(table_freep) Table *t = NULL;
        _cleanup_(json_freep) Json *j = NULL;
        _cleanup_xv_error_ xv_error e = XV_ERROR_NULL;
        bool o_name = cmd_has(cmd, "name"), o_uuid = cmd_has(cmd, "uuid"), o_id = cmd_has(cmd, "id");
        unsigned flags = XV_LIST_DOMAINS_ACTIVE;
        size_t n = 0;

        if (cmd_exclusive(cmd, "table", "name") < 0 || cmd_exclusive(cmd, "table", "uuid") < 0 ||
            cmd_exclusive(cmd, "table", "id") < 0)
                return -1;
        if (cmd_has(cmd, "inactive"))
                flags = XV_LIST_DOMAINS_INACTIVE;
        if (cmd_has(cmd, "all"))
                flags = XV_LIST_DOMAINS_ACTIVE | XV_LIST_DOMAINS_INACTIVE;
        if (cmd_has(cmd, "persistent"))
                flags |= XV_LIST_DOMAINS_PERSISTENT;
        if (cmd_has(cmd, "transient"))
                flags |= XV_LIST_DOMAINS_TRANSIENT;
        if (cmd_has(cmd, "state-running"))
                flags |= XV_LIST_DOMAINS_RUNNING;
        if (cmd_has(cmd, "state-paused"))
                flags |= XV_LIST_DOMAINS_PAUSED;
        if (cmd_has(cmd, "state-shutoff"))
                flags |= XV_LIST_DOMAINS_SHUTOFF;
        if (cmd_has(cmd, "state-other"))
                flags |= XV_LIST_DOMAINS_OTHER;
        if (cmd_has(cmd, "autostart"))
                flags |= XV_LIST_DOMAINS_AUTOSTART;
        if (cmd_has(cmd, "no-autostart"))
                flags |= XV_LIST_DOMAINS_NO_AUTOSTART;

        if (xv_conn_list_all_domains(ctl->conn, flags, &list, &n, &e) < 0)
                return fail(&e, "Failed to list domains");
        qsort(list, n, sizeof list[0], domain_compare);

        if (ctl->json) {
                j = json_new();
                if (!j)
                        return -1;
                json_object_begin(j, NULL);
                json_array_begin(j, "domains");
                for (size_t i = 0; i < n; i++) {
                        int id = xv_domain_get_id(list[i]), s, reason;
                        const char *state = state_string(list[i], &s, &reason);

                        json_object_begin(j, NULL);
                        if (id >= 0)
                                json_int(j, "id", id);
                        else
                                json_null(j, "id");
                        json_string(j, "name", xv_domain_get_name(list[i]));
                        json_string(j, "uuid", xv_domain_get_uuid_string(list[i]));
                        json_string(j, "state", state);
                        json_int(j, "state_code", s);
                        json_object_end(j);
                }
                json_array_end(j);
                json_object_end(j);
                json_print(j);
                return 0;
        }

        if (o_name || o_uuid || o_id) {
                for (size_t i = 0; i < n; i++) {
                        int id = xv_domain_get_id(list[i]);
                        bool sp = false;

                        if (o_id && id < 0)
                                continue;
                        if (o_id) {
                                out(ctl, "%d", id);
                                sp = true;
                        }
                        if (o_uuid) {
                                out(ctl, "%s%s", sp ? " " : "", xv_domain_get_uuid_string(list[i]));
                                sp = true;
                        }
                        if (o_name)
                                out(ctl, "%s%s", sp ? " " : "", xv_domain_get_name(list[i]));
                        out(ctl, "\n");
                }
                return 0;
        }

        t = table_new(3, "Id", "Name", "State");
        if (!t)
                return -1;
        for (size_t i = 0; i < n; i++) {
                char id[16] = "-";
                int d = xv_domain_get_id(list[i]);

                if (d >= 0)
                        (void) snprintf(id, sizeof id, "%d", d);
                if (table_add_row(t, id, xv_domain_get_name(list[i]), state_string(list[i], NULL, NULL)) < 0)
                        return -1;
        }
        table_print(ctl, t);
        return 0;
}

/* ---------------------------------------------------------------------------------------------
 * dominfo, domstate, domid, domuuid, domname, dumpxml
 */

static const CmdOpt opts_domain[] = {
        OPT_DOMAIN,
        {}
};

static const CmdOpt opts_domid[] = {
        { "domain", OPT_STRING, OPT_REQUIRED | OPT_POSITIONAL, "domain name or uuid" },
        {}
};

static const CmdOpt opts_domuuid[] = {
        { "domain", OPT_STRING, OPT_REQUIRED | OPT_POSITIONAL, "domain id or name" },
        {}
};

static const CmdOpt opts_domname[] = {
        { "domain", OPT_STRING, OPT_REQUIRED | OPT_POSITIONAL, "domain id or uuid" },
        {}
};

static int cmd_dominfo(Ctl *ctl, const Cmd *cmd) {
        _cleanup_domain_ xv_domain *d = NULL;
        _cleanup_free_ char *os = NULL;
        _cleanup_(json_freep) Json *j = NULL;
        _cleanup_xv_error_ xv_error e = XV_ERROR_NULL;
        xv_domain_info info;
        bool persistent = false, autostart = false, managed = false;
        int r_pers, r_auto, r_managed, id, ret = 0;

        d = cmd_domain(ctl, cmd, "domain", NULL);
        if (!d)
                return -1;
        id = xv_domain_get_id(d);
        (void) xv_domain_get_os_type(d, &os, NULL);
        if (xv_domain_get_info(d, &info, &e) < 0)
                ret = -1;
        r_pers = xv_domain_is_persistent(d, &persistent, NULL);
        r_auto = xv_domain_get_autostart(d, &autostart, NULL);
        r_managed = xv_domain_has_managed_save(d, &managed, NULL);

        if (ctl->json) {
                j = json_new();
                if (!j)
                        return -1;
                json_object_begin(j, NULL);
                if (id >= 0)
                        json_int(j, "id", id);
                else
                        json_null(j, "id");
                json_string(j, "name", xv_domain_get_name(d));
                json_string(j, "uuid", xv_domain_get_uuid_string(d));
                json_string(j, "os_type", os);
                if (ret >= 0) {
                        json_string(j, "state", xv_domain_state_to_string(info.state));
                        json_int(j, "state_code", info.state);
                        json_uint(j, "cpus", info.nr_virt_cpu);
                        json_uint(j, "cpu_time_ns", info.cpu_time_ns);
                        json_uint(j, "max_memory_kib", info.max_mem_kib);
                        json_uint(j, "used_memory_kib", info.memory_kib);
                }
                if (r_pers >= 0)
                        json_bool(j, "persistent", persistent);
                else
                        json_null(j, "persistent");
                if (r_auto >= 0)
                        json_bool(j, "autostart", autostart);
                else
                        json_null(j, "autostart");
                if (r_managed >= 0)
                        json_bool(j, "managed_save", managed);
                else
                        json_null(j, "managed_save");
                json_object_end(j);
                if (ret >= 0)
                        json_print(j);
        } else {
                if (id >= 0)
                        out(ctl, "%-15s %d\n", "Id:", id);
                else
                        out(ctl, "%-15s %s\n", "Id:", "-");
                out(ctl, "%-15s %s\n", "Name:", xv_domain_get_name(d));
                out(ctl, "%-15s %s\n", "UUID:", xv_domain_get_uuid_string(d));
                if (os)
                        out(ctl, "%-15s %s\n", "OS Type:", os);
                if (ret >= 0) {
                        out(ctl, "%-15s %s\n", "State:", xv_domain_state_to_string(info.state));
                        out(ctl, "%-15s %u\n", "CPU(s):", info.nr_virt_cpu);
                        if (info.cpu_time_ns != 0)
                                out(ctl, "%-15s %.1lfs\n", "CPU time:", (double) info.cpu_time_ns / 1e9);
                        if (info.max_mem_kib != UINT64_MAX)
                                out(ctl, "%-15s %" PRIu64 " KiB\n", "Max memory:", info.max_mem_kib);
                        else
                                out(ctl, "%-15s %s\n", "Max memory:", "no limit");
                        out(ctl, "%-15s %" PRIu64 " KiB\n", "Used memory:", info.memory_kib);
                }
                out(ctl, "%-15s %s\n", "Persistent:", r_pers < 0 ? "unknown" : persistent ? "yes" : "no");
                if (r_auto >= 0)
                        out(ctl, "%-15s %s\n", "Autostart:", autostart ? "enable" : "disable");
                out(ctl, "%-15s %s\n", "Managed save:", r_managed < 0 ? "unknown" : managed ? "yes" : "no");
        }
        if (ret < 0)
                print_xv_error(&e);
        return ret;
}

static const CmdOpt opts_domstate[] = {
        OPT_DOMAIN,
        { "reason", OPT_BOOL, 0, "also print reason for the state" },
        {}
};

static int cmd_domstate(Ctl *ctl, const Cmd *cmd) {
        _cleanup_domain_ xv_domain *d = NULL;
        _cleanup_(json_freep) Json *j = NULL;
        _cleanup_xv_error_ xv_error e = XV_ERROR_NULL;
        int state, reason;

        d = cmd_domain(ctl, cmd, "domain", NULL);
        if (!d)
                return -1;
        if (xv_domain_get_state(d, &state, &reason, &e) < 0) {
                print_xv_error(&e);
                return -1;
        }
        if (ctl->json) {
                j = json_new();
                if (!j)
                        return -1;
                json_object_begin(j, NULL);
                json_string(j, "state", xv_domain_state_to_string(state));
                json_int(j, "state_code", state);
                json_string(j, "reason", xv_domain_state_reason_to_string(state, reason));
                json_int(j, "reason_code", reason);
                json_object_end(j);
                json_print(j);
        } else if (cmd_has(cmd, "reason"))
                out(ctl, "%s (%s)\n", xv_domain_state_to_string(state),
                    xv_domain_state_reason_to_string(state, reason));
        else
                out(ctl, "%s\n", xv_domain_state_to_string(state));
        return 0;
}

static int print_one(Ctl *ctl, const char *key, const char *value, bool as_null) {
        _cleanup_(json_freep) Json *j = NULL;

        if (!ctl->json) {
                out(ctl, "%s\n", value);
                return 0;
        }
        j = json_new();
        if (!j)
                return -1;
        json_object_begin(j, NULL);
        if (as_null)
                json_null(j, key);
        else
                json_string(j, key, value);
        json_object_end(j);
        json_print(j);
        return 0;
}

static int cmd_domid(Ctl *ctl, const Cmd *cmd) {
        _cleanup_domain_ xv_domain *d = NULL;
        _cleanup_(json_freep) Json *j = NULL;
        int id;

        d = cmd_domain_by(ctl, cmd, "domain", LOOKUP_BY_NAME | LOOKUP_BY_UUID, NULL);
        if (!d)
                return -1;
        id = xv_domain_get_id(d);
        if (ctl->json) {
                j = json_new();
                if (!j)
                        return -1;
                json_object_begin(j, NULL);
                if (id >= 0)
                        json_int(j, "id", id);
                else
                        json_null(j, "id");
                json_object_end(j);
                json_print(j);
        } else if (id >= 0)
                out(ctl, "%d\n", id);
        else
                out(ctl, "-\n");
        return 0;
}

static int cmd_domuuid(Ctl *ctl, const Cmd *cmd) {
        _cleanup_domain_ xv_domain *d = NULL;

        d = cmd_domain_by(ctl, cmd, "domain", LOOKUP_BY_NAME | LOOKUP_BY_ID, NULL);
        if (!d)
                return -1;
        return print_one(ctl, "uuid", xv_domain_get_uuid_string(d), false);
}

static int cmd_domname(Ctl *ctl, const Cmd *cmd) {
        _cleanup_domain_ xv_domain *d = NULL;

        d = cmd_domain_by(ctl, cmd, "domain", LOOKUP_BY_ID | LOOKUP_BY_UUID, NULL);
        if (!d)
                return -1;
        return print_one(ctl, "name", xv_domain_get_name(d), false);
}

static const CmdOpt opts_dumpxml[] = {
        OPT_DOMAIN,
        { "inactive", OPT_BOOL, 0, "show inactive defined XML" },
        { "security-info", OPT_BOOL, 0, "include security sensitive information in XML dump" },
        {}
};

static int cmd_dumpxml(Ctl *ctl, const Cmd *cmd) {
        _cleanup_domain_ xv_domain *d = NULL;
        _cleanup_free_ char *xml = NULL;
        _cleanup_xv_error_ xv_error e = XV_ERROR_NULL;
        unsigned flags = 0;

        d = cmd_domain(ctl, cmd, "domain", NULL);
        if (!d)
                return -1;
        if (cmd_has(cmd, "inactive"))
                flags |= XV_DOMAIN_XML_INACTIVE;
        if (cmd_has(cmd, "security-info"))
                flags |= XV_DOMAIN_XML_SECURE;
        if (xv_domain_get_xml_desc(d, flags, &xml, &e) < 0) {
                print_xv_error(&e);
                return -1;
        }
        if (ctl->json)
                return print_one(ctl, "xml", xml, false);
        out(ctl, "%s", xml);
        return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Lifecycle
 */

static const CmdOpt opts_define[] = {
        OPT_FILE("file containing an XML domain description"),
        {}
};

static int cmd_define(Ctl *ctl, const Cmd *cmd) {
        _cleanup_domain_ xv_domain *d = NULL;
        _cleanup_free_ char *xml = NULL;
        _cleanup_xv_error_ xv_error e = XV_ERROR_NULL;
        const char *file = cmd_str(cmd, "file");

        if (read_file_or_fail(file, &xml) < 0)
                return -1;
        if (xv_domain_define_xml(ctl->conn, xml, 0, &d, &e) < 0)
                return fail(&e, "Failed to define domain from %s", file);
        out_extra(ctl, "Domain '%s' defined from %s\n", xv_domain_get_name(d), file);
        json_result(ctl, xv_domain_get_name(d), "defined");
        return 0;
}

static const CmdOpt opts_create[] = {
        OPT_FILE("file containing an XML domain description"),
        { "paused", OPT_BOOL, 0, "leave the guest paused after creation" },
        {}
};

static int cmd_create(Ctl *ctl, const Cmd *cmd) {
        _cleanup_domain_ xv_domain *d = NULL;
        _cleanup_free_ char *xml = NULL;
        _cleanup_xv_error_ xv_error e = XV_ERROR_NULL;
        const char *file = cmd_str(cmd, "file");

        if (read_file_or_fail(file, &xml) < 0)
                return -1;
        if (xv_domain_create_xml(ctl->conn, xml, cmd_has(cmd, "paused") ? XV_DOMAIN_START_PAUSED : 0, &d, &e) < 0)
                return fail(&e, "Failed to create domain from %s", file);
        out_extra(ctl, "Domain '%s' created from %s\n", xv_domain_get_name(d), file);
        json_result(ctl, xv_domain_get_name(d), "created");
        return 0;
}

static const CmdOpt opts_undefine[] = {
        OPT_DOMAIN,
        { "managed-save", OPT_BOOL, 0, "remove domain managed state file" },
        {}
};

static int cmd_undefine(Ctl *ctl, const Cmd *cmd) {
        _cleanup_domain_ xv_domain *d = NULL;
        _cleanup_xv_error_ xv_error e = XV_ERROR_NULL;
        const char *name;

        d = cmd_domain(ctl, cmd, "domain", &name);
        if (!d)
                return -1;
        if (xv_domain_undefine(d, cmd_has(cmd, "managed-save") ? XV_DOMAIN_UNDEFINE_MANAGED_SAVE : 0, &e) < 0)
                return fail(&e, "Failed to undefine domain '%s'", name);
        out_extra(ctl, "Domain '%s' has been undefined\n", name);
        json_result(ctl, xv_domain_get_name(d), "undefined");
        return 0;
}

static const CmdOpt opts_start[] = {
        OPT_DOMAIN,
        { "paused", OPT_BOOL, 0, "leave the guest paused after start" },
        {}
};

static int cmd_start(Ctl *ctl, const Cmd *cmd) {
        _cleanup_domain_ xv_domain *d = NULL;
        _cleanup_xv_error_ xv_error e = XV_ERROR_NULL;

        d = cmd_domain_by(ctl, cmd, "domain", LOOKUP_BY_NAME | LOOKUP_BY_UUID, NULL);
        if (!d)
                return -1;
        /* virsh refuses before asking the daemon. */
        if (xv_domain_get_id(d) >= 0) {
                print_error("Domain is already active");
                return -1;
        }
        if (xv_domain_create(d, cmd_has(cmd, "paused") ? XV_DOMAIN_START_PAUSED : 0, &e) < 0)
                return fail(&e, "Failed to start domain '%s'", xv_domain_get_name(d));
        out_extra(ctl, "Domain '%s' started\n", xv_domain_get_name(d));
        json_result(ctl, xv_domain_get_name(d), "started");
        return 0;
}

typedef enum SimpleOp {
        OP_SHUTDOWN,
        OP_REBOOT,
        OP_DESTROY,
        OP_SUSPEND,
        OP_RESUME,
} SimpleOp;

static int simple_op(Ctl *ctl, const Cmd *cmd, SimpleOp op) {
        static const struct {
                const char *verb, *done, *result;
        } words[] = {
                [OP_SHUTDOWN] = { "shutdown", "is being shutdown", "shutdown" },
                [OP_REBOOT] = { "reboot", "is being rebooted", "rebooted" },
                [OP_DESTROY] = { "destroy", "destroyed", "destroyed" },
                [OP_SUSPEND] = { "suspend", "suspended", "suspended" },
                [OP_RESUME] = { "resume", "resumed", "resumed" },
        };
        _cleanup_domain_ xv_domain *d = NULL;
        _cleanup_xv_error_ xv_error e = XV_ERROR_NULL;
        const char *name;
        int r;

        d = cmd_domain(ctl, cmd, "domain", &name);
        if (!d)
                return -1;
        switch (op) {
        case OP_SHUTDOWN:
                r = xv_domain_shutdown(d, 0, &e);
                break;
        case OP_REBOOT:
                r = xv_domain_reboot(d, 0, &e);
                break;
        case OP_DESTROY:
                r = xv_domain_destroy(d, 0, &e);
                break;
        case OP_SUSPEND:
                r = xv_domain_suspend(d, &e);
                break;
        case OP_RESUME:
                r = xv_domain_resume(d, &e);
                break;
        default:
                assert(false);
                return -1;
        }
        if (r < 0)
                return fail(&e, "Failed to %s domain '%s'", words[op].verb, name);
        out_extra(ctl, "Domain '%s' %s\n", name, words[op].done);
        json_result(ctl, xv_domain_get_name(d), words[op].result);
        return 0;
}

static int cmd_shutdown(Ctl *ctl, const Cmd *cmd) {
        return simple_op(ctl, cmd, OP_SHUTDOWN);
}

static int cmd_reboot(Ctl *ctl, const Cmd *cmd) {
        return simple_op(ctl, cmd, OP_REBOOT);
}

static int cmd_destroy(Ctl *ctl, const Cmd *cmd) {
        return simple_op(ctl, cmd, OP_DESTROY);
}

static int cmd_suspend(Ctl *ctl, const Cmd *cmd) {
        return simple_op(ctl, cmd, OP_SUSPEND);
}

static int cmd_resume(Ctl *ctl, const Cmd *cmd) {
        return simple_op(ctl, cmd, OP_RESUME);
}

/* ---------------------------------------------------------------------------------------------
 * save, restore, managedsave, dump: long calls, with the elapsed time shown on a terminal
 */

/* virDomainSaveRestoreFlags. */
#define SAVE_BYPASS_CACHE       (1u << 0)
#define SAVE_RUNNING            (1u << 1)
#define SAVE_PAUSED             (1u << 2)
#define DUMP_BYPASS_CACHE       (1u << 2)       /* virDomainCoreDumpFlags */

static int save_flags(const Cmd *cmd, unsigned *ret) {
        unsigned f = 0;

        if (cmd_exclusive(cmd, "running", "paused") < 0)
                return -1;
        if (cmd_has(cmd, "bypass-cache"))
                f |= SAVE_BYPASS_CACHE;
        if (cmd_has(cmd, "running"))
                f |= SAVE_RUNNING;
        if (cmd_has(cmd, "paused"))
                f |= SAVE_PAUSED;
        *ret = f;
        return 0;
}

static const CmdOpt opts_save[] = {
        OPT_DOMAIN,
        { "file", OPT_STRING, OPT_REQUIRED | OPT_POSITIONAL, "where to save the data" },
        { "bypass-cache", OPT_BOOL, 0, "avoid file system cache when saving" },
        { "xml", OPT_STRING, 0, "filename containing updated XML for the target" },
        { "running", OPT_BOOL, 0, "set domain to be running on restore" },
        { "paused", OPT_BOOL, 0, "set domain to be paused on restore" },
        { "verbose", OPT_BOOL, 0, "display the progress of save" },
        {}
};

static const CmdOpt opts_managedsave[] = {
        OPT_DOMAIN,
        { "bypass-cache", OPT_BOOL, 0, "avoid file system cache when saving" },
        { "running", OPT_BOOL, 0, "set domain to be running on next start" },
        { "paused", OPT_BOOL, 0, "set domain to be paused on next start" },
        { "verbose", OPT_BOOL, 0, "display the progress of save" },
        {}
};

static int cmd_save(Ctl *ctl, const Cmd *cmd) {
        _cleanup_domain_ xv_domain *d = NULL;
        _cleanup_free_ char *dxml = NULL;
        _cleanup_xv_error_ xv_error e = XV_ERROR_NULL;
        const char *name, *file = cmd_str(cmd, "file");
        unsigned flags;
        Progress *p;
        int r;

        d = cmd_domain(ctl, cmd, "domain", &name);
        if (!d)
                return -1;
        if (save_flags(cmd, &flags) < 0)
                return -1;
        if (cmd_has(cmd, "xml") && read_file_or_fail(cmd_str(cmd, "xml"), &dxml) < 0)
                return -1;
        p = progress_start(ctl, "Saving domain");
        r = xv_domain_save(d, file, dxml, flags, &e);
        progress_stop(p);
        if (r < 0)
                return fail(&e, "Failed to save domain '%s' to %s", name, file);
        out_extra(ctl, "\nDomain '%s' saved to %s\n", name, file);
        json_result(ctl, xv_domain_get_name(d), "saved");
        return 0;
}

static const CmdOpt opts_restore[] = {
        { "file", OPT_STRING, OPT_REQUIRED | OPT_POSITIONAL, "the state to restore" },
        { "bypass-cache", OPT_BOOL, 0, "avoid file system cache when restoring" },
        { "xml", OPT_STRING, 0, "filename containing updated XML for the target" },
        { "running", OPT_BOOL, 0, "restore domain into running state" },
        { "paused", OPT_BOOL, 0, "restore domain into paused state" },
        {}
};

static int cmd_restore(Ctl *ctl, const Cmd *cmd) {
        _cleanup_free_ char *dxml = NULL;
        _cleanup_xv_error_ xv_error e = XV_ERROR_NULL;
        const char *file = cmd_str(cmd, "file");
        unsigned flags;
        Progress *p;
        int r;

        if (save_flags(cmd, &flags) < 0)
                return -1;
        if (cmd_has(cmd, "xml") && read_file_or_fail(cmd_str(cmd, "xml"), &dxml) < 0)
                return -1;
        p = progress_start(ctl, "Restoring domain");
        r = xv_domain_restore(ctl->conn, file, dxml, flags, &e);
        progress_stop(p);
        if (r < 0)
                return fail(&e, "Failed to restore domain from %s", file);
        out_extra(ctl, "Domain restored from %s\n", file);
        json_result(ctl, NULL, "restored");
        return 0;
}

static int cmd_managedsave(Ctl *ctl, const Cmd *cmd) {
        _cleanup_domain_ xv_domain *d = NULL;
        _cleanup_xv_error_ xv_error e = XV_ERROR_NULL;
        const char *name;
        unsigned flags;
        Progress *p;
        int r;

        d = cmd_domain(ctl, cmd, "domain", &name);
        if (!d)
                return -1;
        if (save_flags(cmd, &flags) < 0)
                return -1;
        p = progress_start(ctl, "Managedsave");
        r = xv_domain_managed_save(d, flags, &e);
        progress_stop(p);
        if (r < 0)
                return fail(&e, "Failed to save domain '%s' state", name);
        out_extra(ctl, "\nDomain '%s' state saved by libvirt\n", name);
        json_result(ctl, xv_domain_get_name(d), "saved");
        return 0;
}

static const CmdOpt opts_dump[] = {
        OPT_DOMAIN,
        { "file", OPT_STRING, OPT_REQUIRED | OPT_POSITIONAL, "where to dump the core" },
        { "live", OPT_BOOL, 0, "perform a live core dump if supported" },
        { "crash", OPT_BOOL, 0, "crash the domain after core dump" },
        { "bypass-cache", OPT_BOOL, 0, "avoid file system cache when dumping" },
        { "verbose", OPT_BOOL, 0, "display the progress of dump" },
        {}
};

static int cmd_dump(Ctl *ctl, const Cmd *cmd) {
        _cleanup_domain_ xv_domain *d = NULL;
        _cleanup_xv_error_ xv_error e = XV_ERROR_NULL;
        const char *name, *file = cmd_str(cmd, "file");
        unsigned flags = 0;
        Progress *p;
        int r;

        d = cmd_domain(ctl, cmd, "domain", &name);
        if (!d)
                return -1;
        if (cmd_has(cmd, "live"))
                flags |= XV_DUMP_LIVE;
        if (cmd_has(cmd, "crash"))
                flags |= XV_DUMP_CRASH;
        if (cmd_has(cmd, "bypass-cache"))
                flags |= DUMP_BYPASS_CACHE;
        p = progress_start(ctl, "Dumping domain");
        r = xv_domain_core_dump(d, file, flags, &e);
        progress_stop(p);
        if (r < 0)
                return fail(&e, "Failed to core dump domain '%s' to %s", name, file);
        out_extra(ctl, "\nDomain '%s' dumped to %s\n", name, file);
        json_result(ctl, xv_domain_get_name(d), "dumped");
        return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Memory and vCPUs
 */

static const CmdOpt opts_setmem[] = {
        OPT_DOMAIN,
        { "size", OPT_NUMBER, OPT_REQUIRED | OPT_POSITIONAL, "new memory size, as scaled integer (default KiB)" },
        OPTS_IMPACT,
        {}
};

static int cmd_setmem(Ctl *ctl, const Cmd *cmd) {
        _cleanup_domain_ xv_domain *d = NULL;
        _cleanup_xv_error_ xv_error e = XV_ERROR_NULL;
        uint64_t kib = 0;
        unsigned flags;

        if (impact_flags(cmd, &flags) < 0)
                return -1;
        d = cmd_domain(ctl, cmd, "domain", NULL);
        if (!d)
                return -1;
        if (cmd_scaled_kib(cmd, "size", &kib) < 0)
                return -1;
        if (xv_domain_set_memory(d, kib, flags, &e) < 0) {
                print_xv_error(&e);
                return -1;
        }
        json_result(ctl, xv_domain_get_name(d), "memory set");
        return 0;
}

static int cmd_setmaxmem(Ctl *ctl, const Cmd *cmd) {
        _cleanup_domain_ xv_domain *d = NULL;
        _cleanup_xv_error_ xv_error e = XV_ERROR_NULL;
        uint64_t kib = 0;
        unsigned flags;
        int r;

        if (impact_flags(cmd, &flags) < 0)
                return -1;
        d = cmd_domain(ctl, cmd, "domain", NULL);
        if (!d)
                return -1;
        if (cmd_scaled_kib(cmd, "size", &kib) < 0)
                return -1;
        if (flags == XV_DOMAIN_AFFECT_CURRENT)
                r = xv_domain_set_max_memory(d, kib, &e);
        else
                r = xv_domain_set_memory(d, kib, flags | XV_DOMAIN_MEM_MAXIMUM, &e);
        if (r < 0)
                return fail(&e, "Unable to change MaxMemorySize");
        json_result(ctl, xv_domain_get_name(d), "maximum memory set");
        return 0;
}

static const CmdOpt opts_setvcpus[] = {
        OPT_DOMAIN,
        { "count", OPT_NUMBER, OPT_REQUIRED | OPT_POSITIONAL, "number of virtual CPUs" },
        { "maximum", OPT_BOOL, 0, "set maximum limit on next boot" },
        OPTS_IMPACT,
        {}
};

static int cmd_setvcpus(Ctl *ctl, const Cmd *cmd) {
        _cleanup_domain_ xv_domain *d = NULL;
        _cleanup_xv_error_ xv_error e = XV_ERROR_NULL;
        unsigned flags, count = 0;

        if (impact_flags(cmd, &flags) < 0 || cmd_requires(cmd, "config", "maximum") < 0)
                return -1;
        if (cmd_has(cmd, "maximum"))
                flags |= XV_DOMAIN_VCPU_MAXIMUM;
        d = cmd_domain(ctl, cmd, "domain", NULL);
        if (!d)
                return -1;
        if (cmd_uint(cmd, "count", &count) < 0)
                return -1;
        if (xv_domain_set_vcpus(d, count, flags, &e) < 0) {
                print_xv_error(&e);
                return -1;
        }
        json_result(ctl, xv_domain_get_name(d), "vcpus set");
        return 0;
}

static const CmdOpt opts_vcpucount[] = {
        OPT_DOMAIN,
        { "maximum", OPT_BOOL, 0, "get maximum count of vcpus" },
        { "active", OPT_BOOL, 0, "get number of currently active vcpus" },
        { "live", OPT_BOOL, 0, "get value from running domain" },
        { "config", OPT_BOOL, 0, "get value to be used on next boot" },
        { "current", OPT_BOOL, 0, "get value according to current domain state" },
        {}
};

static int cmd_vcpucount(Ctl *ctl, const Cmd *cmd) {
        _cleanup_domain_ xv_domain *d = NULL;
        _cleanup_(json_freep) Json *j = NULL;
        static const char *const which_s[] = { "maximum", "current" };
        static const char *const where_s[] = { "config", "live" };
        int printed = 0;

        if (cmd_exclusive(cmd, "maximum", "active") < 0 || cmd_exclusive(cmd, "current", "live") < 0 ||
            cmd_exclusive(cmd, "current", "config") < 0 || cmd_exclusive(cmd, "live", "config") < 0)
                return -1;
        d = cmd_domain(ctl, cmd, "domain", NULL);
        if (!d)
                return -1;

        /* With any selection virsh prints one number: that combination of flags. */
        if (cmd_has(cmd, "maximum") || cmd_has(cmd, "active") || cmd_has(cmd, "live") ||
            cmd_has(cmd, "config") || cmd_has(cmd, "current")) {
                _cleanup_xv_error_ xv_error e = XV_ERROR_NULL;
                unsigned flags = 0;
                int n;

                if (cmd_has(cmd, "maximum"))
                        flags |= XV_DOMAIN_VCPU_MAXIMUM;
                if (cmd_has(cmd, "live"))
                        flags |= XV_DOMAIN_AFFECT_LIVE;
                if (cmd_has(cmd, "config"))
                        flags |= XV_DOMAIN_AFFECT_CONFIG;
                if (xv_domain_get_vcpus_flags(d, flags, &n, &e) < 0) {
                        print_xv_error(&e);
                        return -1;
                }
                if (!ctl->json) {
                        out(ctl, "%d\n", n);
                        return 0;
                }
                j = json_new();
                if (!j)
                        return -1;
                json_object_begin(j, NULL);
                json_int(j, "count", n);
                json_object_end(j);
                json_print(j);
                return 0;
        }

        if (ctl->json) {
                j = json_new();
                if (!j)
                        return -1;
                json_object_begin(j, NULL);
        }
        for (int which = 0; which < 2; which++)
                for (int where = 0; where < 2; where++) {
                        unsigned flags = (which == 0 ? XV_DOMAIN_VCPU_MAXIMUM : 0) |
                                         (where == 0 ? XV_DOMAIN_AFFECT_CONFIG : XV_DOMAIN_AFFECT_LIVE);
                        xv_error e = XV_ERROR_NULL;
                        char key[32];
                        int n;

                        /* The live values of an inactive domain do not exist: virsh skips them. */
                        if (xv_domain_get_vcpus_flags(d, flags, &n, &e) < 0) {
                                xv_error_clear(&e);
                                continue;
                        }
                        printed++;
                        if (j) {
                                (void) snprintf(key, sizeof key, "%s_%s", which_s[which], where_s[where]);
                                json_int(j, key, n);
                        } else
                                out(ctl, "%-12s %-12s %3d\n", which_s[which], where_s[where], n);
                }
        if (j) {
                json_object_end(j);
                json_print(j);
        }
        return printed > 0 ? 0 : -1;
}

static const char *vcpu_state_string(int s) {
        switch (s) {
        case 0:
                return "offline";
        case 1:
                return "running";
        case 2:
                return "blocked";
        default:
                return "no state";
        }
}

static void affinity_string(const uint8_t *map, size_t maplen, int ncpus, char *buf, size_t size) {
        size_t i;

        for (i = 0; i < (size_t) ncpus && i + 1 < size; i++)
                buf[i] = i / 8 < maplen && (map[i / 8] & (1u << (i % 8))) ? 'y' : '-';
        buf[i] = 0;
}

static int cmd_vcpuinfo(Ctl *ctl, const Cmd *cmd) {
        _cleanup_domain_ xv_domain *d = NULL;
        _cleanup_(json_freep) Json *j = NULL;
        _cleanup_xv_error_ xv_error e = XV_ERROR_NULL;
        xv_vcpu_info *v = NULL;
        size_t n = 0, maplen = 0;
        int ncpus;

        d = cmd_domain(ctl, cmd, "domain", NULL);
        if (!d)
                return -1;
        ncpus = ctl_ncpus(ctl);
        if (ncpus < 0)
                return -1;
        if (xv_domain_get_vcpus(d, &v, &n, &maplen, &e) < 0) {
                print_xv_error(&e);
                return -1;
        }
        if (ctl->json) {
                j = json_new();
                if (!j) {
                        xv_vcpu_info_free(v, n);
                        return -1;
                }
                json_object_begin(j, NULL);
                json_array_begin(j, "vcpus");
        }
        for (size_t i = 0; i < n; i++) {
                char aff[1024];

                affinity_string(v[i].cpumap, maplen, ncpus, aff, sizeof aff);
                if (j) {
                        json_object_begin(j, NULL);
                        json_uint(j, "vcpu", v[i].number);
                        json_int(j, "cpu", v[i].cpu);
                        json_string(j, "state", vcpu_state_string(v[i].state));
                        json_uint(j, "cpu_time_ns", v[i].cpu_time_ns);
                        json_string(j, "affinity", aff);
                        json_object_end(j);
                        continue;
                }
                if (i > 0)
                        out(ctl, "\n");
                out(ctl, "%-15s %u\n", "VCPU:", v[i].number);
                out(ctl, "%-15s %d\n", "CPU:", v[i].cpu);
                out(ctl, "%-15s %s\n", "State:", vcpu_state_string(v[i].state));
                if (v[i].cpu_time_ns != 0)
                        out(ctl, "%-15s %.1lfs\n", "CPU time:", (double) v[i].cpu_time_ns / 1e9);
                out(ctl, "%-15s %s\n", "CPU Affinity:", aff);
        }
        if (j) {
                json_array_end(j);
                json_object_end(j);
                json_print(j);
        }
        xv_vcpu_info_free(v, n);
        return 0;
}

static const CmdOpt opts_vcpupin[] = {
        OPT_DOMAIN,
        { "vcpu", OPT_NUMBER, OPT_POSITIONAL, "vcpu number" },
        { "cpulist", OPT_STRING, OPT_POSITIONAL, "host cpu number(s) to set, or omit option to query" },
        OPTS_IMPACT,
        {}
};

static int cmd_vcpupin(Ctl *ctl, const Cmd *cmd) {
        _cleanup_domain_ xv_domain *d = NULL;
        _cleanup_(table_freep) Table *t = NULL;
        _cleanup_(json_freep) Json *j = NULL;
        _cleanup_xv_error_ xv_error e = XV_ERROR_NULL;
        _cleanup_free_ uint8_t *map = NULL;
        const char *cpulist = cmd_str(cmd, "cpulist");
        xv_vcpu_info *v = NULL;
        size_t n = 0, maplen = 0;
        unsigned vcpu = 0, flags;
        int has_vcpu, ncpus, r;

        if (impact_flags(cmd, &flags) < 0)
                return -1;
        d = cmd_domain(ctl, cmd, "domain", NULL);
        if (!d)
                return -1;
        has_vcpu = cmd_uint(cmd, "vcpu", &vcpu);
        if (has_vcpu < 0)
                return -1;
        ncpus = ctl_ncpus(ctl);
        if (ncpus < 0)
                return -1;

        if (cpulist) {
                if (!has_vcpu) {
                        print_error("vcpupin: Missing vCPU number in pin mode.");
                        return -1;
                }
                maplen = ((size_t) ncpus + 7) / 8;
                map = new0(uint8_t, maplen);
                if (!map)
                        return -1;
                r = cpulist_parse(cpulist, ncpus, map, maplen);
                if (r == -EINVAL) {
                        print_error("Invalid cpulist '%s'", cpulist);
                        print_error("invalid argument: Failed to parse bitmap '%s'", cpulist);
                }
                if (r < 0)
                        return -1;
                if (xv_domain_pin_vcpu(d, vcpu, map, maplen, flags, &e) < 0) {
                        print_xv_error(&e);
                        return -1;
                }
                json_result(ctl, xv_domain_get_name(d), "pinned");
                return 0;
        }

        /* The query: the affinity of every vCPU (or of one), as a table of CPU lists. */
        if (xv_domain_get_vcpus(d, &v, &n, &maplen, &e) < 0) {
                print_xv_error(&e);
                return -1;
        }
        if (has_vcpu && vcpu >= n) {
                xv_vcpu_info_free(v, n);
                print_error("vcpu %u is out of range of live cpu count %zu", vcpu, n);
                return -1;
        }
        t = table_new(2, "VCPU", "CPU Affinity");
        j = ctl->json ? json_new() : NULL;
        if (!t || (ctl->json && !j)) {
                xv_vcpu_info_free(v, n);
                return -1;
        }
        if (j) {
                json_object_begin(j, NULL);
                json_array_begin(j, "vcpus");
        }
        for (size_t i = 0; i < n; i++) {
                char num[16], list[1024];

                if (has_vcpu && v[i].number != vcpu)
                        continue;
                (void) snprintf(num, sizeof num, "%u", v[i].number);
                cpulist_format(v[i].cpumap, maplen, ncpus, list, sizeof list);
                if (j) {
                        json_object_begin(j, NULL);
                        json_uint(j, "vcpu", v[i].number);
                        json_string(j, "cpulist", list);
                        json_object_end(j);
                } else
                        (void) table_add_row(t, num, list);
        }
        xv_vcpu_info_free(v, n);
        if (j) {
                json_array_end(j);
                json_object_end(j);
                json_print(j);
        } else
                table_print(ctl, t);
        return 0;
}

/* ---------------------------------------------------------------------------------------------
 * autostart, devices
 */

static const CmdOpt opts_autostart[] = {
        OPT_DOMAIN,
        { "disable", OPT_BOOL, 0, "disable autostarting" },
        {}
};

static int cmd_autostart(Ctl *ctl, const Cmd *cmd) {
        _cleanup_domain_ xv_domain *d = NULL;
        _cleanup_xv_error_ xv_error e = XV_ERROR_NULL;
        bool on = !cmd_has(cmd, "disable");
        const char *name;

        d = cmd_domain(ctl, cmd, "domain", &name);
        if (!d)
                return -1;
        if (xv_domain_set_autostart(d, on, &e) < 0)
                return fail(&e, on ? "Failed to mark domain '%s' as autostarted" :
                                     "Failed to unmark domain '%s' as autostarted", name);
        out_extra(ctl, on ? "Domain '%s' marked as autostarted\n" : "Domain '%s' unmarked as autostarted\n", name);
        json_result(ctl, xv_domain_get_name(d), on ? "autostart enabled" : "autostart disabled");
        return 0;
}

static const CmdOpt opts_device[] = {
        OPT_DOMAIN,
        OPT_FILE("XML file"),
        { "persistent", OPT_BOOL, 0, "make live change persistent" },
        OPTS_IMPACT,
        {}
};

typedef enum DeviceOp {
        DEV_ATTACH,
        DEV_DETACH,
        DEV_UPDATE,
} DeviceOp;

static int device_op(Ctl *ctl, const Cmd *cmd, DeviceOp op) {
        static const struct {
                const char *verb, *done;
        } words[] = {
                [DEV_ATTACH] = { "attach", "attached" },
                [DEV_DETACH] = { "detach", "detached" },
                [DEV_UPDATE] = { "update", "updated" },
        };
        _cleanup_domain_ xv_domain *d = NULL;
        _cleanup_free_ char *xml = NULL;
        _cleanup_xv_error_ xv_error e = XV_ERROR_NULL;
        const char *file = cmd_str(cmd, "file");
        unsigned flags;
        int r;

        if (impact_flags(cmd, &flags) < 0 || cmd_exclusive(cmd, "persistent", "current") < 0)
                return -1;
        if (cmd_has(cmd, "persistent")) {
                bool active = false;

                flags |= XV_DOMAIN_AFFECT_CONFIG;
                d = cmd_domain(ctl, cmd, "domain", NULL);
                if (!d)
                        return -1;
                if (xv_domain_is_active(d, &active, NULL) >= 0 && active)
                        flags |= XV_DOMAIN_AFFECT_LIVE;
        } else {
                d = cmd_domain(ctl, cmd, "domain", NULL);
                if (!d)
                        return -1;
        }
        if (read_file_or_fail(file, &xml) < 0)
                return -1;
        switch (op) {
        case DEV_ATTACH:
                r = xv_domain_attach_device(d, xml, flags, &e);
                break;
        case DEV_DETACH:
                r = xv_domain_detach_device(d, xml, flags, &e);
                break;
        default:
                r = xv_domain_update_device(d, xml, flags, &e);
        }
        if (r < 0)
                return fail(&e, "Failed to %s device from %s", words[op].verb, file);
        out_extra(ctl, "Device %s successfully\n", words[op].done);
        json_result(ctl, xv_domain_get_name(d), words[op].done);
        return 0;
}

static int cmd_attach_device(Ctl *ctl, const Cmd *cmd) {
        return device_op(ctl, cmd, DEV_ATTACH);
}

static int cmd_detach_device(Ctl *ctl, const Cmd *cmd) {
        return device_op(ctl, cmd, DEV_DETACH);
}

static int cmd_update_device(Ctl *ctl, const Cmd *cmd) {
        return device_op(ctl, cmd, DEV_UPDATE);
}

/* ---------------------------------------------------------------------------------------------
 * Statistics
 */

static const CmdOpt opts_domblkstat[] = {
        OPT_DOMAIN,
        { "device", OPT_STRING, OPT_REQUIRED | OPT_POSITIONAL, "block device" },
        {}
};

typedef struct StatField {
        const char *key;
        int64_t value;                  /* < 0: not available, not printed (as virsh) */
} StatField;

/* "DEV KEY VALUE" lines as virsh prints them, or one JSON object with @dev_key naming the device. */
static int print_stats(Ctl *ctl, const char *dev_key, const char *dev, const StatField *f, size_t n) {
        _cleanup_(json_freep) Json *j = NULL;

        if (ctl->json) {
                j = json_new();
                if (!j)
                        return -1;
                json_object_begin(j, NULL);
                json_string(j, dev_key, dev);
        }
        for (size_t i = 0; i < n; i++) {
                if (f[i].value < 0)
                        continue;
                if (j)
                        json_int(j, f[i].key, f[i].value);
                else
                        out(ctl, "%s %s %" PRIi64 "\n", dev, f[i].key, f[i].value);
        }
        if (j) {
                json_object_end(j);
                json_print(j);
        }
        return 0;
}

static int cmd_domblkstat(Ctl *ctl, const Cmd *cmd) {
        _cleanup_domain_ xv_domain *d = NULL;
        _cleanup_xv_error_ xv_error e = XV_ERROR_NULL;
        const char *name, *dev = cmd_str(cmd, "device");
        xv_block_stats s;

        d = cmd_domain(ctl, cmd, "domain", &name);
        if (!d)
                return -1;
        if (xv_domain_block_stats(d, dev, &s, &e) < 0)
                return fail(&e, "Failed to get block stats %s %s", name, dev);
        return print_stats(ctl, "device", dev, (const StatField[]) {
                { "rd_req", s.rd_req }, { "rd_bytes", s.rd_bytes }, { "wr_req", s.wr_req },
                { "wr_bytes", s.wr_bytes }, { "errs", s.errs } }, 5);
}

static const CmdOpt opts_domifstat[] = {
        OPT_DOMAIN,
        { "interface", OPT_STRING, OPT_REQUIRED | OPT_POSITIONAL, "interface device specified by name or MAC Address" },
        {}
};

static int cmd_domifstat(Ctl *ctl, const Cmd *cmd) {
        _cleanup_domain_ xv_domain *d = NULL;
        _cleanup_xv_error_ xv_error e = XV_ERROR_NULL;
        const char *name, *dev = cmd_str(cmd, "interface");
        xv_interface_stats s;

        d = cmd_domain(ctl, cmd, "domain", &name);
        if (!d)
                return -1;
        if (xv_domain_interface_stats(d, dev, &s, &e) < 0)
                return fail(&e, "Failed to get interface stats %s %s", name, dev);
        return print_stats(ctl, "interface", dev, (const StatField[]) {
                { "rx_bytes", s.rx_bytes }, { "rx_packets", s.rx_packets }, { "rx_errs", s.rx_errs },
                { "rx_drop", s.rx_drop }, { "tx_bytes", s.tx_bytes }, { "tx_packets", s.tx_packets },
                { "tx_errs", s.tx_errs }, { "tx_drop", s.tx_drop } }, 8);
}

/* ---------------------------------------------------------------------------------------------
 * schedinfo
 */

#define SCHED_SET_MAX 16

static const CmdOpt opts_schedinfo[] = {
        OPT_DOMAIN,
        { "weight", OPT_NUMBER, 0, "weight for XEN_CREDIT" },
        { "cap", OPT_NUMBER, 0, "cap for XEN_CREDIT" },
        OPTS_IMPACT,
        { "set", OPT_ARGV, OPT_POSITIONAL, "parameter=value" },
        {}
};

/* One "field=value" for a parameter the scheduler has, typed like the current value. */
static int sched_param_parse(const xv_param *cur, size_t ncur, const char *field, const char *value, xv_param *ret) {
        for (size_t i = 0; i < ncur; i++) {
                int r = -EINVAL;

                if (!streq(cur[i].field, field))
                        continue;
                *ret = (xv_param) { .type = cur[i].type };
                (void) snprintf(ret->field, sizeof ret->field, "%s", field);
                switch (cur[i].type) {
                case XV_PARAM_INT:
                        r = safe_atoi(value, &ret->value.i);
                        break;
                case XV_PARAM_UINT:
                        r = safe_atou(value, &ret->value.ui);
                        break;
                case XV_PARAM_LLONG: {
                        int64_t v;

                        r = safe_atoi64(value, &v);
                        ret->value.l = v;
                        break;
                }
                case XV_PARAM_ULLONG: {
                        uint64_t v;

                        r = safe_atou64(value, &v);
                        ret->value.ul = v;
                        break;
                }
                case XV_PARAM_BOOLEAN:
                        r = parse_boolean(value);
                        if (r >= 0)
                                ret->value.b = r;
                        break;
                default:
                        break;
                }
                if (r < 0) {
                        print_error("invalid value of %s: '%s'", field, value);
                        return -1;
                }
                return 0;
        }
        print_error("invalid scheduler option: %s", field);
        return -1;
}

static int cmd_schedinfo(Ctl *ctl, const Cmd *cmd) {
        _cleanup_domain_ xv_domain *d = NULL;
        _cleanup_free_ char *type = NULL;
        _cleanup_(json_freep) Json *j = NULL;
        _cleanup_xv_error_ xv_error e = XV_ERROR_NULL;
        xv_param *params = NULL, set[SCHED_SET_MAX];
        size_t n = 0, nset = 0;
        unsigned flags;
        int nparams = 0;

        if (impact_flags(cmd, &flags) < 0)
                return -1;
        d = cmd_domain(ctl, cmd, "domain", NULL);
        if (!d)
                return -1;
        if (xv_domain_get_scheduler_type(d, &type, &nparams, &e) < 0) {
                print_xv_error(&e);
                return -1;
        }
        out(ctl, "%-15s: %s\n", "Scheduler", type);
        if (nparams <= 0)
                goto print;

        if (xv_domain_get_scheduler_params(d, flags, &params, &n, &e) < 0) {
                print_xv_error(&e);
                return -1;
        }

        for (size_t i = 0; i < cmd->n_argv; i++) {
                _cleanup_free_ char *f = strdup(cmd->argv[i]);
                char *eq;

                if (!f) {
                        xv_params_free(params, n);
                        return -1;
                }
                eq = strchr(f, '=');
                if (!eq) {
                        print_error("Invalid syntax for --set, expecting name=value");
                        xv_params_free(params, n);
                        return -1;
                }
                *eq++ = 0;
                if (nset >= SCHED_SET_MAX || sched_param_parse(params, n, f, eq, &set[nset]) < 0) {
                        xv_params_free(params, n);
                        return -1;
                }
                nset++;
        }
        for (size_t k = 0; k < 2; k++) {
                const char *opt = k == 0 ? "weight" : "cap";
                const char *val = cmd_str(cmd, opt);

                if (!val)
                        continue;
                if (nset >= SCHED_SET_MAX || sched_param_parse(params, n, opt, val, &set[nset]) < 0) {
                        xv_params_free(params, n);
                        return -1;
                }
                nset++;
        }
        if (nset > 0) {
                xv_params_free(params, n);
                params = NULL;
                n = 0;
                if (xv_domain_set_scheduler_params(d, set, nset, flags, &e) < 0 ||
                    xv_domain_get_scheduler_params(d, flags, &params, &n, &e) < 0) {
                        print_xv_error(&e);
                        return -1;
                }
        }

print:
        if (ctl->json) {
                j = json_new();
                if (!j) {
                        xv_params_free(params, n);
                        return -1;
                }
                json_object_begin(j, NULL);
                json_string(j, "scheduler", type);
                json_object_begin(j, "params");
                for (size_t i = 0; i < n; i++)
                        json_param(j, &params[i]);
                json_object_end(j);
                json_object_end(j);
                json_print(j);
        } else
                for (size_t i = 0; i < n; i++) {
                        char buf[64];

                        out(ctl, "%-15s: %s\n", params[i].field, param_to_string(&params[i], buf, sizeof buf));
                }
        xv_params_free(params, n);
        return 0;
}

/* ---------------------------------------------------------------------------------------------
 * domstats
 */

static const struct {
        const char *opt;
        unsigned bit;
} stats_groups[] = {
        { "state", 1u << 0 },
        { "cpu-total", 1u << 1 },
        { "balloon", 1u << 2 },
        { "vcpu", 1u << 3 },
        { "interface", 1u << 4 },
        { "block", 1u << 5 },
        { "perf", 1u << 6 },
        { "iothread", 1u << 7 },
        { "memory", 1u << 8 },
        { "dirtyrate", 1u << 9 },
        { "vm", 1u << 10 },
}, stats_lists[] = {
        { "list-active", XV_LIST_DOMAINS_ACTIVE },
        { "list-inactive", XV_LIST_DOMAINS_INACTIVE },
        { "list-persistent", XV_LIST_DOMAINS_PERSISTENT },
        { "list-transient", XV_LIST_DOMAINS_TRANSIENT },
        { "list-running", XV_LIST_DOMAINS_RUNNING },
        { "list-paused", XV_LIST_DOMAINS_PAUSED },
        { "list-shutoff", XV_LIST_DOMAINS_SHUTOFF },
        { "list-other", XV_LIST_DOMAINS_OTHER },
};

#define DOMSTATS_ENFORCE (1u << 31)     /* VIR_CONNECT_GET_ALL_DOMAINS_STATS_ENFORCE_STATS */
#define DOMSTATS_DOMAINS_MAX 4096

static const CmdOpt opts_domstats[] = {
        { "state", OPT_BOOL, 0, "report domain state" },
        { "cpu-total", OPT_BOOL, 0, "report domain physical cpu usage" },
        { "balloon", OPT_BOOL, 0, "report domain balloon statistics" },
        { "vcpu", OPT_BOOL, 0, "report domain virtual cpu information" },
        { "interface", OPT_BOOL, 0, "report domain network interface information" },
        { "block", OPT_BOOL, 0, "report domain block device statistics" },
        { "perf", OPT_BOOL, 0, "report domain perf event statistics" },
        { "iothread", OPT_BOOL, 0, "report domain IOThread information" },
        { "memory", OPT_BOOL, 0, "report domain memory usage" },
        { "dirtyrate", OPT_BOOL, 0, "report domain dirty rate information" },
        { "vm", OPT_BOOL, 0, "report hypervisor-specific statistics" },
        { "list-active", OPT_BOOL, 0, "list only active domains" },
        { "list-inactive", OPT_BOOL, 0, "list only inactive domains" },
        { "list-persistent", OPT_BOOL, 0, "list only persistent domains" },
        { "list-transient", OPT_BOOL, 0, "list only transient domains" },
        { "list-running", OPT_BOOL, 0, "list only running domains" },
        { "list-paused", OPT_BOOL, 0, "list only paused domains" },
        { "list-shutoff", OPT_BOOL, 0, "list only shutoff domains" },
        { "list-other", OPT_BOOL, 0, "list only domains in other states" },
        { "raw", OPT_BOOL, 0, "do not pretty-print the fields" },
        { "enforce", OPT_BOOL, 0, "enforce requested stats parameters" },
        { "domain", OPT_ARGV, OPT_POSITIONAL, "list of domains to get stats for" },
        {}
};

static int cmd_domstats(Ctl *ctl, const Cmd *cmd) {
        _cleanup_(json_freep) Json *j = NULL;
        _cleanup_xv_error_ xv_error e = XV_ERROR_NULL;
        _cleanup_free_ xv_domain **doms = NULL;
        xv_domain_stats *recs = NULL;
        unsigned stats = 0, flags = 0;
        size_t nrecs = 0, ndoms = 0;
        int ret = 0;

        for (size_t i = 0; i < ELEMENTSOF(stats_groups); i++)
                if (cmd_has(cmd, stats_groups[i].opt))
                        stats |= stats_groups[i].bit;
        for (size_t i = 0; i < ELEMENTSOF(stats_lists); i++)
                if (cmd_has(cmd, stats_lists[i].opt))
                        flags |= stats_lists[i].bit;
        if (cmd_has(cmd, "enforce"))
                flags |= DOMSTATS_ENFORCE;

        if (cmd->n_argv > 0) {
                if (cmd->n_argv > DOMSTATS_DOMAINS_MAX) {
                        print_error("too many domains (at most %d)", DOMSTATS_DOMAINS_MAX);
                        return -1;
                }
                doms = new0(xv_domain *, cmd->n_argv);
                if (!doms)
                        return -1;
                for (size_t i = 0; i < cmd->n_argv; i++) {
                        doms[ndoms] = domain_lookup(ctl, cmd->argv[i]);
                        if (!doms[ndoms]) {
                                ret = -1;
                                goto finish;
                        }
                        ndoms++;
                }
        }

        if (xv_conn_get_all_domain_stats(ctl->conn, ndoms > 0 ? doms : NULL, ndoms, stats, flags, &recs, &nrecs,
                                         &e) < 0) {
                print_xv_error(&e);
                ret = -1;
                goto finish;
        }

        if (ctl->json) {
                j = json_new();
                if (!j) {
                        ret = -1;
                        goto finish;
                }
                json_object_begin(j, NULL);
                json_array_begin(j, "domains");
        }
        for (size_t i = 0; i < nrecs; i++) {
                if (j) {
                        json_object_begin(j, NULL);
                        json_string(j, "name", xv_domain_get_name(recs[i].dom));
                        json_object_begin(j, "stats");
                        for (size_t k = 0; k < recs[i].n_params; k++)
                                json_param(j, &recs[i].params[k]);
                        json_object_end(j);
                        json_object_end(j);
                        continue;
                }
                if (i > 0)
                        out(ctl, "\n");
                out(ctl, "Domain: '%s'\n", xv_domain_get_name(recs[i].dom));
                for (size_t k = 0; k < recs[i].n_params; k++) {
                        char buf[64];

                        out(ctl, "  %s=%s\n", recs[i].params[k].field,
                            param_to_string(&recs[i].params[k], buf, sizeof buf));
                }
        }
        if (j) {
                json_array_end(j);
                json_object_end(j);
                json_print(j);
        }
        xv_domain_stats_free(recs, nrecs);

finish:
        for (size_t i = 0; i < ndoms; i++)
                xv_domain_unref(doms[i]);
        return ret;
}

/* ---------------------------------------------------------------------------------------------
 * event
 */

typedef struct EventLoop {
        Ctl *ctl;
        bool timestamp;
        bool loop;
        unsigned count;
} EventLoop;

static void event_prefix(EventLoop *l, char *buf, size_t size) {
        struct timespec ts;
        struct tm tm;
        char when[32];

        buf[0] = 0;
        if (!l->timestamp)
                return;
        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
        (void) snprintf(buf, size, "%s.%03ld+0000: ", when, ts.tv_nsec / 1000000);
}

static void on_lifecycle(xv_conn *c, xv_domain *dom, int event, int detail, void *userdata) {
        EventLoop *l = userdata;
        char prefix[64];

        (void) c;
        event_prefix(l, prefix, sizeof prefix);
        if (l->ctl->json) {
                _cleanup_(json_freep) Json *j = json_new();

                if (j) {
                        json_object_begin(j, NULL);
                        if (prefix[0])
                                json_string(j, "timestamp", prefix);
                        json_string(j, "event", "lifecycle");
                        json_string(j, "domain", xv_domain_get_name(dom));
                        json_string(j, "type", xv_event_type_to_string(event));
                        json_string(j, "detail", xv_event_detail_to_string(event, detail));
                        json_object_end(j);
                        json_print(j);
                }
        } else
                out(l->ctl, "%sevent 'lifecycle' for domain '%s': %s %s\n", prefix, xv_domain_get_name(dom),
                    xv_event_type_to_string(event), xv_event_detail_to_string(event, detail));
        fflush(stdout);
        l->count++;
}

static void on_reboot(xv_conn *c, xv_domain *dom, void *userdata) {
        EventLoop *l = userdata;
        char prefix[64];

        (void) c;
        event_prefix(l, prefix, sizeof prefix);
        if (l->ctl->json) {
                _cleanup_(json_freep) Json *j = json_new();

                if (j) {
                        json_object_begin(j, NULL);
                        json_string(j, "event", "reboot");
                        json_string(j, "domain", xv_domain_get_name(dom));
                        json_object_end(j);
                        json_print(j);
                }
        } else
                out(l->ctl, "%sevent 'reboot' for domain '%s'\n", prefix, xv_domain_get_name(dom));
        fflush(stdout);
        l->count++;
}

static const CmdOpt opts_event[] = {
        { "domain", OPT_STRING, OPT_POSITIONAL, "filter by domain name, id or uuid" },
        { "event", OPT_STRING, 0, "which event type to wait for" },
        { "all", OPT_BOOL, 0, "wait for all events instead of just one type" },
        { "loop", OPT_BOOL, 0, "loop until timeout or interrupt, rather than one-shot" },
        { "timeout", OPT_NUMBER, 0, "timeout seconds" },
        { "list", OPT_BOOL, 0, "list valid event types" },
        { "timestamp", OPT_BOOL, 0, "show timestamp for each printed event" },
        {}
};

static int cmd_event(Ctl *ctl, const Cmd *cmd) {
        _cleanup_domain_ xv_domain *d = NULL;
        _cleanup_xv_error_ xv_error e = XV_ERROR_NULL;
        const char *ev = cmd_str(cmd, "event");
        EventLoop l = { .ctl = ctl, .timestamp = cmd_has(cmd, "timestamp"), .loop = cmd_has(cmd, "loop") };
        int ids[2] = { -1, -1 }, timeout = 0, has_timeout, fd, ret = 0;
        struct timespec start;

        if (cmd_has(cmd, "list")) {
                if (ctl->json) {
                        _cleanup_(json_freep) Json *j = json_new();

                        if (!j)
                                return -1;
                        json_object_begin(j, NULL);
                        json_array_begin(j, "events");
                        json_string(j, NULL, "lifecycle");
                        json_string(j, NULL, "reboot");
                        json_array_end(j);
                        json_object_end(j);
                        json_print(j);
                } else
                        out(ctl, "lifecycle\nreboot\n");
                return 0;
        }
        if (!ev && !cmd_has(cmd, "all")) {
                print_error("one of --list, --all, or --event <type> is required");
                return -1;
        }
        if (cmd_exclusive(cmd, "all", "event") < 0)
                return -1;
        if (ev && !streq(ev, "lifecycle") && !streq(ev, "reboot")) {
                print_error("unknown event type %s", ev);
                return -1;
        }
        has_timeout = cmd_int(cmd, "timeout", &timeout);
        if (has_timeout < 0)
                return -1;
        if (has_timeout && timeout < 1) {
                print_error("invalid timeout");
                return -1;
        }
        if (cmd_has(cmd, "domain")) {
                d = cmd_domain(ctl, cmd, "domain", NULL);
                if (!d)
                        return -1;
        }

        if ((!ev || streq(ev, "lifecycle")) &&
            xv_conn_register_lifecycle_event(ctl->conn, d, on_lifecycle, &l, NULL, &ids[0], &e) < 0) {
                print_xv_error(&e);
                return -1;
        }
        if ((!ev || streq(ev, "reboot")) &&
            xv_conn_register_reboot_event(ctl->conn, d, on_reboot, &l, NULL, &ids[1], &e) < 0) {
                /* With --all, a daemon without reboot events still serves the lifecycle ones. */
                if (ev) {
                        print_xv_error(&e);
                        ret = -1;
                        goto finish;
                }
                xv_error_clear(&e);
        }

        fd = xv_conn_get_event_fd(ctl->conn);
        clock_gettime(CLOCK_MONOTONIC, &start);
        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                int wait_ms = -1;

                if (has_timeout) {
                        struct timespec now;
                        int64_t elapsed;

                        clock_gettime(CLOCK_MONOTONIC, &now);
                        elapsed = (int64_t) (now.tv_sec - start.tv_sec) * 1000 +
                                  (now.tv_nsec - start.tv_nsec) / 1000000;
                        if (elapsed >= (int64_t) timeout * 1000) {
                                out(ctl, "event loop timed out\n");
                                break;
                        }
                        wait_ms = (int) ((int64_t) timeout * 1000 - elapsed);
                }
                if (poll(&p, 1, wait_ms) < 0) {
                        if (errno == EINTR)
                                continue;
                        print_error("poll: %s", strerror(errno));
                        ret = -1;
                        break;
                }
                if (p.revents)
                        (void) xv_conn_dispatch_events(ctl->conn);
                if (!xv_conn_is_alive(ctl->conn)) {
                        print_error("connection to the daemon closed");
                        ret = -1;
                        break;
                }
                if (l.count > 0 && !l.loop)
                        break;
        }
        if (ctl->json) {
                _cleanup_(json_freep) Json *j = json_new();

                if (j) {
                        json_object_begin(j, NULL);
                        json_uint(j, "events_received", l.count);
                        json_object_end(j);
                        json_print(j);
                }
        } else
                out(ctl, "events received: %u\n", l.count);
        if (l.count == 0)
                ret = -1;

finish:
        for (size_t i = 0; i < ELEMENTSOF(ids); i++)
                if (ids[i] >= 0)
                        (void) xv_conn_deregister_event(ctl->conn, ids[i], NULL);
        return ret;
}

/* ---------------------------------------------------------------------------------------------
 * Completion support
 */

char **domain_names(Ctl *ctl) {
        _cleanup_(domain_listp) xv_domain **list = NULL;
        char **names = NULL;
        size_t n = 0;

        if (!ctl->conn || xv_conn_list_all_domains(ctl->conn, 0, &list, &n, NULL) < 0)
                return NULL;
        for (size_t i = 0; i < n; i++)
                if (strv_extend(&names, xv_domain_get_name(list[i])) < 0)
                        break;
        return names;
}

/* ---------------------------------------------------------------------------------------------
 * The table
 */

const CmdDef xvsh_domain_cmds[] = {
        { "list", "monitor", "list domains", "Returns list of domains.", opts_list, cmd_list, 0 },
        { "dominfo", "monitor", "domain information", "Returns basic information about the domain.",
          opts_domain, cmd_dominfo, 0 },
        { "domstate", "monitor", "domain state", "Returns state about a domain.", opts_domstate, cmd_domstate, 0 },
        { "domid", "domain", "convert a domain name or UUID to domain id", NULL, opts_domid, cmd_domid, 0 },
        { "domuuid", "domain", "convert a domain name or id to domain UUID", NULL, opts_domuuid, cmd_domuuid, 0 },
        { "domname", "domain", "convert a domain id or UUID to domain name", NULL, opts_domname, cmd_domname, 0 },
        { "dumpxml", "domain", "domain information in XML", "Output the domain information as an XML dump to stdout.",
          opts_dumpxml, cmd_dumpxml, 0 },
        { "define", "domain", "define (but don't start) a domain from an XML file",
          "Define a domain.", opts_define, cmd_define, 0 },
        { "undefine", "domain", "undefine a domain", "Undefine an inactive domain, or convert persistent to transient.",
          opts_undefine, cmd_undefine, 0 },
        { "start", "domain", "start a (previously defined) inactive domain",
          "Start a domain, either from the last managedsave\n    state, or via a fresh boot if no managedsave state\n    is present.",
          opts_start, cmd_start, 0 },
        { "create", "domain", "create a domain from an XML file", "Create a domain.", opts_create, cmd_create, 0 },
        { "shutdown", "domain", "gracefully shutdown a domain", "Run shutdown in the target domain.",
          opts_domain, cmd_shutdown, 0 },
        { "reboot", "domain", "reboot a domain", "Run a reboot command in the target domain.",
          opts_domain, cmd_reboot, 0 },
        { "destroy", "domain", "destroy (stop) a domain", "Forcefully stop a given domain, but leave its resources intact.",
          opts_domain, cmd_destroy, 0 },
        { "suspend", "domain", "suspend a domain", "Suspend a running domain.", opts_domain, cmd_suspend, 0 },
        { "resume", "domain", "resume a domain", "Resume a previously suspended domain.", opts_domain, cmd_resume, 0 },
        { "save", "domain", "save a domain state to a file", "Save the RAM state of a running domain.",
          opts_save, cmd_save, 0 },
        { "restore", "domain", "restore a domain from a saved state in a file", "Restore a domain.",
          opts_restore, cmd_restore, 0 },
        { "managedsave", "domain", "managed save of a domain state",
          "Save and destroy a running domain, so it can be restarted from\n    the same state at a later time.  When the virsh 'start'\n    command is next run for the domain, it will automatically\n    be started from this saved state.",
          opts_managedsave, cmd_managedsave, 0 },
        { "dump", "domain", "dump the core of a domain to a file for analysis", "Core dump a domain.",
          opts_dump, cmd_dump, 0 },
        { "setmem", "domain", "change memory allocation", "Change the current memory allocation in the guest domain.",
          opts_setmem, cmd_setmem, 0 },
        { "setmaxmem", "domain", "change maximum memory limit", "Change the maximum memory allocation limit in the guest domain.",
          opts_setmem, cmd_setmaxmem, 0 },
        { "setvcpus", "domain", "change number of virtual CPUs", "Change the number of virtual CPUs in the guest domain.",
          opts_setvcpus, cmd_setvcpus, 0 },
        { "vcpuinfo", "domain", "detailed domain vcpu information", "Returns basic information about the domain virtual CPUs.",
          opts_domain, cmd_vcpuinfo, 0 },
        { "vcpupin", "domain", "control or query domain vcpu affinity", "Pin domain VCPUs to host physical CPUs.",
          opts_vcpupin, cmd_vcpupin, 0 },
        { "vcpucount", "domain", "domain vcpu counts", "Returns the number of virtual CPUs used by the domain.",
          opts_vcpucount, cmd_vcpucount, 0 },
        { "autostart", "domain", "autostart a domain", "Configure a domain to be automatically started at boot.",
          opts_autostart, cmd_autostart, 0 },
        { "attach-device", "domain", "attach device from an XML file", "Attach device from an XML <file>.",
          opts_device, cmd_attach_device, 0 },
        { "detach-device", "domain", "detach device from an XML file", "Detach device from an XML <file>",
          opts_device, cmd_detach_device, 0 },
        { "update-device", "domain", "update device from an XML file", "Update device from an XML <file>.",
          opts_device, cmd_update_device, 0 },
        { "domblkstat", "monitor", "get device block stats for a domain", "Get device block stats for a running domain.",
          opts_domblkstat, cmd_domblkstat, 0 },
        { "domifstat", "monitor", "get network interface stats for a domain",
          "Get network interface stats for a running domain.", opts_domifstat, cmd_domifstat, 0 },
        { "schedinfo", "domain", "show/set scheduler parameters", "Show/Set scheduler parameters.",
          opts_schedinfo, cmd_schedinfo, 0 },
        { "domstats", "monitor", "get statistics about one or multiple domains",
          "Gets statistics about one or more (or all) domains", opts_domstats, cmd_domstats, 0 },
        { "event", "domain", "Domain Events", "List event types, or wait for domain events to occur",
          opts_event, cmd_event, 0 },
        {}
};
