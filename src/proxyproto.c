/*
 * proxyproto: parses and writes PROXY protocol headers (HAProxy's
 * "The PROXY protocol", versions 1 and 2). Strict where the spec is: a v1
 * line of at most 107 bytes with single spaces and canonical numbers, a
 * v2 preamble with the exact signature, version 2, known commands and
 * families, address blocks and TLVs that fit the announced length. It
 * never reads past the bytes it is given and never allocates.
 */
#include "ac_config.h"
#include "proxyproto.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

static const uint8_t v2_sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
};

#define V2_CMD_LOCAL	0x0
#define V2_CMD_PROXY	0x1
#define V2_AF_UNSPEC	0x0
#define V2_AF_INET	0x1
#define V2_AF_INET6	0x2
#define V2_AF_UNIX	0x3
#define V2_PROTO_UNSPEC	0x0
#define V2_PROTO_STREAM	0x1
#define V2_PROTO_DGRAM	0x2

/* --- version 1 ----------------------------------------------------------- */

/* "0".."65535" without a leading zero or sign. */
static int
v1_port(const char *s, in_port_t *port)
{
	unsigned long v = 0;
	size_t i, n = strlen(s);

	if (n == 0 || n > 5 || (n > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > 65535)
		return -1;
	*port = htons((uint16_t)v);
	return 0;
}

static int
v1_addr(int af, const char *a, const char *p, struct sockaddr_storage *ss,
    socklen_t *sslen)
{
	memset(ss, 0, sizeof(*ss));
	if (af == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)(void *)ss;

		in->sin_family = AF_INET;
		if (inet_pton(AF_INET, a, &in->sin_addr) != 1 ||
		    v1_port(p, &in->sin_port) < 0)
			return -1;
		*sslen = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)(void *)ss;

		in6->sin6_family = AF_INET6;
		if (inet_pton(AF_INET6, a, &in6->sin6_addr) != 1 ||
		    v1_port(p, &in6->sin6_port) < 0)
			return -1;
		*sslen = sizeof(*in6);
	}
	return 0;
}

/*
 * "PROXY TCP4 192.0.2.1 198.51.100.1 56324 443\r\n". Returns the length,
 * 0 while the line is a valid prefix, -1 otherwise.
 */
static int
parse_v1(const uint8_t *buf, size_t len, struct proxyproto_hdr *h)
{
	static const char magic[] = "PROXY ";
	char line[PROXYPROTO_V1_MAX + 1], *tok[7], *p;
	size_t i, n, ntok;
	int af;

	for (i = 0; i < len && i < sizeof(magic) - 1; i++)
		if (buf[i] != (uint8_t)magic[i])
			return -1;
	for (n = 0; n < len && n < PROXYPROTO_V1_MAX; n++) {
		if (buf[n] == '\r')
			break;
		/* printable ASCII only: no NUL, no bare LF, no 8-bit */
		if (buf[n] < 0x20 || buf[n] > 0x7e)
			return -1;
	}
	if (n == len)
		return len < PROXYPROTO_V1_MAX ? 0 : -1;
	if (n == PROXYPROTO_V1_MAX || n + 1 >= PROXYPROTO_V1_MAX)
		return -1;			/* no room left for CRLF */
	if (n + 1 == len)
		return 0;			/* the LF is still to come */
	if (buf[n + 1] != '\n' || n < sizeof(magic) - 1)
		return -1;
	memcpy(line, buf, n);
	line[n] = '\0';
	/* tokens separated by exactly one space */
	ntok = 0;
	p = line + sizeof(magic) - 1;
	for (;;) {
		if (ntok == sizeof(tok) / sizeof(tok[0]))
			return -1;
		tok[ntok++] = p;
		if ((p = strchr(p, ' ')) == NULL)
			break;
		*p++ = '\0';
	}
	memset(h, 0, sizeof(*h));
	h->version = 1;
	if (strcmp(tok[0], "UNKNOWN") == 0) {
		/* the sender could not say: anything may follow, ignored */
		h->local = true;
		return (int)(n + 2);
	}
	if (strcmp(tok[0], "TCP4") == 0)
		af = AF_INET;
	else if (strcmp(tok[0], "TCP6") == 0)
		af = AF_INET6;
	else
		return -1;
	if (ntok != 5)
		return -1;
	for (i = 1; i < ntok; i++)
		if (*tok[i] == '\0')
			return -1;
	if (v1_addr(af, tok[1], tok[3], &h->src, &h->srclen) < 0 ||
	    v1_addr(af, tok[2], tok[4], &h->dst, &h->dstlen) < 0)
		return -1;
	return (int)(n + 2);
}

/* --- version 2 ----------------------------------------------------------- */

