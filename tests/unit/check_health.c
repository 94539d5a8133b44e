/*
 * check_health: the health state machine (thresholds, streak resets,
 * initial state, status classes), the passive-failure rules, the probe
 * itself against a loopback listener run in the test's own event loop,
 * and the wording of the expiry warning. Times are passed in (a fake
 * clock); the probe tests are bounded by a loop deadline.
 */
#include "ac_config.h"
#include "health.h"

#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "balancer.h"
#include "config.h"
#include "expiry.h"
#include "shm.h"
#include "test_group.h"
#include "test_main.h"

static int
up(const struct server *s)
{
	return atomic_load(&s->sh->up);
}

/* --- status classes ------------------------------------------------------ */

START_TEST(code_classes)
{
	unsigned def = HC_CODE_2XX | HC_CODE_3XX;

	ck_assert(health_code_ok(200, def));
	ck_assert(health_code_ok(204, def));
	ck_assert(health_code_ok(299, def));
	ck_assert(health_code_ok(301, def));
	ck_assert(health_code_ok(399, def));
	ck_assert(!health_code_ok(404, def));
	ck_assert(!health_code_ok(500, def));
	ck_assert(!health_code_ok(101, def));
	ck_assert(!health_code_ok(199, def));
	/* Only the listed classes pass. */
	ck_assert(!health_code_ok(302, HC_CODE_2XX));
	ck_assert(health_code_ok(500, HC_CODE_2XX | HC_CODE_5XX));
	ck_assert(health_code_ok(503, HC_CODE_5XX));
	ck_assert(!health_code_ok(200, HC_CODE_5XX));
	ck_assert(health_code_ok(404, HC_CODE_4XX));
	ck_assert(!health_code_ok(404, HC_CODE_2XX | HC_CODE_3XX |
	    HC_CODE_5XX));
	/* Not a status at all, whatever the mask. */
	ck_assert(!health_code_ok(0, ~0u));
	ck_assert(!health_code_ok(-200, ~0u));
	ck_assert(!health_code_ok(99, ~0u));
	ck_assert(!health_code_ok(600, ~0u));
	ck_assert(!health_code_ok(1000, ~0u));
	ck_assert(!health_code_ok(200, 0));
}
END_TEST

START_TEST(error_words)
{
	ck_assert_str_eq(health_error_str(HE_OK), "ok");
	ck_assert_str_eq(health_error_str(HE_REFUSED), "connection refused");
	ck_assert_str_eq(health_error_str(HE_TIMEOUT), "timed out");
	ck_assert_str_eq(health_error_str(HE_BAD_STATUS), "unexpected status");
	ck_assert_str_eq(health_error_str(HE_CLOSED),
	    "closed without a response");
	ck_assert_str_eq(health_error_str((enum health_error)99), "unknown");
	ck_assert_str_eq(health_error_str((enum health_error)-1), "unknown");
}
END_TEST

/* --- initial state ------------------------------------------------------- */

START_TEST(initial_healthy)
{
	struct test_group f;

	test_group_init(&f, SCHED_ROUND_ROBIN, NULL, 2);
	ck_assert_int_eq(up(group_server(f.g, 0)), 1);
	ck_assert_int_eq(up(group_server(f.g, 1)), 1);
	ck_assert(group_any_up(f.g));
	test_group_free(&f);
}
END_TEST

START_TEST(initial_unhealthy)
{
	struct test_group f;

	test_group_conf(&f, SCHED_ROUND_ROBIN, NULL, 2);
	f.gc.health_check_initial_healthy = false;
	test_group_build(&f);
	ck_assert_int_eq(up(f.s), 0);
	ck_assert(!group_any_up(f.g));
	ck_assert_ptr_null(balancer_pick(f.g, 0));
	/* It takes healthy_threshold passes to come up. */
	ck_assert_int_eq(health_record(f.s, true, 100), 0);
	ck_assert_int_eq(up(f.s), 0);
	ck_assert_int_eq(health_record(f.s, true, 101), 1);
	ck_assert_int_eq(up(f.s), 1);
	ck_assert_int_eq(atomic_load(&f.s->sh->since), 101);
	test_group_free(&f);
}
END_TEST

