/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xvsh output: messages and errors the way virsh prints them, virsh's tables (vshTable), the
 * JSON writer of --json, typed parameter formatting, CPU lists and the elapsed-time display of
 * long operations.
 */

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "xv-alloc.h"
#include "xv-fileio.h"
#include "xv-parse-util.h"
#include "xv-strbuf.h"
#include "xvsh.h"

/* ---------------------------------------------------------------------------------------------
 * Messages
 */

void out(Ctl *ctl, const char *format, ...) {
        va_list ap;

        if (ctl->json)
                return;
        va_start(ap, format);
        vprintf(format, ap);
        va_end(ap);
}

void out_extra(Ctl *ctl, const char *format, ...) {
        va_list ap;

        if (ctl->json || ctl->quiet)
                return;
        va_start(ap, format);
        vprintf(format, ap);
        va_end(ap);
}

void print_error(const char *format, ...) {
        va_list ap;

        /* Keep stdout and stderr in the order the user sees them on one terminal. */
        fflush(stdout);
        fputs("error: ", stderr);
        va_start(ap, format);
        vfprintf(stderr, format, ap);
        va_end(ap);
        fputc('\n', stderr);
}

void print_xv_error(xv_error *e) {
        if (e && xv_error_is_set(e) && e->message)
                print_error("%s", e->message);
        else
                print_error("An error occurred, but the cause is unknown");
        xv_error_clear(e);
}

int fail(xv_error *e, const char *format, ...) {
        va_list ap;

        fflush(stdout);
        fputs("error: ", stderr);
        va_start(ap, format);
        vfprintf(stderr, format, ap);
        va_end(ap);
        fputc('\n', stderr);
        print_xv_error(e);
        return -1;
}

