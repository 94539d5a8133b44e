/*
 * diag: collects "mtlslb: FILE:LINE: message" diagnostics from the config
 * and TLS checks, in the order they were found. -t prints them, start-up
 * prints them, reload logs them.
 */
#ifndef MTLSLB_DIAG_H
#define MTLSLB_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct diag;

/* Returns a new collector for messages about file; the caller owns it. */
struct diag *diag_new(const char *file);

/* Frees d; accepts NULL. */
void diag_free(struct diag *d);

/* Records an error at line (0: no single line is at fault). */
void diag_error(struct diag *d, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records a warning; "warning: " is prefixed to the message. */
void diag_warn(struct diag *d, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Records an error and appends ": " and the reason of the oldest entry of
 * the OpenSSL error queue (lib-free, human words), then clears the queue.
 */
void diag_ssl(struct diag *d, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Number of errors / warnings recorded so far. */
size_t diag_errors(const struct diag *d);
size_t diag_warnings(const struct diag *d);

/* Writes each message as one line "mtlslb: FILE:LINE: msg\n" to fp. */
void diag_print(const struct diag *d, FILE *fp);

/*
 * Calls cb for each message in order with the formatted line without the
 * "mtlslb: " prefix ("FILE:LINE: msg") and whether it is an error.
 */
void diag_foreach(const struct diag *d,
    void (*cb)(const char *line, bool is_error, void *arg), void *arg);

#endif
