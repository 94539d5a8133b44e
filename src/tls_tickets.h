/*
 * tls_tickets: stateless session tickets under keys from a file
 * (session_ticket_keys), so instances sharing the file resume each
 * other's sessions. The file holds base64 keys, one per line: 80 bytes
 * (16 name, 32 HMAC-SHA256, 32 AES-256-CBC) or 48 (16 name, 16 AES-128,
 * 16 HMAC), nginx's layouts. The first key encrypts; all decrypt.
 */
#ifndef MTLSLB_TLS_TICKETS_H
#define MTLSLB_TLS_TICKETS_H

#include <stddef.h>

#include <openssl/ssl.h>

struct diag;
struct listener_conf;

/*
 * Reads lc's session_ticket_keys file and makes ctx issue and accept
 * tickets under its keys. Records problems in d at the key's line
 * (unreadable, world-readable, a line that is not a key); returns 0 or
 * -1.
 */
int tls_tickets_load(SSL_CTX *ctx, const struct listener_conf *lc,
    struct diag *d);

/*
 * Decodes one line of a key file into key; returns the bytes decoded (a
 * key is 80 or 48), 0 for a blank or comment line, -1 when it is not one
 * base64 string of at most 96 bytes.
 */
int tls_tickets_parse_line(const char *line, unsigned char key[96]);

#endif