/* Without checks nothing could bring a server back: it is always up. */
START_TEST(initial_unchecked_is_up)
{
	struct test_group f;

	test_group_conf(&f, SCHED_ROUND_ROBIN, NULL, 2);
	f.gc.health_check = false;
	f.gc.health_check_initial_healthy = false;
	test_group_build(&f);
	ck_assert_int_eq(up(f.s), 1);
	test_group_free(&f);
}
END_TEST

/* --- thresholds ---------------------------------------------------------- */

START_TEST(down_after_unhealthy_threshold)
{
	struct test_group f;

	test_group_conf(&f, SCHED_ROUND_ROBIN, NULL, 2);
	f.gc.unhealthy_threshold = 3;
	test_group_build(&f);
	ck_assert_int_eq(health_record(f.s, false, 10), 0);
	ck_assert_int_eq(health_record(f.s, false, 11), 0);
	ck_assert_int_eq(up(f.s), 1);
	ck_assert_int_eq(health_record(f.s, false, 12), -1);
	ck_assert_int_eq(up(f.s), 0);
	ck_assert_int_eq(atomic_load(&f.s->sh->since), 12);
	ck_assert_uint_eq(atomic_load(&f.s->sh->fail_streak), 3);
	/* Already down: more failures flip nothing (logged once). */
	ck_assert_int_eq(health_record(f.s, false, 13), 0);
	ck_assert_int_eq(health_record(f.s, false, 14), 0);
	ck_assert_int_eq(atomic_load(&f.s->sh->since), 12);
	/* The other server is untouched. */
	ck_assert_int_eq(up(group_server(f.g, 1)), 1);
	ck_assert_uint_eq(atomic_load(&f.s->sh->checks), 5);
	test_group_free(&f);
}
END_TEST

START_TEST(up_after_healthy_threshold)
{
	struct test_group f;

	test_group_conf(&f, SCHED_ROUND_ROBIN, NULL, 2);
	f.gc.unhealthy_threshold = 1;
	f.gc.healthy_threshold = 3;
	test_group_build(&f);
	ck_assert_int_eq(health_record(f.s, false, 1), -1);
	ck_assert_int_eq(health_record(f.s, true, 2), 0);
	ck_assert_int_eq(health_record(f.s, true, 3), 0);
	ck_assert_int_eq(up(f.s), 0);
	ck_assert_int_eq(health_record(f.s, true, 4), 1);
	ck_assert_int_eq(up(f.s), 1);
	ck_assert_int_eq(atomic_load(&f.s->sh->since), 4);
	/* Already up: more passes flip nothing. */
	ck_assert_int_eq(health_record(f.s, true, 5), 0);
	ck_assert_int_eq(atomic_load(&f.s->sh->since), 4);
	test_group_free(&f);
}
END_TEST

/* Thresholds of 1: every result flips a server in the other state. */
START_TEST(threshold_one)
{
	struct test_group f;

	test_group_conf(&f, SCHED_ROUND_ROBIN, NULL, 2);
	f.gc.unhealthy_threshold = 1;
	f.gc.healthy_threshold = 1;
	test_group_build(&f);
	ck_assert_int_eq(health_record(f.s, false, 1), -1);
	ck_assert_int_eq(health_record(f.s, true, 2), 1);
	ck_assert_int_eq(health_record(f.s, true, 3), 0);
	ck_assert_int_eq(health_record(f.s, false, 4), -1);
	ck_assert_int_eq(health_record(f.s, false, 5), 0);
	test_group_free(&f);
}
END_TEST

/* A pass resets the failure streak, and a failure the pass streak. */
START_TEST(streaks_reset)
{
	struct test_group f;
	int i;

	test_group_conf(&f, SCHED_ROUND_ROBIN, NULL, 2);
	f.gc.unhealthy_threshold = 3;
	f.gc.healthy_threshold = 3;
	test_group_build(&f);
	/* F F P F F P ...: never three failures in a row, never down. */
	for (i = 0; i < 10; i++) {
		ck_assert_int_eq(health_record(f.s, false, i), 0);
		ck_assert_int_eq(health_record(f.s, false, i), 0);
		ck_assert_int_eq(health_record(f.s, true, i), 0);
		ck_assert_uint_eq(atomic_load(&f.s->sh->fail_streak), 0);
		ck_assert_uint_eq(atomic_load(&f.s->sh->ok_streak), 1);
	}
	ck_assert_int_eq(up(f.s), 1);
	ck_assert_int_eq(health_record(f.s, false, 100), 0);
	ck_assert_uint_eq(atomic_load(&f.s->sh->ok_streak), 0);
	ck_assert_int_eq(health_record(f.s, false, 101), 0);
	ck_assert_int_eq(health_record(f.s, false, 102), -1);
	/* Down: P P F P P ...: never three passes in a row, never up. */
	for (i = 0; i < 10; i++) {
		ck_assert_int_eq(health_record(f.s, true, i), 0);
		ck_assert_int_eq(health_record(f.s, true, i), 0);
		ck_assert_int_eq(health_record(f.s, false, i), 0);
		ck_assert_uint_eq(atomic_load(&f.s->sh->ok_streak), 0);
	}
	ck_assert_int_eq(up(f.s), 0);
	ck_assert_int_eq(health_record(f.s, true, 200), 0);
	ck_assert_int_eq(health_record(f.s, true, 201), 0);
	ck_assert_int_eq(health_record(f.s, true, 202), 1);
	ck_assert_uint_eq(atomic_load(&f.s->sh->fail_streak), 0);
	test_group_free(&f);
}
END_TEST