/* The TLVs in p[0..n) must tile it exactly; their contents are skipped. */
static int
v2_tlvs(const uint8_t *p, size_t n)
{
	size_t off = 0, l;

	while (off < n) {
		if (n - off < 3)
			return -1;
		l = (size_t)p[off + 1] << 8 | p[off + 2];
		if (l > n - off - 3)
			return -1;
		off += 3 + l;
	}
	return 0;
}

static int
parse_v2(const uint8_t *buf, size_t len, struct proxyproto_hdr *h)
{
	const uint8_t *a;
	size_t i, total, alen, need;
	unsigned cmd, fam, proto;

	for (i = 0; i < len && i < sizeof(v2_sig); i++)
		if (buf[i] != v2_sig[i])
			return -1;
	if (len > 12 && (buf[12] >> 4 != 2 || (buf[12] & 0xf) > V2_CMD_PROXY))
		return -1;
	if (len > 13 && ((buf[13] >> 4) > V2_AF_UNIX ||
	    (buf[13] & 0xf) > V2_PROTO_DGRAM))
		return -1;
	if (len < 16)
		return 0;
	alen = (size_t)buf[14] << 8 | buf[15];
	total = 16 + alen;
	if (total > PROXYPROTO_V2_MAX)
		return -1;
	if (len < total)
		return 0;
	cmd = buf[12] & 0xf;
	fam = buf[13] >> 4;
	proto = buf[13] & 0xf;
	memset(h, 0, sizeof(*h));
	h->version = 2;
	a = buf + 16;
	if (cmd == V2_CMD_LOCAL || fam == V2_AF_UNSPEC || fam == V2_AF_UNIX) {
		/*
		 * LOCAL: the balancer's own connection (a health check);
		 * UNSPEC and UNIX: nothing TCP can use. The spec says to use
		 * the real endpoints and ignore the address block.
		 */
		h->local = true;
		return (int)total;
	}
	if (proto == V2_PROTO_DGRAM)
		return -1;	/* a TCP listener carries no datagrams */
	need = fam == V2_AF_INET ? 12 : 36;
	if (alen < need || v2_tlvs(a + need, alen - need) < 0)
		return -1;
	if (fam == V2_AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)(void *)&h->src;
		struct sockaddr_in *d = (struct sockaddr_in *)(void *)&h->dst;

		s->sin_family = d->sin_family = AF_INET;
		memcpy(&s->sin_addr, a, 4);
		memcpy(&d->sin_addr, a + 4, 4);
		memcpy(&s->sin_port, a + 8, 2);
		memcpy(&d->sin_port, a + 10, 2);
		h->srclen = h->dstlen = sizeof(*s);
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)(void *)&h->src;
		struct sockaddr_in6 *d = (struct sockaddr_in6 *)(void *)&h->dst;

		s->sin6_family = d->sin6_family = AF_INET6;
		memcpy(&s->sin6_addr, a, 16);
		memcpy(&d->sin6_addr, a + 16, 16);
		memcpy(&s->sin6_port, a + 32, 2);
		memcpy(&d->sin6_port, a + 34, 2);
		h->srclen = h->dstlen = sizeof(*s);
	}
	return (int)total;
}

int
proxyproto_parse(const uint8_t *buf, size_t len, struct proxyproto_hdr *h)
{
	if (len == 0)
		return 0;
	if (buf[0] == 'P')
		return parse_v1(buf, len, h);
	if (buf[0] == v2_sig[0])
		return parse_v2(buf, len, h);
	return -1;		/* a TLS ClientHello, an HTTP request, ... */
}

/* --- writing ------------------------------------------------------------- */

/* Both endpoints of one TCP family: AF_INET or AF_INET6, else 0. */
static int
tcp_family(const struct sockaddr *src, const struct sockaddr *dst)
{
	if (src == NULL || dst == NULL || src->sa_family != dst->sa_family)
		return 0;
	if (src->sa_family == AF_INET || src->sa_family == AF_INET6)
		return src->sa_family;
	return 0;
}

static void
addr_port(const struct sockaddr *sa, const void **addr, size_t *alen,
    in_port_t *port)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;

		*addr = &in->sin_addr;
		*alen = 4;
		*port = in->sin_port;
	} else {
		const struct sockaddr_in6 *in6 = (const void *)sa;

		*addr = &in6->sin6_addr;
		*alen = 16;
		*port = in6->sin6_port;
	}
}

