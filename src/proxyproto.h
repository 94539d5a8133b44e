/*
 * proxyproto: the PROXY protocol (HAProxy's specification, versions 1
 * and 2) as pure functions over byte buffers: parsing the header an L4
 * balancer puts before a client's first byte, and writing the header
 * mtlslb puts before a request to a backend. No I/O, no allocation.
 */
#ifndef MTLSLB_PROXYPROTO_H
#define MTLSLB_PROXYPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* A v1 header is at most this long, "PROXY" to CRLF (the spec's limit). */
#define PROXYPROTO_V1_MAX	107

/*
 * The longest v2 header accepted: the 16-byte preamble and 2 KiB of
 * addresses and TLVs (what AWS, GCP and HAProxy's SSL TLVs need, many
 * times over). A longer one is refused, not read.
 */
#define PROXYPROTO_V2_MAX	(16 + 2048)

/* The most bytes a header can take: read no further than this. */
#define PROXYPROTO_MAX		PROXYPROTO_V2_MAX

/* What a header said. */
struct proxyproto_hdr {
	int version;			/* 1 or 2 */
	/*
	 * The real connection's endpoints are to be used: a v2 LOCAL
	 * (the balancer's own health check), "PROXY UNKNOWN", or a v2
	 * family other than TCP over IPv4 or IPv6. src and dst are unset.
	 */
	bool local;
	struct sockaddr_storage src;	/* the client */
	struct sockaddr_storage dst;	/* the address it connected to */
	socklen_t srclen, dstlen;
};

/*
 * Parses the PROXY header at the start of buf[0..len). Returns its length
 * (> 0) with *h filled when it is complete and valid; 0 when every byte
 * of buf is the valid start of a header and more are needed (so the
 * caller may consume all len bytes and wait); -1 when buf cannot start a
 * valid header (another protocol, a syntax error, a header over the
 * limits above). Never reads beyond len; a v2 header's TLVs are checked
 * for framing and otherwise skipped.
 */
int proxyproto_parse(const uint8_t *buf, size_t len,
    struct proxyproto_hdr *h);

/* The TLS facts of a client connection (v2 PP2_TYPE_SSL). */
struct proxyproto_ssl {
	bool cert_conn;		/* a certificate on this connection */
	bool cert_sess;		/* one on the session (resumed too) */
	uint32_t verify;	/* 0: verified; else not (X509_V_*) */
	const char *version;	/* "TLSv1.3" */
	const char *cipher;	/* "TLS_AES_128_GCM_SHA256" */
	const char *cn;		/* client certificate CN; NULL: none */
};

/*
 * Writes a v1 header for a TCP connection from src to dst into buf (cap
 * bytes), "PROXY UNKNOWN" when they are not both IPv4 or both IPv6.
 * Returns its length, or 0 when cap is too small.
 */
size_t proxyproto_write_v1(char *buf, size_t cap, const struct sockaddr *src,
    const struct sockaddr *dst);

/*
 * Writes a v2 PROXY header for a TCP connection from src to dst into buf
 * (cap bytes), with a PP2_TYPE_SSL TLV (client flags, verify result,
 * version, cipher and CN sub-TLVs) when ssl is not NULL; the LOCAL
 * command when src and dst are not both IPv4 or both IPv6. Returns its
 * length, or 0 when cap is too small.
 */
size_t proxyproto_write_v2(uint8_t *buf, size_t cap,
    const struct sockaddr *src, const struct sockaddr *dst,
    const struct proxyproto_ssl *ssl);

/* The type numbers of the spec (section 2.2) that the writer uses. */
#define PP2_TYPE_SSL		0x20
#define PP2_SUBTYPE_SSL_VERSION	0x21
#define PP2_SUBTYPE_SSL_CN	0x22
#define PP2_SUBTYPE_SSL_CIPHER	0x23
#define PP2_CLIENT_SSL		0x01
#define PP2_CLIENT_CERT_CONN	0x02
#define PP2_CLIENT_CERT_SESS	0x04

#endif