/* The scheduler follows the state machine. */
START_TEST(down_server_not_picked)
{
	struct test_group f;
	int i;

	test_group_init(&f, SCHED_ROUND_ROBIN, NULL, 2);
	health_record(f.s, false, 1);
	health_record(f.s, false, 2);
	ck_assert_int_eq(up(f.s), 0);
	for (i = 0; i < 6; i++)
		ck_assert_str_eq(balancer_pick(f.g, 0)->conf->name, "B");
	health_record(group_server(f.g, 1), false, 3);
	health_record(group_server(f.g, 1), false, 4);
	ck_assert(!group_any_up(f.g));
	ck_assert_ptr_null(balancer_pick(f.g, 0));
	test_group_free(&f);
}
END_TEST

/* --- passive failures ---------------------------------------------------- */

START_TEST(passive_needs_threshold)
{
	struct test_group f;

	test_group_conf(&f, SCHED_ROUND_ROBIN, NULL, 2);
	f.gc.unhealthy_threshold = 3;
	test_group_build(&f);
	ck_assert(!health_passive_failure(f.s));
	ck_assert_int_eq(up(f.s), 1);
	ck_assert(!health_passive_failure(f.s));
	ck_assert_int_eq(up(f.s), 1);
	ck_assert(health_passive_failure(f.s));
	ck_assert_int_eq(up(f.s), 0);
	ck_assert(atomic_load(&f.s->sh->since) != 0);
	/* Down already: no second flip (and no second log line). */
	ck_assert(!health_passive_failure(f.s));
	ck_assert_int_eq(up(f.s), 0);
	test_group_free(&f);
}
END_TEST

/* One error between successes never takes a healthy server out. */
START_TEST(passive_success_resets)
{
	struct test_group f;
	int i;

	test_group_init(&f, SCHED_ROUND_ROBIN, NULL, 2);
	for (i = 0; i < 20; i++) {
		ck_assert(!health_passive_failure(f.s));
		health_passive_success(f.s);
		ck_assert_uint_eq(atomic_load(&f.s->sh->passive_fails), 0);
	}
	ck_assert_int_eq(up(f.s), 1);
	test_group_free(&f);
}
END_TEST

/* A probe pass between two request-path failures: not consecutive. */
START_TEST(passive_probe_pass_resets)
{
	struct test_group f;
	int i;

	test_group_init(&f, SCHED_ROUND_ROBIN, NULL, 2);
	for (i = 0; i < 10; i++) {
		ck_assert(!health_passive_failure(f.s));
		ck_assert_int_eq(health_record(f.s, true, i), 0);
	}
	ck_assert_int_eq(up(f.s), 1);
	/* A probe failure does not reset it, though. */
	ck_assert(!health_passive_failure(f.s));
	ck_assert_int_eq(health_record(f.s, false, 20), 0);
	ck_assert(health_passive_failure(f.s));
	ck_assert_int_eq(up(f.s), 0);
	test_group_free(&f);
}
END_TEST

/* Without active checks, passive failures only steer retries. */
START_TEST(passive_off_without_checks)
{
	struct test_group f;
	int i;

	test_group_conf(&f, SCHED_ROUND_ROBIN, NULL, 2);
	f.gc.health_check = false;
	test_group_build(&f);
	for (i = 0; i < 50; i++)
		ck_assert(!health_passive_failure(f.s));
	ck_assert_int_eq(up(f.s), 1);
	test_group_free(&f);
}
END_TEST

