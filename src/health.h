/*
 * health: active health checks of backend servers, run by the master on
 * its own event loop (one probe per server per interval whatever the
 * number of workers), and the up/down state machine they feed. Results
 * are published in shared memory; every flip is logged once.
 */
#ifndef MTLSLB_HEALTH_H
#define MTLSLB_HEALTH_H

#include <stdbool.h>
#include <stddef.h>

struct balancer;
struct event_base;
struct server;

enum health_error {
	HE_OK,
	HE_REFUSED,
	HE_RESET,
	HE_TIMEOUT,
	HE_BAD_STATUS,
	HE_BAD_RESPONSE,
	HE_CONNECT,
	HE_CLOSED,
	HE_TLS,			/* backend_tls: the handshake failed */
};

/* Words for an error, for logs and /status ("connection refused"). */
const char *health_error_str(enum health_error e);

/*
 * A probe's result in words: health_error_str(err), or for a TLS failure
 * with a detail "TLS handshake failed: " and the detail (OpenSSL's
 * reason, server_shared.last_detail). Returns buf or a static string.
 */
const char *health_result_str(int err, const char *detail, char *buf,
    size_t len);

/* health_result_str() of s's last probe. Master only. */
const char *health_result(const struct server *s, char *buf, size_t len);

/* True when status is in one of the classes of mask (HC_CODE_*). */
bool health_code_ok(int status, unsigned mask);

/*
 * Records one probe result for s (pure state machine over its shared
 * counters): resets the opposite streak (a pass also resets the passive
 * failure count), flips s up after healthy_threshold successes or down
 * after unhealthy_threshold failures, setting since to now.
 * Returns +1 when it went up, -1 when it went down, 0 otherwise.
 */
int health_record(struct server *s, bool success, long now);

/*
 * A connect failure in the request path. Marks s down after
 * unhealthy_threshold of them in a row, and only when active checks are
 * on for its group (only they bring it back); logs the flip. Returns
 * true when s went down.
 */
bool health_passive_failure(struct server *s);

/* A successful request to s resets its passive failure count. */
void health_passive_success(struct server *s);

struct health;

/* Starts checking every server of b that has health_check on. */
struct health *health_start(struct event_base *base, struct balancer *b);

/* Stops all probes and frees h; accepts NULL. */
void health_stop(struct health *h);

#endif
