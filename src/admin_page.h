/*
 * admin_page: the operator console, GET / on the admin endpoint: one
 * self-contained HTML page (inline CSS, no script, no external resource)
 * rendered from a status snapshot, the same one /status renders. It
 * reloads itself every few seconds and has a form per server action.
 */
#ifndef MTLSLB_ADMIN_PAGE_H
#define MTLSLB_ADMIN_PAGE_H

struct evbuffer;
struct status;

/* Seconds between the page's own reloads (meta refresh). */
#define ADMIN_PAGE_REFRESH_S	5

/* Who is looking, and whether they may press the buttons. */
struct admin_page_viewer {
	const char *addr;		/* "127.0.0.1:40112" */
	const char *subject;		/* verified client cert., or NULL */
	const char *post_refusal;	/* NULL: the forms are shown */
};

/* Appends the page for st, as seen by v, to out. */
void admin_page_render(struct evbuffer *out, const struct status *st,
    const struct admin_page_viewer *v);

#endif