/* Probe passes bring a passively downed server back and reset its count. */
START_TEST(passive_down_then_probes_up)
{
	struct test_group f;

	test_group_init(&f, SCHED_ROUND_ROBIN, NULL, 2);
	/* A pass streak from before does not survive the passive flip. */
	health_record(f.s, true, 1);
	health_record(f.s, true, 2);
	ck_assert(!health_passive_failure(f.s));
	ck_assert(health_passive_failure(f.s));
	ck_assert_int_eq(up(f.s), 0);
	ck_assert_uint_eq(atomic_load(&f.s->sh->ok_streak), 0);
	ck_assert_int_eq(health_record(f.s, true, 10), 0);
	ck_assert_int_eq(up(f.s), 0);
	ck_assert_int_eq(health_record(f.s, true, 11), 1);
	ck_assert_int_eq(up(f.s), 1);
	ck_assert_uint_eq(atomic_load(&f.s->sh->passive_fails), 0);
	/* Fresh count: one more failure is not enough again. */
	ck_assert(!health_passive_failure(f.s));
	ck_assert_int_eq(up(f.s), 1);
	test_group_free(&f);
}
END_TEST

/* A server the probes took down is not "taken down" again passively. */
START_TEST(passive_on_down_server)
{
	struct test_group f;

	test_group_init(&f, SCHED_ROUND_ROBIN, NULL, 2);
	ck_assert_int_eq(health_record(f.s, false, 1), 0);
	ck_assert_int_eq(health_record(f.s, false, 2), -1);
	ck_assert(!health_passive_failure(f.s));
	ck_assert(!health_passive_failure(f.s));
	ck_assert(!health_passive_failure(f.s));
	ck_assert_int_eq(up(f.s), 0);
	ck_assert_int_eq(atomic_load(&f.s->sh->since), 2);
	test_group_free(&f);
}
END_TEST

/* --- probes against a loopback listener ---------------------------------- */

/* A one-shot-per-connection HTTP server: reads the request, answers. */
struct fake {
	struct event_base *base;
	int lfd;
	struct event *accept_ev;
	const char *answer;	/* NULL: close without answering */
	char request[2048];
	size_t reqlen;
	unsigned accepted;
};

static void
fake_conn_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fake *fk = arg;
	char buf[2048];
	ssize_t n;

	n = recv(fd, buf, sizeof(buf) - 1, 0);
	if (n > 0 && fk->reqlen == 0) {
		memcpy(fk->request, buf, (size_t)n);
		fk->reqlen = (size_t)n;
		fk->request[n] = '\0';
	}
	if (n > 0 && fk->answer != NULL)
		(void)send(fd, fk->answer, strlen(fk->answer), MSG_NOSIGNAL);
	/* Closing from our side is the answer's end. */
	close(fd);
}

static void
fake_accept_cb(evutil_socket_t lfd, short what, void *arg)
{
	struct fake *fk = arg;
	int fd = accept(lfd, NULL, NULL);

	if (fd == -1)
		return;
	fk->accepted++;
	/* One read event per connection; it closes the socket. */
	event_base_once(fk->base, fd, EV_READ, fake_conn_cb, fk, NULL);
}

/* Listens on 127.0.0.1:0; returns the port. */
static unsigned
fake_listen(struct fake *fk, struct event_base *base, const char *answer)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	memset(fk, 0, sizeof(*fk));
	fk->base = base;
	fk->answer = answer;
	fk->lfd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ne(fk->lfd, -1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fk->lfd, (struct sockaddr *)&sin, sizeof(sin)),
	    0);
	ck_assert_int_eq(listen(fk->lfd, 16), 0);
	ck_assert_int_eq(getsockname(fk->lfd, (struct sockaddr *)&sin, &len),
	    0);
	fk->accept_ev = event_new(base, fk->lfd, EV_READ | EV_PERSIST,
	    fake_accept_cb, fk);
	event_add(fk->accept_ev, NULL);
	return ntohs(sin.sin_port);
}

static void
fake_close(struct fake *fk)
{
	event_free(fk->accept_ev);
	close(fk->lfd);
}

/* A port nothing listens on (bound, then closed). */
static unsigned
closed_port(void)
{
	struct fake fk;
	struct event_base *base = event_base_new();
	unsigned port = fake_listen(&fk, base, NULL);

	fake_close(&fk);
	event_base_free(base);
	return port;
}

