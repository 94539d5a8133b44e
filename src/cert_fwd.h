/*
 * cert_fwd: the client-certificate header families that carry more than
 * names (forward_client_cert = rfc9440, xfcc, aws), formatted once per
 * connection into one block of header lines that every request of the
 * connection copies. The X-Forwarded-Clientcert-* family (alibaba) is
 * written by http_write.c from struct peer_cert directly.
 */
#ifndef MTLSLB_CERT_FWD_H
#define MTLSLB_CERT_FWD_H

#include <stddef.h>

#include <openssl/ssl.h>

struct peer_cert;

/*
 * Returns the header lines ("Name: value\r\n" each) of the families in
 * fams (FCC_RFC9440, FCC_XFCC, FCC_AWS) for ssl's verified client
 * certificate, whose names pc holds; *len gets the length. A DN longer
 * than max_dn bytes is left out of the xfcc and aws headers, as from the
 * alibaba ones. Without the certificate itself (a session resumed from an
 * identity record) the fields that need it are left out. The caller owns
 * the result ("" when there is nothing to send).
 */
char *cert_fwd_headers(SSL *ssl, const struct peer_cert *pc, unsigned fams,
    size_t max_dn, size_t *len);

/*
 * Appends s (n bytes) to *buf URL-encoded (every byte but A-Z a-z 0-9
 * - . _ ~ as %XX, uppercase), as Envoy and AWS send PEM; *len and *cap
 * describe *buf (xrealloc'd). For the tests too.
 */
void cert_fwd_urlencode(char **buf, size_t *len, size_t *cap, const char *s,
    size_t n);

#endif