size_t
proxyproto_write_v1(char *buf, size_t cap, const struct sockaddr *src,
    const struct sockaddr *dst)
{
	char sa[INET6_ADDRSTRLEN], da[INET6_ADDRSTRLEN];
	const void *s, *d;
	size_t slen, dlen;
	in_port_t sp, dp;
	int af = tcp_family(src, dst), n;

	if (af == 0)
		n = snprintf(buf, cap, "PROXY UNKNOWN\r\n");
	else {
		addr_port(src, &s, &slen, &sp);
		addr_port(dst, &d, &dlen, &dp);
		if (inet_ntop(af, s, sa, sizeof(sa)) == NULL ||
		    inet_ntop(af, d, da, sizeof(da)) == NULL)
			return 0;
		n = snprintf(buf, cap, "PROXY %s %s %s %u %u\r\n",
		    af == AF_INET ? "TCP4" : "TCP6", sa, da,
		    (unsigned)ntohs(sp), (unsigned)ntohs(dp));
	}
	if (n < 0 || (size_t)n >= cap)
		return 0;
	return (size_t)n;
}

/* Appends a TLV of type t with value v[0..n) at *off; false if no room. */
static bool
put_tlv(uint8_t *buf, size_t cap, size_t *off, uint8_t t, const void *v,
    size_t n)
{
	if (n > 0xffff || cap - *off < 3 + n)
		return false;
	buf[*off] = t;
	buf[*off + 1] = (uint8_t)(n >> 8);
	buf[*off + 2] = (uint8_t)n;
	if (n > 0)
		memcpy(buf + *off + 3, v, n);
	*off += 3 + n;
	return true;
}

static bool
put_str_tlv(uint8_t *buf, size_t cap, size_t *off, uint8_t t,
    const char *s)
{
	return s == NULL || put_tlv(buf, cap, off, t, s, strlen(s));
}

/* PP2_TYPE_SSL: client bits, verify, then the sub-TLVs, at *off. */
static bool
put_ssl(uint8_t *buf, size_t cap, size_t *off,
    const struct proxyproto_ssl *ssl)
{
	size_t start = *off, vlen;
	uint8_t client = PP2_CLIENT_SSL;

	if (cap - *off < 3 + 5)
		return false;
	if (ssl->cert_conn)
		client |= PP2_CLIENT_CERT_CONN;
	if (ssl->cert_sess)
		client |= PP2_CLIENT_CERT_SESS;
	buf[*off] = PP2_TYPE_SSL;
	buf[*off + 3] = client;
	buf[*off + 4] = (uint8_t)(ssl->verify >> 24);
	buf[*off + 5] = (uint8_t)(ssl->verify >> 16);
	buf[*off + 6] = (uint8_t)(ssl->verify >> 8);
	buf[*off + 7] = (uint8_t)ssl->verify;
	*off += 8;
	if (!put_str_tlv(buf, cap, off, PP2_SUBTYPE_SSL_VERSION,
	    ssl->version) ||
	    !put_str_tlv(buf, cap, off, PP2_SUBTYPE_SSL_CN, ssl->cn) ||
	    !put_str_tlv(buf, cap, off, PP2_SUBTYPE_SSL_CIPHER, ssl->cipher))
		return false;
	vlen = *off - start - 3;
	if (vlen > 0xffff)
		return false;
	buf[start + 1] = (uint8_t)(vlen >> 8);
	buf[start + 2] = (uint8_t)vlen;
	return true;
}

size_t
proxyproto_write_v2(uint8_t *buf, size_t cap, const struct sockaddr *src,
    const struct sockaddr *dst, const struct proxyproto_ssl *ssl)
{
	const void *s, *d;
	size_t slen, dlen, off, body;
	in_port_t sp, dp;
	int af = tcp_family(src, dst);

	if (cap < 16)
		return 0;
	memcpy(buf, v2_sig, sizeof(v2_sig));
	off = 16;
	if (af == 0) {
		buf[12] = 0x20 | V2_CMD_LOCAL;
		buf[13] = V2_AF_UNSPEC << 4 | V2_PROTO_UNSPEC;
	} else {
		addr_port(src, &s, &slen, &sp);
		addr_port(dst, &d, &dlen, &dp);
		buf[12] = 0x20 | V2_CMD_PROXY;
		buf[13] = (uint8_t)((af == AF_INET ? V2_AF_INET : V2_AF_INET6)
		    << 4 | V2_PROTO_STREAM);
		if (cap - off < 2 * slen + 4)
			return 0;
		memcpy(buf + off, s, slen);
		memcpy(buf + off + slen, d, dlen);
		memcpy(buf + off + 2 * slen, &sp, 2);
		memcpy(buf + off + 2 * slen + 2, &dp, 2);
		off += 2 * slen + 4;
		if (ssl != NULL && !put_ssl(buf, cap, &off, ssl))
			return 0;
	}
	body = off - 16;
	if (body > 0xffff)
		return 0;
	buf[14] = (uint8_t)(body >> 8);
	buf[15] = (uint8_t)body;
	return off;
}