/* Points server i of f at 127.0.0.1:port. */
static void
fx_addr(struct test_group *f, size_t i, unsigned port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&f->sc[i].addr.ss;

	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin->sin_port = htons((uint16_t)port);
	f->sc[i].addr.len = sizeof(*sin);
}

struct until {
	struct event_base *base;
	struct server *s;
	unsigned checks;	/* stop after this many probes of s */
};

static void
until_cb(evutil_socket_t fd, short what, void *arg)
{
	struct until *u = arg;

	if (atomic_load(&u->s->sh->checks) >= u->checks)
		event_base_loopbreak(u->base);
}

/* Runs base until s has had checks probes, at most 10 seconds. */
static void
run_until(struct event_base *base, struct server *s, unsigned checks)
{
	struct until u = { base, s, checks };
	struct timeval poll = { 0, 10000 }, limit = { 10, 0 };
	struct event *ev = event_new(base, -1, EV_PERSIST, until_cb, &u);

	event_add(ev, &poll);
	event_base_loopexit(base, &limit);
	event_base_dispatch(base);
	event_free(ev);
	ck_assert_uint_ge(atomic_load(&s->sh->checks), checks);
}

static char path_hc[] = "/hc";

START_TEST(probe_request_and_ok)
{
	struct test_group f;
	struct fake fk;
	struct event_base *base = event_base_new();
	struct health *h;
	unsigned port;

	port = fake_listen(&fk, base, "HTTP/1.1 204 No Content\r\n\r\n");
	test_group_conf(&f, SCHED_ROUND_ROBIN, NULL, 2);
	f.gc.nservers = 1;
	f.gc.health_check_path = path_hc;
	f.gc.health_check_interval_ms = 100;
	f.gc.health_check_timeout_ms = 1000;
	f.gc.health_check_initial_healthy = false;
	fx_addr(&f, 0, port);
	test_group_build(&f);
	h = health_start(base, f.b);
	run_until(base, f.s, 2);
	health_stop(h);
	ck_assert_int_eq(up(f.s), 1);
	ck_assert_int_eq(atomic_load(&f.s->sh->last_status), 204);
	ck_assert_int_eq(atomic_load(&f.s->sh->last_error), HE_OK);
	ck_assert_ptr_nonnull(strstr(fk.request, "GET /hc HTTP/1.1\r\n"));
	ck_assert_ptr_eq(strstr(fk.request, "GET"), fk.request);
	ck_assert_ptr_nonnull(strstr(fk.request, "\r\nHost: A\r\n"));
	ck_assert_ptr_nonnull(strstr(fk.request, "\r\nConnection: close\r\n"));
	ck_assert_ptr_nonnull(strstr(fk.request,
	    "\r\nUser-Agent: mtlslb-health-check\r\n"));
	ck_assert_ptr_nonnull(strstr(fk.request, "\r\n\r\n"));
	fake_close(&fk);
	test_group_free(&f);
	event_base_free(base);
}
END_TEST

START_TEST(probe_head_and_host)
{
	struct test_group f;
	struct fake fk;
	struct event_base *base = event_base_new();
	struct health *h;
	static char host[] = "backend.example";
	unsigned port;

	port = fake_listen(&fk, base, "HTTP/1.0 302 Found\r\n\r\n");
	test_group_conf(&f, SCHED_ROUND_ROBIN, NULL, 2);
	f.gc.nservers = 1;
	f.gc.health_check_head = true;
	f.gc.health_check_host = host;
	f.gc.health_check_interval_ms = 100;
	/* The check goes to health_check_port, not the server's port. */
	f.gc.health_check_port = port;
	fx_addr(&f, 0, closed_port());
	test_group_build(&f);
	h = health_start(base, f.b);
	run_until(base, f.s, 1);
	health_stop(h);
	ck_assert_int_eq(atomic_load(&f.s->sh->last_status), 302);
	ck_assert_ptr_eq(strstr(fk.request, "HEAD / HTTP/1.1\r\n"), fk.request);
	ck_assert_ptr_nonnull(strstr(fk.request,
	    "\r\nHost: backend.example\r\n"));
	fake_close(&fk);
	test_group_free(&f);
	event_base_free(base);
}
END_TEST

