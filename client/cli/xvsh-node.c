/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xvsh host commands: nodeinfo, capabilities, freecell, hostname, status, version and the native
 * configuration conversions, laid out as virsh 9.0 prints them.
 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xv-alloc.h"
#include "xvsh.h"

#define _cleanup_xv_error_ _cleanup_(xv_error_clear)
/* NUMA cells the host may report; more than the daemon's own limit is refused. */
#define FREECELL_CELLS_MAX 1024

static int cmd_nodeinfo(Ctl *ctl, const Cmd *cmd) {
        _cleanup_(json_freep) Json *j = NULL;
        _cleanup_xv_error_ xv_error e = XV_ERROR_NULL;
        xv_node_info i;

        (void) cmd;
        if (xv_node_get_info(ctl->conn, &i, &e) < 0)
                return fail(&e, "failed to get node information");
        if (ctl->json) {
                j = json_new();
                if (!j)
                        return -1;
                json_object_begin(j, NULL);
                json_string(j, "cpu_model", i.model);
                json_uint(j, "cpus", i.cpus);
                json_uint(j, "mhz", i.mhz);
                json_uint(j, "sockets", i.sockets);
                json_uint(j, "cores_per_socket", i.cores);
                json_uint(j, "threads_per_core", i.threads);
                json_uint(j, "numa_cells", i.nodes);
                json_uint(j, "memory_kib", i.memory_kib);
                json_object_end(j);
                json_print(j);
                return 0;
        }
        out(ctl, "%-20s %.*s\n", "CPU model:", (int) strnlen(i.model, sizeof i.model), i.model);
        out(ctl, "%-20s %u\n", "CPU(s):", i.cpus);
        out(ctl, "%-20s %u MHz\n", "CPU frequency:", i.mhz);
        out(ctl, "%-20s %u\n", "CPU socket(s):", i.sockets);
        out(ctl, "%-20s %u\n", "Core(s) per socket:", i.cores);
        out(ctl, "%-20s %u\n", "Thread(s) per core:", i.threads);
        out(ctl, "%-20s %u\n", "NUMA cell(s):", i.nodes);
        out(ctl, "%-20s %" PRIu64 " KiB\n", "Memory size:", i.memory_kib);
        return 0;
}

/* xvsh's own (virsh has no such command): the backend and the state of each channel to the host. */
static int cmd_status(Ctl *ctl, const Cmd *cmd) {
        _cleanup_(json_freep) Json *j = NULL;
        _cleanup_xv_error_ xv_error e = XV_ERROR_NULL;
        xv_host_status st;

        (void) cmd;
        if (xv_conn_get_host_status(ctl->conn, &st, &e) < 0)
                return fail(&e, "failed to get the host status");
        if (ctl->json) {
                j = json_new();
                if (!j)
                        return -1;
                json_object_begin(j, NULL);
                json_string(j, "backend", st.backend);
                json_bool(j, "xend", st.xend_up);
                json_int(j, "xend_config_version", st.xend_config_version);
                json_bool(j, "xenstore", st.xenstore_up);
                json_bool(j, "hypercalls", st.hypercalls_up);
                json_bool(j, "xm_dir", st.xm_dir_active);
                json_bool(j, "polkit_auth", st.polkit_auth);
                json_bool(j, "polkit_acls", st.polkit_acls);
                json_object_end(j);
                json_print(j);
                return 0;
        }
        out(ctl, "%-20s %s\n", "Backend:", st.backend);
        if (!streq(st.backend, "xend"))
                out(ctl, "%-20s not used\n", "XenD:");
        else if (st.xend_up)
                out(ctl, "%-20s up (config version %d)\n", "XenD:", st.xend_config_version);
        else
                out(ctl, "%-20s down\n", "XenD:");
        out(ctl, "%-20s %s\n", "xenstore:", st.xenstore_up ? "up" : "down");
        out(ctl, "%-20s %s\n", "Hypercalls:", st.hypercalls_up ? "up" : "down");
        if (streq(st.backend, "xend"))
                out(ctl, "%-20s %s\n", "XM directory:", st.xm_dir_active ? "active" : "not used");
        out(ctl, "%-20s %s\n", "Authorization:",
            st.polkit_acls ? "polkit, per call" : st.polkit_auth ? "polkit, per connection" : "socket permissions");
        return 0;
}

static int print_text(Ctl *ctl, const char *key, const char *text) {
        _cleanup_(json_freep) Json *j = NULL;

        if (!ctl->json) {
                out(ctl, "%s", text);
                return 0;
        }
        j = json_new();
        if (!j)
                return -1;
        json_object_begin(j, NULL);
        json_string(j, key, text);
        json_object_end(j);
        json_print(j);
        return 0;
}

static int cmd_capabilities(Ctl *ctl, const Cmd *cmd) {
        _cleanup_free_ char *xml = NULL;
        _cleanup_xv_error_ xv_error e = XV_ERROR_NULL;

        (void) cmd;
        if (xv_conn_get_capabilities(ctl->conn, &xml, &e) < 0)
                return fail(&e, "failed to get capabilities");
        /* virsh adds a newline of its own after the document. */
        if (!ctl->json) {
                out(ctl, "%s\n", xml);
                return 0;
        }
        return print_text(ctl, "xml", xml);
}

