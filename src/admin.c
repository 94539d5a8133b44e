/*
 * admin: evhttp is enough here (small GET requests, never on the proxy
 * data path). The endpoint runs in the master, which owns no client
 * traffic, so a slow scrape cannot delay a request.
 */
#include "ac_config.h"
#include "admin.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "config.h"
#include "listener.h"
#include "log.h"
#include "metrics.h"
#include "runtime.h"
#include "util.h"

struct admin {
	struct evhttp *http;
	const struct runtime *rt;
	long started;
};

static void
request_cb(struct evhttp_request *req, void *arg)
{
	struct admin *a = arg;
	struct evbuffer *out = evbuffer_new();
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(
	    req));
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);

	if (out == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		evhttp_add_header(h, "Allow", "GET, HEAD");
		evhttp_send_error(req, 405, NULL);
		evbuffer_free(out);
		return;
	}
	if (path != NULL && strcmp(path, "/metrics") == 0) {
		metrics_render(out, a->rt, a->started);
		evhttp_add_header(h, "Content-Type",
		    "text/plain; version=0.0.4; charset=utf-8");
	} else if (path != NULL && strcmp(path, "/status") == 0) {
		metrics_status_json(out, a->rt, a->started);
		evhttp_add_header(h, "Content-Type", "application/json");
	} else {
		evbuffer_add_printf(out, "not found: try /status or "
		    "/metrics\n");
		evhttp_add_header(h, "Content-Type", "text/plain");
		evhttp_send_reply(req, 404, "Not Found", out);
		evbuffer_free(out);
		return;
	}
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_send_reply(req, 200, "OK", out);
	evbuffer_free(out);
}

struct admin *
admin_start(struct event_base *base, const struct runtime *rt, long started,
    int *failed)
{
	const struct config *cfg = rt->cfg;
	struct admin *a;
	size_t i;

	*failed = 0;
	if (cfg->nadmin_binds == 0)
		return NULL;
	a = xcalloc(1, sizeof(*a));
	a->rt = rt;
	a->started = started;
	if ((a->http = evhttp_new(base)) == NULL) {
		free(a);
		*failed = 1;
		return NULL;
	}
	/* Every method reaches request_cb, which answers 405 with Allow:
	 * evhttp's own filter would say 501 Not Implemented instead. */
	evhttp_set_allowed_methods(a->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD |
	    EVHTTP_REQ_POST | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
	evhttp_set_max_headers_size(a->http, 16384);
	evhttp_set_max_body_size(a->http, 0);
	evhttp_set_timeout(a->http, 10);
	evhttp_set_gencb(a->http, request_cb, a);
	for (i = 0; i < cfg->nadmin_binds; i++) {
		int fd = listener_bind(&cfg->admin_binds[i], "admin");

		if (fd == -1 || evhttp_accept_socket(a->http, fd) != 0) {
			if (fd != -1)
				close(fd);
			admin_stop(a);
			*failed = 1;
			return NULL;
		}
		log_msg(LL_INFO, "admin endpoint on http://%s/status and "
		    "/metrics", cfg->admin_binds[i].text);
	}
	return a;
}

void
admin_set_runtime(struct admin *a, const struct runtime *rt)
{
	if (a != NULL)
		a->rt = rt;
}

/* True when both configurations list the same admin binds, in order. */
static bool
same_binds(const struct config *a, const struct config *b)
{
	size_t i;

	if (a->nadmin_binds != b->nadmin_binds)
		return false;
	for (i = 0; i < a->nadmin_binds; i++)
		if (strcmp(a->admin_binds[i].text, b->admin_binds[i].text) != 0)
			return false;
	return true;
}

struct admin *
admin_reload(struct admin *a, struct event_base *base,
    const struct runtime *rt, long started)
{
	int failed;

	if (a != NULL && same_binds(a->rt->cfg, rt->cfg)) {
		a->rt = rt;
		return a;
	}
	if (a == NULL && rt->cfg->nadmin_binds == 0)
		return NULL;
	/* Close first: the new binds may reuse an old address. */
	admin_stop(a);
	if (rt->cfg->nadmin_binds == 0)
		log_msg(LL_INFO, "admin endpoint closed");
	a = admin_start(base, rt, started, &failed);
	if (failed)
		log_msg(LL_ERROR, "admin endpoint: off until a reload with a "
		    "bind that works");
	return a;
}

void
admin_stop(struct admin *a)
{
	if (a == NULL)
		return;
	if (a->http != NULL)
		evhttp_free(a->http);
	free(a);
}