START_TEST(probe_bad_status)
{
	struct test_group f;
	struct fake fk;
	struct event_base *base = event_base_new();
	struct health *h;
	unsigned port;

	port = fake_listen(&fk, base, "HTTP/1.1 500 Internal Server Error\r\n"
	    "Content-Length: 0\r\n\r\n");
	test_group_conf(&f, SCHED_ROUND_ROBIN, NULL, 2);
	f.gc.nservers = 1;
	f.gc.health_check_interval_ms = 100;
	fx_addr(&f, 0, port);
	test_group_build(&f);
	h = health_start(base, f.b);
	run_until(base, f.s, 2);
	health_stop(h);
	ck_assert_int_eq(up(f.s), 0);
	ck_assert_int_eq(atomic_load(&f.s->sh->last_status), 500);
	ck_assert_int_eq(atomic_load(&f.s->sh->last_error), HE_BAD_STATUS);
	fake_close(&fk);
	test_group_free(&f);
	event_base_free(base);
}
END_TEST

START_TEST(probe_5xx_allowed)
{
	struct test_group f;
	struct fake fk;
	struct event_base *base = event_base_new();
	struct health *h;
	unsigned port;

	port = fake_listen(&fk, base, "HTTP/1.1 503 Busy\r\n\r\n");
	test_group_conf(&f, SCHED_ROUND_ROBIN, NULL, 2);
	f.gc.nservers = 1;
	f.gc.health_check_interval_ms = 100;
	f.gc.health_check_http_code = HC_CODE_2XX | HC_CODE_5XX;
	fx_addr(&f, 0, port);
	test_group_build(&f);
	h = health_start(base, f.b);
	run_until(base, f.s, 3);
	health_stop(h);
	ck_assert_int_eq(up(f.s), 1);
	ck_assert_int_eq(atomic_load(&f.s->sh->last_status), 503);
	ck_assert_int_eq(atomic_load(&f.s->sh->last_error), HE_OK);
	fake_close(&fk);
	test_group_free(&f);
	event_base_free(base);
}
END_TEST

START_TEST(probe_refused)
{
	struct test_group f;
	struct event_base *base = event_base_new();
	struct health *h;

	test_group_conf(&f, SCHED_ROUND_ROBIN, NULL, 2);
	f.gc.nservers = 1;
	f.gc.health_check_interval_ms = 100;
	fx_addr(&f, 0, closed_port());
	test_group_build(&f);
	h = health_start(base, f.b);
	run_until(base, f.s, 2);
	health_stop(h);
	ck_assert_int_eq(up(f.s), 0);
	ck_assert_int_eq(atomic_load(&f.s->sh->last_error), HE_REFUSED);
	test_group_free(&f);
	event_base_free(base);
}
END_TEST

/* Accepted, then closed without an answer; and garbage. */
START_TEST(probe_no_answer)
{
	struct test_group f;
	struct fake fk;
	struct event_base *base = event_base_new();
	struct health *h;
	unsigned port;

	port = fake_listen(&fk, base, NULL);
	test_group_conf(&f, SCHED_ROUND_ROBIN, NULL, 2);
	f.gc.nservers = 1;
	f.gc.health_check_interval_ms = 100;
	fx_addr(&f, 0, port);
	test_group_build(&f);
	h = health_start(base, f.b);
	run_until(base, f.s, 2);
	health_stop(h);
	ck_assert_int_eq(up(f.s), 0);
	ck_assert_int_eq(atomic_load(&f.s->sh->last_error), HE_CLOSED);
	fake_close(&fk);
	test_group_free(&f);
	event_base_free(base);
}
END_TEST

START_TEST(probe_garbage)
{
	struct test_group f;
	struct fake fk;
	struct event_base *base = event_base_new();
	struct health *h;
	unsigned port;

	port = fake_listen(&fk, base, "SSH-2.0-OpenSSH_9.2\r\n");
	test_group_conf(&f, SCHED_ROUND_ROBIN, NULL, 2);
	f.gc.nservers = 1;
	f.gc.health_check_interval_ms = 100;
	fx_addr(&f, 0, port);
	test_group_build(&f);
	h = health_start(base, f.b);
	run_until(base, f.s, 2);
	health_stop(h);
	ck_assert_int_eq(up(f.s), 0);
	ck_assert_int_eq(atomic_load(&f.s->sh->last_error), HE_BAD_RESPONSE);
	fake_close(&fk);
	test_group_free(&f);
	event_base_free(base);
}
END_TEST