static int cmd_hostname(Ctl *ctl, const Cmd *cmd) {
        _cleanup_free_ char *name = NULL;
        _cleanup_xv_error_ xv_error e = XV_ERROR_NULL;

        (void) cmd;
        if (xv_conn_get_hostname(ctl->conn, &name, &e) < 0)
                return fail(&e, "failed to get hostname");
        if (!ctl->json) {
                out(ctl, "%s\n", name);
                return 0;
        }
        return print_text(ctl, "hostname", name);
}

static void version_string(uint64_t v, char *buf, size_t size) {
        (void) snprintf(buf, size, "%" PRIu64 ".%" PRIu64 ".%" PRIu64, v / 1000000, (v / 1000) % 1000, v % 1000);
}

static const CmdOpt opts_version[] = {
        { "daemon", OPT_BOOL, 0, "report daemon version too" },
        {}
};

static int cmd_version(Ctl *ctl, const Cmd *cmd) {
        _cleanup_(json_freep) Json *j = NULL;
        _cleanup_free_ char *type = NULL;
        _cleanup_xv_error_ xv_error e = XV_ERROR_NULL;
        uint64_t hv = 0, daemon = 0;
        char hvs[32], ds[32];

        if (xv_conn_get_type(ctl->conn, &type, &e) < 0)
                return fail(&e, "failed to get hypervisor type");
        if (xv_conn_get_version(ctl->conn, &hv, &e) < 0)
                return fail(&e, "failed to get the hypervisor version");
        version_string(hv, hvs, sizeof hvs);
        if (cmd_has(cmd, "daemon")) {
                if (xv_conn_get_lib_version(ctl->conn, &daemon, &e) < 0)
                        return fail(&e, "failed to get the daemon version");
                version_string(daemon, ds, sizeof ds);
        }

        if (ctl->json) {
                j = json_new();
                if (!j)
                        return -1;
                json_object_begin(j, NULL);
                json_string(j, "library", PACKAGE_VERSION);
                json_string(j, "hypervisor_type", type);
                json_string(j, "hypervisor", hvs);
                if (cmd_has(cmd, "daemon"))
                        json_string(j, "daemon", ds);
                json_object_end(j);
                json_print(j);
                return 0;
        }
        /* The library is linked from this build: the compiled and the running versions agree. */
        out(ctl, "Compiled against library: xenvirt %s\n", PACKAGE_VERSION);
        out(ctl, "Using library: xenvirt %s\n", PACKAGE_VERSION);
        out(ctl, "Using API: %s %s\n", type, PACKAGE_VERSION);
        out(ctl, "Running hypervisor: %s %s\n", type, hvs);
        if (cmd_has(cmd, "daemon"))
                out(ctl, "Running against daemon: %s\n", ds);
        return 0;
}

static const CmdOpt opts_freecell[] = {
        { "cellno", OPT_NUMBER, OPT_POSITIONAL, "NUMA cell number" },
        { "all", OPT_BOOL, 0, "show free memory for all NUMA cells" },
        {}
};

static int cmd_freecell(Ctl *ctl, const Cmd *cmd) {
        _cleanup_(json_freep) Json *j = NULL;
        _cleanup_xv_error_ xv_error e = XV_ERROR_NULL;
        _cleanup_free_ uint64_t *mem = NULL;
        int cell = 0, has_cell, n = 0;
        uint64_t total = 0;
        xv_node_info info;

        if (cmd_exclusive(cmd, "all", "cellno") < 0)
                return -1;
        has_cell = cmd_int(cmd, "cellno", &cell);
        if (has_cell < 0)
                return -1;
        if (ctl->json) {
                j = json_new();
                if (!j)
                        return -1;
                json_object_begin(j, NULL);
        }

        if (!has_cell && !cmd_has(cmd, "all")) {
                uint64_t bytes;

                if (xv_node_get_free_memory(ctl->conn, &bytes, &e) < 0) {
                        print_xv_error(&e);
                        return -1;
                }
                if (!j) {
                        out(ctl, "%s: %" PRIu64 " KiB\n", "Total", bytes / 1024);
                        return 0;
                }
                json_uint(j, "total_kib", bytes / 1024);
                json_object_end(j);
                json_print(j);
                return 0;
        }

        if (has_cell) {
                uint64_t bytes;

                if (xv_node_get_cells_free_memory(ctl->conn, cell, 1, &bytes, &n, &e) < 0 || n != 1) {
                        print_xv_error(&e);
                        return -1;
                }
                if (!j) {
                        out(ctl, "%d: %" PRIu64 " KiB\n", cell, bytes / 1024);
                        return 0;
                }
                json_array_begin(j, "cells");
                json_object_begin(j, NULL);
                json_int(j, "cell", cell);
                json_uint(j, "free_kib", bytes / 1024);
                json_object_end(j);
                json_array_end(j);
                json_object_end(j);
                json_print(j);
                return 0;
        }

        if (xv_node_get_info(ctl->conn, &info, &e) < 0) {
                print_xv_error(&e);
                return -1;
        }
        if (info.nodes == 0 || info.nodes > FREECELL_CELLS_MAX) {
                print_error("unexpected number of NUMA cells: %u", info.nodes);
                return -1;
        }
        mem = new0(uint64_t, info.nodes);
        if (!mem)
                return -1;
        if (xv_node_get_cells_free_memory(ctl->conn, 0, (int) info.nodes, mem, &n, &e) < 0) {
                print_xv_error(&e);
                return -1;
        }
        if (j)
                json_array_begin(j, "cells");
        for (int i = 0; i < n; i++) {
                total += mem[i] / 1024;
                if (j) {
                        json_object_begin(j, NULL);
                        json_int(j, "cell", i);
                        json_uint(j, "free_kib", mem[i] / 1024);
                        json_object_end(j);
                } else
                        out(ctl, "%5d: %10" PRIu64 " KiB\n", i, mem[i] / 1024);
        }
        if (j) {
                json_array_end(j);
                json_uint(j, "total_kib", total);
                json_object_end(j);
                json_print(j);
        } else {
                out(ctl, "--------------------\n");
                out(ctl, "%5s: %10" PRIu64 " KiB\n", "Total", total);
        }
        return 0;
}

