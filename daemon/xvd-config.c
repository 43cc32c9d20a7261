/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <syslog.h>

#include "xv-alloc.h"
#include "xv-fileio.h"
#include "xv-hypervisor.h"
#include "xv-message.h"
#include "xv-parse-util.h"
#include "xvd-config.h"

void config_init(Config *c) {
        *c = (Config) {
                .max_clients = CONFIG_MAX_CLIENTS_DEFAULT,
                .max_requests_per_client = CONFIG_MAX_REQUESTS_DEFAULT,
                .max_workers = CONFIG_MAX_WORKERS_DEFAULT,
                .max_frame_size = MESSAGE_FRAME_MAX,
                .keepalive_interval = CONFIG_KEEPALIVE_INTERVAL_DEFAULT,
                .keepalive_count = CONFIG_KEEPALIVE_COUNT_DEFAULT,
                .xend_timeout = CONFIG_XEND_TIMEOUT_DEFAULT,
                .log_level = LOG_INFO,
                .auth_unix_rw = CONFIG_AUTH_NONE,
                .auth_unix_ro = CONFIG_AUTH_NONE,
                .unix_sock_rw_perms = CONFIG_SOCK_PERMS_UNSET,
                .unix_sock_ro_perms = CONFIG_SOCK_RO_PERMS_DEFAULT,
        };
}

unsigned config_get_rw_perms(const Config *c) {
        if (c->unix_sock_rw_perms != CONFIG_SOCK_PERMS_UNSET)
                return c->unix_sock_rw_perms;
        return c->auth_unix_rw == CONFIG_AUTH_POLKIT ? CONFIG_SOCK_RW_PERMS_POLKIT : CONFIG_SOCK_RW_PERMS_DEFAULT;
}

static const char * const auth_names[_CONFIG_AUTH_MAX] = {
        [CONFIG_AUTH_NONE] = "none",
        [CONFIG_AUTH_POLKIT] = "polkit",
};

const char *config_auth_to_string(ConfigAuth a) {
        if (a < 0 || a >= _CONFIG_AUTH_MAX)
                return NULL;
        return auth_names[a];
}

static int parse_auth(const char *key, const char *value, ConfigAuth *ret, XvError *error) {
        for (ConfigAuth a = 0; a < _CONFIG_AUTH_MAX; a++)
                if (streq(value, auth_names[a])) {
                        *ret = a;
                        return 0;
                }
        return xv_error_setf(error, XVP_ERR_CONF_SYNTAX, "'%s' must be \"none\" or \"polkit\", not '%s'", key, value);
}

static int parse_perms(const char *key, const char *value, unsigned *ret, XvError *error) {
        bool ok = !isempty(value) && strlen(value) <= 4;
        unsigned v = 0;

        /* Octal digits only, as libvirtd.conf writes them ("0600"). */
        for (const char *p = value; ok && *p; p++) {
                if (*p < '0' || *p > '7')
                        ok = false;
                else
                        v = v * 8 + (unsigned) (*p - '0');
        }
        if (!ok || v > CONFIG_SOCK_PERMS_MAX)
                return xv_error_setf(error, XVP_ERR_CONF_SYNTAX,
                                     "'%s' must be an octal file mode such as \"0600\", not '%s'", key, value);
        *ret = v;
        return 0;
}

/* access_drivers: [ "polkit" ], [ ], "polkit" (the quotes of a plain string are gone already) or
 * empty. Each list entry is a double-quoted word. */
static int parse_access_drivers(const char *key, const char *value, bool *ret, XvError *error) {
        _cleanup_free_ char *copy = NULL;
        bool polkit = false;
        unsigned n = 0;
        char *p, *end;

        if (value[0] != '[') {
                if (isempty(value)) {
                        *ret = false;
                        return 0;
                }
                if (streq(value, "polkit")) {
                        *ret = true;
                        return 0;
                }
                return xv_error_setf(error, XVP_ERR_CONF_SYNTAX, "'%s': unknown access driver '%s' (only \"polkit\")",
                                     key, value);
        }

        copy = strdup(value + 1);
        if (!copy)
                return -ENOMEM;
        end = strrchr(copy, ']');
        if (!end || !isempty(end + 1 + strspn(end + 1, " \t")))
                return xv_error_setf(error, XVP_ERR_CONF_SYNTAX, "'%s': unterminated list '%s'", key, value);
        *end = '\0';

        for (p = copy;;) {
                char *q, *item;

                p += strspn(p, " \t");
                if (*p == '\0')
                        break;
                if (*p != '"')
                        return xv_error_setf(error, XVP_ERR_CONF_SYNTAX, "'%s': list entries must be quoted strings, in '%s'",
                                             key, value);
                item = p + 1;
                q = strchr(item, '"');
                if (!q)
                        return xv_error_setf(error, XVP_ERR_CONF_SYNTAX, "'%s': unterminated string in '%s'", key, value);
                *q = '\0';
                if (!streq(item, "polkit"))
                        return xv_error_setf(error, XVP_ERR_CONF_SYNTAX, "'%s': unknown access driver '%s' (only \"polkit\")",
                                             key, item);
                if (++n > CONFIG_ACCESS_DRIVERS_MAX)
                        return xv_error_setf(error, XVP_ERR_CONF_SYNTAX, "'%s': too many entries (limit %u)", key,
                                             CONFIG_ACCESS_DRIVERS_MAX);
                polkit = true;
                p = q + 1 + strspn(q + 1, " \t");
                if (*p == ',')
                        p++;
                else if (*p != '\0')
                        return xv_error_setf(error, XVP_ERR_CONF_SYNTAX, "'%s': expected ',' between entries in '%s'",
                                             key, value);
        }
        *ret = polkit;
        return 0;
}