/* Accepts (the kernel does) but never answers: the timeout fails it. */
START_TEST(probe_timeout)
{
	struct test_group f;
	struct fake fk;
	struct event_base *base = event_base_new();
	struct health *h;
	unsigned port;

	port = fake_listen(&fk, base, NULL);
	event_del(fk.accept_ev);	/* never accept, never read */
	test_group_conf(&f, SCHED_ROUND_ROBIN, NULL, 2);
	f.gc.nservers = 1;
	f.gc.health_check_interval_ms = 100;
	f.gc.health_check_timeout_ms = 50;
	fx_addr(&f, 0, port);
	test_group_build(&f);
	h = health_start(base, f.b);
	run_until(base, f.s, 2);
	health_stop(h);
	ck_assert_int_eq(up(f.s), 0);
	ck_assert_int_eq(atomic_load(&f.s->sh->last_error), HE_TIMEOUT);
	fake_close(&fk);
	test_group_free(&f);
	event_base_free(base);
}
END_TEST

/* health_check = off: no probes at all; start and stop are clean. */
START_TEST(probe_off)
{
	struct test_group f;
	struct event_base *base = event_base_new();
	struct health *h;
	struct timeval tv = { 0, 300000 };

	test_group_conf(&f, SCHED_ROUND_ROBIN, NULL, 2);
	f.gc.health_check = false;
	f.gc.health_check_interval_ms = 100;
	fx_addr(&f, 0, closed_port());
	fx_addr(&f, 1, closed_port());
	test_group_build(&f);
	h = health_start(base, f.b);
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
	health_stop(h);
	health_stop(NULL);
	ck_assert_uint_eq(atomic_load(&f.s->sh->checks), 0);
	ck_assert_int_eq(up(f.s), 1);
	test_group_free(&f);
	event_base_free(base);
}
END_TEST

/* --- expiry warning wording ---------------------------------------------- */

START_TEST(expiry_wording)
{
	char buf[256];
	long now = 1767225600;	/* 2026-01-01 00:00:00 UTC */

	expiry_format(buf, sizeof(buf), "https", "CRL", "/etc/ca.crl",
	    now + 3 * 86400 + 60, now);
	ck_assert_str_eq(buf, "listener https: CRL /etc/ca.crl expires on "
	    "2026-01-04 00:01:00 UTC (in 3 days)");
	expiry_format(buf, sizeof(buf), "https", "server certificate",
	    "/s.crt", now + 5 * 3600, now);
	ck_assert_str_eq(buf, "listener https: server certificate /s.crt "
	    "expires on 2026-01-01 05:00:00 UTC (in 5 hours)");
	expiry_format(buf, sizeof(buf), "in", "CA certificate", "/r.crt",
	    now - 86400 * 10, now);
	ck_assert_str_eq(buf, "listener in: CA certificate /r.crt expired on "
	    "2025-12-22 00:00:00 UTC (10 days ago)");
	expiry_format(buf, 16, "https", "CRL", "/x", now + 600, now);
	ck_assert_uint_eq(strlen(buf), 15);
}
END_TEST

static Suite *
health_suite(void)
{
	Suite *s = suite_create("health");
	TCase *tc;

#define ADD(name) do {					\
	tc = tcase_create(#name);			\
	tcase_add_test(tc, name);			\
	suite_add_tcase(s, tc);				\
} while (0)
	ADD(code_classes);
	ADD(error_words);
	ADD(initial_healthy);
	ADD(initial_unhealthy);
	ADD(initial_unchecked_is_up);
	ADD(down_after_unhealthy_threshold);
	ADD(up_after_healthy_threshold);
	ADD(threshold_one);
	ADD(streaks_reset);
	ADD(down_server_not_picked);
	ADD(passive_needs_threshold);
	ADD(passive_success_resets);
	ADD(passive_probe_pass_resets);
	ADD(passive_off_without_checks);
	ADD(passive_down_then_probes_up);
	ADD(passive_on_down_server);
	ADD(probe_request_and_ok);
	ADD(probe_head_and_host);
	ADD(probe_bad_status);
	ADD(probe_5xx_allowed);
	ADD(probe_refused);
	ADD(probe_no_answer);
	ADD(probe_garbage);
	ADD(probe_timeout);
	ADD(probe_off);
	ADD(expiry_wording);
#undef ADD
	return s;
}

const struct test_unit test_unit = { health_suite, NULL, NULL };
