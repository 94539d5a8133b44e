/*
 * tls_tickets: the key file and OpenSSL's ticket key callback. The keys
 * are read by the master when it builds the listener's SSL_CTX (start,
 * reload, reload_on_change) and reach the workers by fork, like the
 * server's private key.
 */
#include "ac_config.h"
#include "tls_tickets.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "config.h"
#include "diag.h"
#include "util.h"

#define MAX_KEYS	16

struct tkey {
	unsigned char name[16];
	unsigned char hmac[32];
	size_t hmac_len;
	unsigned char aes[32];
	const EVP_CIPHER *cipher;
};

struct tkeys {
	size_t n;
	struct tkey k[MAX_KEYS];
};

static int keys_idx = -1;

static void
keys_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
    void *argp)
{
	if (ptr != NULL)
		OPENSSL_clear_free(ptr, sizeof(struct tkeys));
}

int
tls_tickets_parse_line(const char *line, unsigned char key[96])
{
	unsigned char out[128];
	char b64[128];
	size_t n = 0, pad = 0;
	int len;

	for (; *line != '\0' && *line != '\n'; line++) {
		if (*line == ' ' || *line == '\t' || *line == '\r')
			continue;
		if (*line == '#' && n == 0)
			return 0;
		if (n + 1 >= sizeof(b64))
			return -1;
		b64[n++] = *line;
	}
	b64[n] = '\0';
	if (n == 0)
		return 0;
	if (n % 4 != 0 || strspn(b64, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/=") != n)
		return -1;
	while (pad < 2 && b64[n - 1 - pad] == '=')
		pad++;
	len = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)n);
	if (len < 0)
		return -1;
	len -= (int)pad;
	if (len < 0 || len > 96)
		return -1;
	memcpy(key, out, (size_t)len);
	OPENSSL_cleanse(out, sizeof(out));
	return len;
}

/* nginx's layouts: 80 = name, HMAC 32, AES 32; 48 = name, AES 16, HMAC 16. */
static void
key_of(const unsigned char *raw, int len, struct tkey *k)
{
	memcpy(k->name, raw, 16);
	if (len == 80) {
		memcpy(k->hmac, raw + 16, 32);
		k->hmac_len = 32;
		memcpy(k->aes, raw + 48, 32);
		k->cipher = EVP_aes_256_cbc();
	} else {
		memcpy(k->aes, raw + 16, 16);
		memcpy(k->hmac, raw + 32, 16);
		k->hmac_len = 16;
		k->cipher = EVP_aes_128_cbc();
	}
}

static int
key_cb(SSL *ssl, unsigned char name[16], unsigned char iv[16],
    EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx, int enc)
{
	struct tkeys *ks = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl),
	    keys_idx);
	OSSL_PARAM params[3];
	const struct tkey *k = NULL;
	size_t i;

	if (ks == NULL || ks->n == 0)
		return 0;
	if (enc) {
		k = &ks->k[0];
		memcpy(name, k->name, 16);
		if (RAND_bytes(iv, EVP_CIPHER_get_iv_length(k->cipher)) != 1 ||
		    EVP_EncryptInit_ex(cctx, k->cipher, NULL, k->aes, iv) != 1)
			return -1;
	} else {
		for (i = 0; i < ks->n && k == NULL; i++)
			if (memcmp(ks->k[i].name, name, 16) == 0)
				k = &ks->k[i];
		if (k == NULL)
			return 0;	/* not ours, or rotated out: full */
		if (EVP_DecryptInit_ex(cctx, k->cipher, NULL, k->aes, iv) != 1)
			return -1;
	}
	params[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY,
	    (void *)k->hmac, k->hmac_len);
	params[1] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)"SHA256", 0);
	params[2] = OSSL_PARAM_construct_end();
	if (EVP_MAC_CTX_set_params(hctx, params) != 1)
		return -1;
	/* an older key still decrypts; the client gets a ticket under the new */
	return enc || k == &ks->k[0] ? 1 : 2;
}

int
tls_tickets_load(SSL_CTX *ctx, const struct listener_conf *lc,
    struct diag *d)
{
	const char *path = lc->session_ticket_keys;
	unsigned char raw[96];
	struct tkeys *ks = NULL;
	struct stat st;
	char line[256];
	FILE *fp = NULL;
	int lineno = 0, len, rc = -1;

	if (keys_idx < 0 && (keys_idx = SSL_CTX_get_ex_new_index(0, NULL,
	    NULL, NULL, keys_free)) < 0) {
		diag_ssl(d, lc->session_ticket_keys_line, "session_ticket_keys:"
		    " no OpenSSL ex_data slot");
		return -1;
	}
	if ((fp = fopen(path, "r")) == NULL || fstat(fileno(fp), &st) != 0) {
		diag_error(d, lc->session_ticket_keys_line, "session_ticket_keys:"
		    " cannot read '%s': %s", path, strerror(errno));
		goto out;
	}
	if (st.st_mode & (S_IROTH | S_IWOTH)) {
		diag_error(d, lc->session_ticket_keys_line, "session_ticket_keys:"
		    " '%s' can be read or written by every user (mode %04o): "
		    "anyone who has the keys can decrypt recorded sessions; "
		    "chmod 600 '%s'", path, (unsigned)(st.st_mode & 07777),
		    path);
		goto out;
	}
	ks = OPENSSL_zalloc(sizeof(*ks));
	if (ks == NULL)
		abort();
	while (fgets(line, sizeof(line), fp) != NULL) {
		lineno++;
		if ((len = tls_tickets_parse_line(line, raw)) == 0)
			continue;
		if (len != 80 && len != 48) {
			char what[40];

			if (len < 0)
				snprintf(what, sizeof(what), "not base64");
			else
				snprintf(what, sizeof(what), "%d bytes", len);
			diag_error(d, lc->session_ticket_keys_line,
			    "session_ticket_keys: '%s' line %d is not a key "
			    "(%s): a key is 80 (or 48) random bytes in base64 on "
			    "one line; make the file with 'mtlslb-certs "
			    "ticket-key %s'", path, lineno, what, path);
			goto out;
		}
		if (ks->n == MAX_KEYS) {
			diag_error(d, lc->session_ticket_keys_line,
			    "session_ticket_keys: '%s' has more than %d keys; "
			    "keep the newest few (the first encrypts)", path,
			    MAX_KEYS);
			goto out;
		}
		key_of(raw, len, &ks->k[ks->n++]);
	}
	if (ks->n == 0) {
		diag_error(d, lc->session_ticket_keys_line, "session_ticket_keys:"
		    " '%s' holds no key; make one with 'mtlslb-certs ticket-key "
		    "%s'", path, path);
		goto out;
	}
	if (SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, key_cb) != 1 ||
	    SSL_CTX_set_ex_data(ctx, keys_idx, ks) != 1) {
		diag_ssl(d, lc->session_ticket_keys_line, "session_ticket_keys:"
		    " cannot use the keys of '%s'", path);
		goto out;
	}
	ks = NULL;
	SSL_CTX_clear_options(ctx, SSL_OP_NO_TICKET);
	rc = 0;
out:
	OPENSSL_cleanse(raw, sizeof(raw));
	OPENSSL_cleanse(line, sizeof(line));
	if (ks != NULL)
		OPENSSL_clear_free(ks, sizeof(*ks));
	if (fp != NULL)
		fclose(fp);
	return rc;
}
