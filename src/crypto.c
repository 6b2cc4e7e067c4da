/*
 * crypto.c - postroom's one door to OpenSSL's libcrypto.
 *
 * Owns: HMAC-SHA256, SHA-256, constant-time comparison, wiping secrets,
 * and the decision whether a TLS server's certificate chain and name are
 * to be trusted (needed because Debian's libetpan, built on GnuTLS, checks
 * neither).  The only file that includes OpenSSL headers.  Does not own:
 * the TLS connection itself (libetpan, in source-imap.c), token formats
 * (token.c).
 */
#include <arpa/inet.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "crypto.h"
#include "log.h"
#include "xmalloc.h"

void
crypto_hmac_sha256(const void *key, size_t keylen, const void *data,
    size_t len, unsigned char out[CRYPTO_SHA256_LEN])
{
	unsigned char	 full[EVP_MAX_MD_SIZE];
	unsigned int	 fulllen = 0;

	if (keylen > INT32_MAX ||
	    HMAC(EVP_sha256(), key, (int)keylen, data, len, full,
	    &fulllen) == NULL || fulllen != CRYPTO_SHA256_LEN)
		fatalx("crypto: HMAC-SHA256 failed");
	memcpy(out, full, CRYPTO_SHA256_LEN);
	OPENSSL_cleanse(full, sizeof full);
}

/* --- HMAC under a prepared key ----------------------------------------- */

struct crypto_hmac {
	EVP_MAC_CTX	*ctx;
};