int read_file_or_fail(const char *path, char **ret) {
        int r;

        r = read_full_file(path, XVSH_XML_FILE_MAX, ret, NULL);
        if (r < 0) {
                print_error("Failed to open file '%s': %s", path, strerror(-r));
                return -1;
        }
        return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Tables: a leading blank, columns padded to their widest cell (the header counts only when it
 * is printed) and separated by three blanks, the last column unpadded, and under the header a
 * dashed line three characters longer than the padded columns.
 */

#define TABLE_COLS_MAX 8

struct Table {
        size_t ncols;
        char **cells;           /* row-major, row 0 = header */
        size_t nrows, allocated;
};

Table *table_new(size_t ncols, ...) {
        _cleanup_(table_freep) Table *t = NULL;
        va_list ap;

        assert(ncols > 0 && ncols <= TABLE_COLS_MAX);
        t = new0(Table, 1);
        if (!t)
                return NULL;
        t->ncols = ncols;
        t->cells = new0(char *, ncols);
        if (!t->cells)
                return NULL;
        t->allocated = ncols;
        t->nrows = 1;
        va_start(ap, ncols);
        for (size_t i = 0; i < ncols; i++) {
                t->cells[i] = strdup(va_arg(ap, const char *));
                if (!t->cells[i]) {
                        va_end(ap);
                        return NULL;
                }
        }
        va_end(ap);
        return TAKE_PTR(t);
}

int table_add_row(Table *t, ...) {
        size_t need = (t->nrows + 1) * t->ncols;
        va_list ap;
        int r = 0;

        if (GREEDY_REALLOC(t->cells, t->allocated, need) < 0)
                return -ENOMEM;
        va_start(ap, t);
        for (size_t i = 0; i < t->ncols; i++) {
                t->cells[t->nrows * t->ncols + i] = strdup(va_arg(ap, const char *));
                if (!t->cells[t->nrows * t->ncols + i])
                        r = -ENOMEM;
        }
        va_end(ap);
        t->nrows++;
        return r;
}

void table_print(Ctl *ctl, Table *t) {
        size_t width[TABLE_COLS_MAX] = {}, first = ctl->quiet ? 1 : 0, total = 0;

        if (ctl->json)
                return;
        for (size_t r = first; r < t->nrows; r++)
                for (size_t c = 0; c < t->ncols; c++) {
                        const char *s = strempty(t->cells[r * t->ncols + c]);

                        width[c] = MAX(width[c], strlen(s));
                }
        for (size_t c = 0; c < t->ncols; c++)
                total += width[c] + 3;

        for (size_t r = first; r < t->nrows; r++) {
                putchar(' ');
                for (size_t c = 0; c < t->ncols; c++) {
                        const char *s = strempty(t->cells[r * t->ncols + c]);

                        if (c + 1 < t->ncols)
                                printf("%-*s   ", (int) width[c], s);
                        else
                                printf("%s\n", s);
                }
                if (r == 0) {
                        for (size_t i = 0; i < total; i++)
                                putchar('-');
                        putchar('\n');
                }
        }
}

Table *table_free(Table *t) {
        if (!t)
                return NULL;
        for (size_t i = 0; t->cells && i < t->nrows * t->ncols; i++)
                free(t->cells[i]);
        free(t->cells);
        return mfree(t);
}

/* ---------------------------------------------------------------------------------------------
 * JSON
 */

#define JSON_DEPTH_MAX 16

struct Json {
        StrBuf buf;
        unsigned depth;
        bool need_comma[JSON_DEPTH_MAX + 1];
        bool overflow;
};

Json *json_new(void) {
        return new0(Json, 1);
}

Json *json_free(Json *j) {
        if (!j)
                return NULL;
        strbuf_done(&j->buf);
        return mfree(j);
}

static void json_escaped(Json *j, const char *s) {
        strbuf_appendc(&j->buf, '"');
        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                switch (*p) {
                case '"':
                        strbuf_append(&j->buf, "\\\"");
                        break;
                case '\\':
                        strbuf_append(&j->buf, "\\\\");
                        break;
                case '\n':
                        strbuf_append(&j->buf, "\\n");
                        break;
                case '\t':
                        strbuf_append(&j->buf, "\\t");
                        break;
                case '\r':
                        strbuf_append(&j->buf, "\\r");
                        break;
                default:
                        if (*p < 0x20)
                                strbuf_appendf(&j->buf, "\\u%04x", *p);
                        else
                                strbuf_appendc(&j->buf, (char) *p);
                }
        strbuf_appendc(&j->buf, '"');
}

static void json_key(Json *j, const char *key) {
        if (j->need_comma[j->depth])
                strbuf_append(&j->buf, ", ");
        j->need_comma[j->depth] = true;
        if (key) {
                json_escaped(j, key);
                strbuf_append(&j->buf, ": ");
        }
}

static void json_open(Json *j, const char *key, char c) {
        json_key(j, key);
        strbuf_appendc(&j->buf, c);
        if (j->depth >= JSON_DEPTH_MAX) {
                j->overflow = true;
                return;
        }
        j->need_comma[++j->depth] = false;
}

static void json_close(Json *j, char c) {
        assert(j->depth > 0);
        strbuf_appendc(&j->buf, c);
        j->depth--;
}

void json_object_begin(Json *j, const char *key) {
        json_open(j, key, '{');
}

void json_object_end(Json *j) {
        json_close(j, '}');
}

void json_array_begin(Json *j, const char *key) {
        json_open(j, key, '[');
}

void json_array_end(Json *j) {
        json_close(j, ']');
}

void json_string(Json *j, const char *key, const char *value) {
        json_key(j, key);
        if (value)
                json_escaped(j, value);
        else
                strbuf_append(&j->buf, "null");
}

void json_int(Json *j, const char *key, int64_t value) {
        json_key(j, key);
        strbuf_appendf(&j->buf, "%" PRIi64, value);
}

void json_uint(Json *j, const char *key, uint64_t value) {
        json_key(j, key);
        strbuf_appendf(&j->buf, "%" PRIu64, value);
}

void json_double(Json *j, const char *key, double value) {
        json_key(j, key);
        if (isfinite(value))
                strbuf_appendf(&j->buf, "%.17g", value);
        else
                strbuf_append(&j->buf, "null");
}

void json_bool(Json *j, const char *key, bool value) {
        json_key(j, key);
        strbuf_append(&j->buf, value ? "true" : "false");
}

void json_null(Json *j, const char *key) {
        json_key(j, key);
        strbuf_append(&j->buf, "null");
}

void json_print(Json *j) {
        assert(j->depth == 0 && !j->overflow);
        if (j->buf.error < 0) {
                print_error("%s", strerror(-j->buf.error));
                return;
        }
        printf("%s\n", strbuf_get(&j->buf));
        fflush(stdout);
}

void json_result(Ctl *ctl, const char *domain, const char *result) {
        _cleanup_(json_freep) Json *j = NULL;

        if (!ctl->json)
                return;
        j = json_new();
        if (!j)
                return;
        json_object_begin(j, NULL);
        if (domain)
                json_string(j, "domain", domain);
        json_string(j, "result", result);
        json_object_end(j);
        json_print(j);
}

void json_param(Json *j, const xv_param *p) {
        switch (p->type) {
        case XV_PARAM_INT:
                json_int(j, p->field, p->value.i);
                break;
        case XV_PARAM_UINT:
                json_uint(j, p->field, p->value.ui);
                break;
        case XV_PARAM_LLONG:
                json_int(j, p->field, p->value.l);
                break;
        case XV_PARAM_ULLONG:
                json_uint(j, p->field, p->value.ul);
                break;
        case XV_PARAM_DOUBLE:
                json_double(j, p->field, p->value.d);
                break;
        case XV_PARAM_BOOLEAN:
                json_bool(j, p->field, p->value.b);
                break;
        case XV_PARAM_STRING:
                json_string(j, p->field, p->value.s);
                break;
        default:
                json_null(j, p->field);
        }
}

const char *param_to_string(const xv_param *p, char *buf, size_t size) {
        switch (p->type) {
        case XV_PARAM_INT:
                (void) snprintf(buf, size, "%d", p->value.i);
                return buf;
        case XV_PARAM_UINT:
                (void) snprintf(buf, size, "%u", p->value.ui);
                return buf;
        case XV_PARAM_LLONG:
                (void) snprintf(buf, size, "%lld", p->value.l);
                return buf;
        case XV_PARAM_ULLONG:
                (void) snprintf(buf, size, "%llu", p->value.ul);
                return buf;
        case XV_PARAM_DOUBLE:
                (void) snprintf(buf, size, "%lf", p->value.d);
                return buf;
        case XV_PARAM_BOOLEAN:
                return p->value.b ? "yes" : "no";
        case XV_PARAM_STRING:
                return strempty(p->value.s);
        default:
                return "";
        }
}

/* ---------------------------------------------------------------------------------------------
 * CPU lists
 */

int cpulist_parse(const char *s, int ncpus, uint8_t *map, size_t maplen) {
        const char *p = s;

        memset(map, 0, maplen);
        for (;;) {
                uint64_t a, b;
                const char *end;

                if (parse_u64_prefix(p, &a, &end) < 0)
                        return -EINVAL;
                b = a;
                p = end;
                if (*p == '-') {
                        if (parse_u64_prefix(p + 1, &b, &end) < 0 || b < a)
                                return -EINVAL;
                        p = end;
                }
                if (b >= (uint64_t) ncpus || b >= maplen * 8) {
                        print_error("CPU %" PRIu64 " in cpulist '%s' exceed the maxcpu %d", b, s, ncpus);
                        return -ERANGE;
                }
                for (uint64_t i = a; i <= b; i++)
                        map[i / 8] |= (uint8_t) (1u << (i % 8));
                if (!*p)
                        return 0;
                if (*p != ',')
                        return -EINVAL;
                p++;
        }
}

/* virBitmapFormat's shape: ranges joined by commas, "0-3,6". */
void cpulist_format(const uint8_t *map, size_t maplen, int ncpus, char *buf, size_t size) {
        size_t len = 0;
        int n = MIN(ncpus, (int) (maplen * 8));

        buf[0] = 0;
        for (int i = 0; i < n; i++) {
                int j = i;

                if (!(map[i / 8] & (1u << (i % 8))))
                        continue;
                while (j + 1 < n && (map[(j + 1) / 8] & (1u << ((j + 1) % 8))))
                        j++;
                if (len < size)
                        len += (size_t) snprintf(buf + len, size - len, "%s%d", len ? "," : "", i);
                if (j > i && len < size)
                        len += (size_t) snprintf(buf + len, size - len, "-%d", j);
                i = j;
        }
}

int ctl_ncpus(Ctl *ctl) {
        xv_error e = XV_ERROR_NULL;
        xv_node_info info;

        if (ctl->ncpus > 0)
                return ctl->ncpus;
        if (xv_node_get_info(ctl->conn, &info, &e) < 0) {
                print_xv_error(&e);
                return -1;
        }
        ctl->ncpus = (int) info.cpus;
        return ctl->ncpus;
}

/* ---------------------------------------------------------------------------------------------
 * Progress: "Saving domain... 3.2 s" on stderr, refreshed from a timer thread while the call runs.
 */

struct Progress {
        const char *label;
        struct timespec start;
        pthread_t thread;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        bool stop;
};

static double progress_elapsed(const Progress *p) {
        struct timespec now;

        clock_gettime(CLOCK_MONOTONIC, &now);
        return (double) (now.tv_sec - p->start.tv_sec) + (double) (now.tv_nsec - p->start.tv_nsec) / 1e9;
}

static void *progress_thread(void *userdata) {
        Progress *p = userdata;

        pthread_mutex_lock(&p->lock);
        while (!p->stop) {
                struct timespec deadline;

                fprintf(stderr, "\r%s... %.1f s", p->label, progress_elapsed(p));
                fflush(stderr);
                clock_gettime(CLOCK_REALTIME, &deadline);
                deadline.tv_nsec += 100 * 1000 * 1000;
                if (deadline.tv_nsec >= 1000 * 1000 * 1000) {
                        deadline.tv_sec++;
                        deadline.tv_nsec -= 1000 * 1000 * 1000;
                }
                (void) pthread_cond_timedwait(&p->cond, &p->lock, &deadline);
        }
        pthread_mutex_unlock(&p->lock);
        return NULL;
}

Progress *progress_start(Ctl *ctl, const char *label) {
        Progress *p;

        if (ctl->quiet || ctl->json || !isatty(STDERR_FILENO))
                return NULL;
        p = new0(Progress, 1);
        if (!p)
                return NULL;
        p->label = label;
        clock_gettime(CLOCK_MONOTONIC, &p->start);
        pthread_mutex_init(&p->lock, NULL);
        pthread_cond_init(&p->cond, NULL);
        if (pthread_create(&p->thread, NULL, progress_thread, p) != 0) {
                pthread_mutex_destroy(&p->lock);
                pthread_cond_destroy(&p->cond);
                return mfree(p);
        }
        return p;
}

void progress_stop(Progress *p) {
        if (!p)
                return;
        pthread_mutex_lock(&p->lock);
        p->stop = true;
        pthread_cond_signal(&p->cond);
        pthread_mutex_unlock(&p->lock);
        pthread_join(p->thread, NULL);
        fprintf(stderr, "\r%s... %.1f s\n", p->label, progress_elapsed(p));
        fflush(stderr);
        pthread_mutex_destroy(&p->lock);
        pthread_cond_destroy(&p->cond);
        free(p);
}