static const CmdOpt opts_from_native[] = {
        { "format", OPT_STRING, OPT_REQUIRED | OPT_POSITIONAL, "source config data format" },
        { "config", OPT_STRING, OPT_REQUIRED | OPT_POSITIONAL, "config data file to import from" },
        {}
};

static int cmd_domxml_from_native(Ctl *ctl, const Cmd *cmd) {
        _cleanup_free_ char *config = NULL, *xml = NULL;
        _cleanup_xv_error_ xv_error e = XV_ERROR_NULL;

        if (read_file_or_fail(cmd_str(cmd, "config"), &config) < 0)
                return -1;
        if (xv_conn_domain_xml_from_native(ctl->conn, cmd_str(cmd, "format"), config, &xml, &e) < 0) {
                print_xv_error(&e);
                return -1;
        }
        return print_text(ctl, "xml", xml);
}

static const CmdOpt opts_to_native[] = {
        { "format", OPT_STRING, OPT_REQUIRED | OPT_POSITIONAL, "target config data type format" },
        { "domain", OPT_STRING, 0, "domain name, id or uuid" },
        { "xml", OPT_STRING, OPT_POSITIONAL, "xml data file to export from" },
        {}
};

static int cmd_domxml_to_native(Ctl *ctl, const Cmd *cmd) {
        _cleanup_free_ char *xml = NULL, *config = NULL;
        _cleanup_xv_error_ xv_error e = XV_ERROR_NULL;

        if (cmd_exclusive(cmd, "domain", "xml") < 0)
                return -1;
        if (cmd_has(cmd, "domain")) {
                xv_domain *d = domain_lookup(ctl, cmd_str(cmd, "domain"));
                int r;

                if (!d)
                        return -1;
                r = xv_domain_get_xml_desc(d, 0, &xml, &e);
                xv_domain_unref(d);
                if (r < 0) {
                        print_xv_error(&e);
                        return -1;
                }
        } else if (cmd_has(cmd, "xml")) {
                if (read_file_or_fail(cmd_str(cmd, "xml"), &xml) < 0)
                        return -1;
        } else {
                print_error("need either domain or domain XML");
                return -1;
        }
        if (xv_conn_domain_xml_to_native(ctl->conn, cmd_str(cmd, "format"), xml, &config, &e) < 0) {
                print_xv_error(&e);
                return -1;
        }
        return print_text(ctl, "config", config);
}

const CmdDef xvsh_node_cmds[] = {
        { "nodeinfo", "host", "node information", "Returns basic information about the node.",
          NULL, cmd_nodeinfo, 0 },
        { "capabilities", "host", "capabilities", "Returns capabilities of hypervisor/driver.",
          NULL, cmd_capabilities, 0 },
        { "freecell", "host", "NUMA free memory", "display available free memory for the NUMA cell.",
          opts_freecell, cmd_freecell, 0 },
        { "hostname", "host", "print the hypervisor hostname", NULL, NULL, cmd_hostname, 0 },
        { "status", "host", "backend and channel states",
          "Shows which backend serves the host and whether XenD, xenstore and hypercalls are up.",
          NULL, cmd_status, 0 },
        { "version", "host", "show version", "Display the system version information.",
          opts_version, cmd_version, 0 },
        { "domxml-from-native", "domain", "Convert native config to domain XML",
          "Convert native guest configuration format to domain XML format.",
          opts_from_native, cmd_domxml_from_native, 0 },
        { "domxml-to-native", "domain", "Convert domain XML to native config",
          "Convert domain XML config to a native guest configuration format.",
          opts_to_native, cmd_domxml_to_native, 0 },
        {}
};