struct crypto_hmac *
crypto_hmac_new(const void *key, size_t keylen)
{
	struct crypto_hmac	*h;
	EVP_MAC			*mac;
	OSSL_PARAM		 params[2];
	char			 digest[] = "SHA256";

	h = xcalloc(1, sizeof *h);
	params[0] = OSSL_PARAM_construct_utf8_string("digest", digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	if ((mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL ||
	    (h->ctx = EVP_MAC_CTX_new(mac)) == NULL ||
	    EVP_MAC_init(h->ctx, key, keylen, params) != 1)
		fatalx("crypto: HMAC-SHA256 set-up failed");
	/* The context holds its own reference. */
	EVP_MAC_free(mac);
	return h;
}

void
crypto_hmac_run(struct crypto_hmac *h, const void *data, size_t len,
    unsigned char out[CRYPTO_SHA256_LEN])
{
	size_t	outlen = 0;

	/* No key: start again from the key schedule made in _new(). */
	if (EVP_MAC_init(h->ctx, NULL, 0, NULL) != 1 ||
	    EVP_MAC_update(h->ctx, data, len) != 1 ||
	    EVP_MAC_final(h->ctx, out, &outlen, CRYPTO_SHA256_LEN) != 1 ||
	    outlen != CRYPTO_SHA256_LEN)
		fatalx("crypto: HMAC-SHA256 failed");
}

void
crypto_hmac_free(struct crypto_hmac *h)
{
	if (h == NULL)
		return;
	/* Frees and cleanses the key material. */
	EVP_MAC_CTX_free(h->ctx);
	free(h);
}

/* --- SHA-256 ------------------------------------------------------------ */

/*
 * SHA-256 fetched once: EVP_sha256() would make libcrypto look the
 * algorithm up (a lock and a hash table) at every digest, and the delivery
 * engine hashes an address per message.  Kept for the process's life.
 */
static pthread_once_t	 crypto_sha256_once = PTHREAD_ONCE_INIT;
static EVP_MD		*crypto_sha256_md;

static void
crypto_sha256_fetch(void)
{
	crypto_sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

void
crypto_sha256(const void *a, size_t alen, const void *b, size_t blen,
    unsigned char out[CRYPTO_SHA256_LEN])
{
	EVP_MD_CTX	*ctx;
	unsigned int	 mdlen = 0;

	pthread_once(&crypto_sha256_once, crypto_sha256_fetch);
	if (crypto_sha256_md == NULL ||
	    (ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(ctx, crypto_sha256_md, NULL) != 1 ||
	    EVP_DigestUpdate(ctx, a, alen) != 1 ||
	    EVP_DigestUpdate(ctx, b, blen) != 1 ||
	    EVP_DigestFinal_ex(ctx, out, &mdlen) != 1 ||
	    mdlen != CRYPTO_SHA256_LEN)
		fatalx("crypto: SHA-256 failed");
	EVP_MD_CTX_free(ctx);
}

int
crypto_equal(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}

void
crypto_cleanse(void *p, size_t len)
{
	OPENSSL_cleanse(p, len);
}

/* --- certificate chains ------------------------------------------------ */

/* "CN=mail.example.org, names DNS:mail.example.org, IP:192.0.2.1". */
static char *
crypto_describe(X509 *x)
{
	GENERAL_NAMES		*names;
	const GENERAL_NAME	*gn;
	BIO			*bio;
	BUF_MEM			*mem;
	char			 ip[INET6_ADDRSTRLEN];
	const unsigned char	*p;
	char			*out;
	int			 i, n, len;

	if ((bio = BIO_new(BIO_s_mem())) == NULL)
		return xstrdup("?");
	X509_NAME_print_ex(bio, X509_get_subject_name(x), 0,
	    XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
	names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	n = names != NULL ? sk_GENERAL_NAME_num(names) : 0;
	for (i = 0; i < n; i++) {
		gn = sk_GENERAL_NAME_value(names, i);
		BIO_puts(bio, i == 0 ? ", names " : ", ");
		if (gn->type == GEN_DNS) {
			p = ASN1_STRING_get0_data(gn->d.dNSName);
			len = ASN1_STRING_length(gn->d.dNSName);
			BIO_printf(bio, "DNS:%.*s", len, (const char *)p);
		} else if (gn->type == GEN_IPADD) {
			p = ASN1_STRING_get0_data(gn->d.iPAddress);
			len = ASN1_STRING_length(gn->d.iPAddress);
			if ((len == 4 && inet_ntop(AF_INET, p, ip,
			    sizeof ip) != NULL) || (len == 16 &&
			    inet_ntop(AF_INET6, p, ip, sizeof ip) != NULL))
				BIO_printf(bio, "IP:%s", ip);
			else
				BIO_puts(bio, "IP:?");
		} else
			BIO_puts(bio, "(other)");
	}
	GENERAL_NAMES_free(names);
	BIO_get_mem_ptr(bio, &mem);
	out = xstrndup(mem->data, mem->length);
	BIO_free(bio);
	/* Names come from the network: keep control characters out of logs. */
	for (i = 0; out[i] != '\0'; i++) {
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			out[i] = '?';
	}
	return out;
}

/* An IP literal host, without brackets, in buf; 0 when host is a name. */
static int
crypto_host_ip(const char *host, char *buf, size_t size)
{
	unsigned char	 addr[16];
	size_t		 len = strlen(host);

	if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
		host++;
		len -= 2;
	}
	if (len >= size)
		return 0;
	memcpy(buf, host, len);
	buf[len] = '\0';
	return inet_pton(AF_INET, buf, addr) == 1 ||
	    inet_pton(AF_INET6, buf, addr) == 1;
}

int
crypto_verify_chain(const struct crypto_der *chain, size_t n,
    const char *host, const char *ca_file, char **cause)
{
	X509_STORE	*store = NULL;
	X509_STORE_CTX	*ctx = NULL;
	STACK_OF(X509)	*untrusted = NULL;
	X509		*leaf = NULL, *x, *bad;
	const unsigned char *p;
	char		 ip[INET6_ADDRSTRLEN + 1], *what;
	size_t		 i;
	int		 rc = -1, err, isip;

	if (n == 0) {
		*cause = xstrdup("the server sent no certificate");
		return -1;
	}

	/* Step 1: the trusted roots. */
	if ((store = X509_STORE_new()) == NULL)
		fatalx("crypto: X509_STORE_new failed");
	if (ca_file != NULL && *ca_file != '\0') {
		if (X509_STORE_load_locations(store, ca_file, NULL) != 1) {
			xasprintf(cause, "%s: cannot load CA certificates "
			    "(expected PEM): %s", ca_file,
			    ERR_reason_error_string(ERR_peek_last_error()));
			ERR_clear_error();
			goto out;
		}
	} else if (X509_STORE_set_default_paths(store) != 1) {
		*cause = xstrdup("cannot load the system CA certificates");
		ERR_clear_error();
		goto out;
	}

	/* Step 2: the server's certificate and what it sent with it. */
	if ((untrusted = sk_X509_new_null()) == NULL)
		fatalx("crypto: sk_X509_new_null failed");
	for (i = 0; i < n; i++) {
		p = chain[i].data;
		if (chain[i].len > INT32_MAX ||
		    (x = d2i_X509(NULL, &p, (long)chain[i].len)) == NULL) {
			xasprintf(cause, "certificate %zu the server sent is "
			    "not valid DER", i);
			ERR_clear_error();
			goto out;
		}
		if (i == 0)
			leaf = x;
		else if (sk_X509_push(untrusted, x) == 0)
			fatalx("crypto: sk_X509_push failed");
	}

	/* Step 3: the chain, to a trusted root, fit for a TLS server. */
	if ((ctx = X509_STORE_CTX_new()) == NULL ||
	    X509_STORE_CTX_init(ctx, store, leaf, untrusted) != 1)
		fatalx("crypto: X509_STORE_CTX_init failed");
	X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
	if (X509_verify_cert(ctx) != 1) {
		err = X509_STORE_CTX_get_error(ctx);
		if ((bad = X509_STORE_CTX_get_current_cert(ctx)) == NULL)
			bad = leaf;
		what = crypto_describe(bad);
		xasprintf(cause, "certificate verify failed: %s (depth %d, "
		    "%s)", X509_verify_cert_error_string(err),
		    X509_STORE_CTX_get_error_depth(ctx), what);
		free(what);
		ERR_clear_error();
		goto out;
	}

	/* Step 4: the name we connected to. */
	isip = crypto_host_ip(host, ip, sizeof ip);
	if ((isip && X509_check_ip_asc(leaf, ip, 0) != 1) ||
	    (!isip && X509_check_host(leaf, host, strlen(host),
	    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL) != 1)) {
		what = crypto_describe(leaf);
		xasprintf(cause, "certificate does not match host %s (it is "
		    "for %s)", host, what);
		free(what);
		ERR_clear_error();
		goto out;
	}
	rc = 0;
out:
	X509_STORE_CTX_free(ctx);
	sk_X509_pop_free(untrusted, X509_free);
	X509_free(leaf);
	X509_STORE_free(store);
	return rc;
}