void config_done(Config *c) {
        free(c->rw_socket);
        free(c->ro_socket);
        free(c->xend_socket);
        free(c->xm_dir);
        free(c->host_root);
        free(c->managed_save_dir);
        free(c->xl_config_dir);
        free(c->pid_file);
        config_init(c);
}

int config_parse_log_level(const char *s, int *ret) {
        static const char * const names[] = {
                [LOG_EMERG] = "emerg", [LOG_ALERT] = "alert", [LOG_CRIT] = "crit", [LOG_ERR] = "err",
                [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice", [LOG_INFO] = "info", [LOG_DEBUG] = "debug",
        };
        unsigned u;

        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (streq(s, names[i])) {
                        *ret = (int) i;
                        return 0;
                }
        if (streq(s, "error")) {
                *ret = LOG_ERR;
                return 0;
        }
        if (safe_atou(s, &u) >= 0 && u <= LOG_DEBUG) {
                *ret = (int) u;
                return 0;
        }
        return -EINVAL;
}

static int parse_unsigned(const char *key, const char *value, unsigned min, unsigned max, unsigned *ret,
                          XvError *error) {
        unsigned u;

        if (safe_atou(value, &u) < 0 || u < min || u > max)
                return xv_error_setf(error, XVP_ERR_CONF_SYNTAX,
                                     "'%s' must be a number between %u and %u, not '%s'", key, min, max, value);
        *ret = u;
        return 0;
}

static int set_string(char **field, const char *key, const char *value, bool absolute, XvError *error) {
        if (isempty(value))
                return xv_error_setf(error, XVP_ERR_CONF_SYNTAX, "'%s' must not be empty", key);
        if (absolute && value[0] != '/')
                return xv_error_setf(error, XVP_ERR_CONF_SYNTAX, "'%s' must be an absolute path, not '%s'",
                                     key, value);
        if (free_and_strdup(field, value) < 0)
                return -ENOMEM;
        return 0;
}

int config_set(Config *c, const char *key, const char *value, XvError *error) {
        if (streq(key, "rw_socket"))
                return set_string(&c->rw_socket, key, value, true, error);
        if (streq(key, "ro_socket"))
                return set_string(&c->ro_socket, key, value, true, error);
        if (streq(key, "xend_socket"))
                return set_string(&c->xend_socket, key, value, true, error);
        if (streq(key, "xend_timeout"))
                return parse_unsigned(key, value, 1, CONFIG_XEND_TIMEOUT_MAX, &c->xend_timeout, error);
        if (streq(key, "xm_dir"))
                return set_string(&c->xm_dir, key, value, true, error);
        if (streq(key, "host_root"))
                return set_string(&c->host_root, key, value, true, error);
        if (streq(key, "managed_save_dir"))
                return set_string(&c->managed_save_dir, key, value, true, error);
        if (streq(key, "xl_config_dir"))
                return set_string(&c->xl_config_dir, key, value, true, error);
        if (streq(key, "backend")) {
                HvBackendType b = hv_backend_type_from_string(value);

                if (b < 0)
                        return xv_error_setf(error, XVP_ERR_CONF_SYNTAX,
                                             "'%s' must be \"auto\", \"xend\" or \"libxl\", not '%s'", key, value);
                c->backend = b;
                return 0;
        }
        if (streq(key, "pid_file"))
                return set_string(&c->pid_file, key, value, true, error);
        if (streq(key, "socket_dir")) {
                _cleanup_free_ char *rw = NULL, *ro = NULL;

                if (isempty(value) || value[0] != '/')
                        return xv_error_setf(error, XVP_ERR_CONF_SYNTAX,
                                             "'%s' must be an absolute path, not '%s'", key, value);
                if (asprintf(&rw, "%s/xenvirtd-sock", value) < 0 ||
                    asprintf(&ro, "%s/xenvirtd-sock-ro", value) < 0)
                        return -ENOMEM;
                free(c->rw_socket);
                c->rw_socket = TAKE_PTR(rw);
                free(c->ro_socket);
                c->ro_socket = TAKE_PTR(ro);
                return 0;
        }
        if (streq(key, "max_clients"))
                return parse_unsigned(key, value, 1, CONFIG_MAX_CLIENTS_MAX, &c->max_clients, error);
        if (streq(key, "max_requests_per_client"))
                return parse_unsigned(key, value, 1, CONFIG_MAX_REQUESTS_MAX, &c->max_requests_per_client, error);
        if (streq(key, "max_workers"))
                return parse_unsigned(key, value, 1, CONFIG_MAX_WORKERS_MAX, &c->max_workers, error);
        if (streq(key, "io_threads"))
                return parse_unsigned(key, value, 0, CONFIG_IO_THREADS_MAX, &c->io_threads, error);
        if (streq(key, "keepalive_interval"))
                return parse_unsigned(key, value, 0, 3600, &c->keepalive_interval, error);
        if (streq(key, "keepalive_count"))
                return parse_unsigned(key, value, 1, 100, &c->keepalive_count, error);
        if (streq(key, "max_frame_size")) {
                uint64_t u;

                if (safe_atou64(value, &u) < 0 || u < MESSAGE_FRAME_MIN || u > MESSAGE_FRAME_MAX)
                        return xv_error_setf(error, XVP_ERR_CONF_SYNTAX,
                                             "'%s' must be a number between %zu and %zu, not '%s'",
                                             key, MESSAGE_FRAME_MIN, MESSAGE_FRAME_MAX, value);
                c->max_frame_size = u;
                return 0;
        }
        if (streq(key, "auth_unix_rw"))
                return parse_auth(key, value, &c->auth_unix_rw, error);
        if (streq(key, "auth_unix_ro"))
                return parse_auth(key, value, &c->auth_unix_ro, error);
        if (streq(key, "access_drivers"))
                return parse_access_drivers(key, value, &c->access_polkit, error);
        if (streq(key, "unix_sock_rw_perms"))
                return parse_perms(key, value, &c->unix_sock_rw_perms, error);
        if (streq(key, "unix_sock_ro_perms"))
                return parse_perms(key, value, &c->unix_sock_ro_perms, error);
        if (streq(key, "log_level")) {
                if (config_parse_log_level(value, &c->log_level) < 0)
                        return xv_error_setf(error, XVP_ERR_CONF_SYNTAX,
                                             "'%s' must be a syslog level name or 0..7, not '%s'", key, value);
                return 0;
        }
        return xv_error_setf(error, XVP_ERR_CONF_SYNTAX, "unknown key '%s'", key);
}

static char *strip(char *s) {
        char *e;

        while (*s == ' ' || *s == '\t')
                s++;
        e = s + strlen(s);
        while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
                *--e = '\0';
        return s;
}

/* One line: blank, a comment, or key = value with an optional double-quoted value. */
static int config_parse_line(Config *c, char *line, XvError *error) {
        char *eq, *key, *value;

        line = strip(line);
        if (*line == '\0' || *line == '#')
                return 0;

        eq = strchr(line, '=');
        if (!eq)
                return xv_error_setf(error, XVP_ERR_CONF_SYNTAX, "expected 'key = value', got '%s'", line);
        *eq = '\0';
        key = strip(line);
        value = strip(eq + 1);

        if (*key == '\0')
                return xv_error_setf(error, XVP_ERR_CONF_SYNTAX, "missing key before '='");
        for (const char *p = key; *p; p++)
                if (!islower((unsigned char) *p) && *p != '_')
                        return xv_error_setf(error, XVP_ERR_CONF_SYNTAX, "invalid key '%s'", key);

        if (*value == '"') {
                size_t n = strlen(value);

                if (n < 2 || value[n - 1] != '"')
                        return xv_error_setf(error, XVP_ERR_CONF_SYNTAX, "unterminated quoted value for '%s'", key);
                value[n - 1] = '\0';
                value++;
                if (strchr(value, '"'))
                        return xv_error_setf(error, XVP_ERR_CONF_SYNTAX, "stray quote in the value of '%s'", key);
        }
        if (strlen(value) > CONFIG_VALUE_MAX)
                return xv_error_setf(error, XVP_ERR_CONF_SYNTAX, "value of '%s' is too long", key);

        return config_set(c, key, value, error);
}

int config_load_file(Config *c, const char *path, bool missing_ok, XvError *error) {
        _cleanup_free_ char *text = NULL;
        char *line, *next;
        unsigned n = 0;
        int r;

        r = read_full_file(path, CONFIG_FILE_SIZE_MAX, &text, NULL);
        if (r == -ENOENT && missing_ok)
                return 0;
        if (r < 0)
                return xv_error_set_errnof(error, r, "cannot read configuration file '%s'", path);

        for (line = text; line; line = next) {
                _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;

                n++;
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';

                r = config_parse_line(c, line, &e);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return xv_error_setf(error, XVP_ERR_CONF_SYNTAX, "%s:%u: %s", path, n,
                                             strempty(e.message));
        }
        return 0;
}

void config_apply_reloadable(Config *dst, const Config *src) {
#define STORE(field) __atomic_store_n(&dst->field, src->field, __ATOMIC_RELAXED)
        STORE(max_clients);
        STORE(max_requests_per_client);
        STORE(max_frame_size);
        STORE(keepalive_interval);
        STORE(keepalive_count);
        STORE(log_level);
#undef STORE
}
