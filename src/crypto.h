/*
 * crypto.h - the cryptography postroom needs, on OpenSSL's libcrypto:
 * HMAC-SHA256 and SHA-256 (tokens, address hashes), a constant-time
 * compare, wiping secrets, and checking a TLS server's certificate chain
 * and name.
 *
 * crypto.c is the one file that includes OpenSSL headers; the rest of
 * postroom sees only these functions and plain bytes.  Certificates come in
 * as DER, the form libetpan hands out, so the IMAP source needs no OpenSSL
 * type either.
 *
 * Owns: the algorithms and the trust decision (which CA store, which
 * checks).  Does not own: what is signed (token.c) or when a server is
 * checked (source-imap.c).
 */
#ifndef POSTROOM_CRYPTO_H
#define POSTROOM_CRYPTO_H

#include <stddef.h>

#define CRYPTO_SHA256_LEN	32

/* HMAC-SHA256 of data under key.  Aborts (fatalx) if libcrypto fails. */
void	crypto_hmac_sha256(const void *key, size_t keylen, const void *data,
	    size_t len, unsigned char out[CRYPTO_SHA256_LEN]);
/*
 * HMAC-SHA256 under one key, many times (a campaign signs several tokens
 * per recipient): crypto_hmac_new() does the key schedule once, each
 * crypto_hmac_run() then costs two SHA-256 finishes instead of a whole
 * HMAC set-up.  A struct crypto_hmac belongs to one thread.  The result
 * of crypto_hmac_run() is crypto_hmac_sha256()'s, byte for byte.  Aborts
 * (fatalx) if libcrypto fails; crypto_hmac_free() wipes the key and
 * accepts NULL.
 */
struct crypto_hmac;
struct crypto_hmac *crypto_hmac_new(const void *key, size_t keylen);
void	crypto_hmac_run(struct crypto_hmac *, const void *data, size_t len,
	    unsigned char out[CRYPTO_SHA256_LEN]);
void	crypto_hmac_free(struct crypto_hmac *);
/* SHA-256 of the concatenation of a and b (either may be empty). */
void	crypto_sha256(const void *a, size_t alen, const void *b, size_t blen,
	    unsigned char out[CRYPTO_SHA256_LEN]);
/* 1 when the len bytes at a and b are equal, 0 when not; constant time. */
int	crypto_equal(const void *a, const void *b, size_t len);
/* Wipe a secret so that the compiler cannot optimise the wipe away. */
void	crypto_cleanse(void *p, size_t len);

/* One certificate as the server sent it, DER-encoded. */
struct crypto_der {
	const unsigned char	*data;
	size_t			 len;
};

/*
 * Decide whether to trust a TLS server, by OpenSSL's own X509_verify_cert():
 * chain[0] is its certificate and the rest (in any order) intermediates it
 * sent, taken as untrusted.  The chain must lead to a trusted root, be
 * valid now and fit for a TLS server, at the strength Debian's libssl asks
 * by default (security level 2: RSA keys of 2048 bits or more, no SHA-1 or
 * MD5 signatures).  The certificate must name host in its subjectAltName
 * (a DNS name, matched with the usual wildcard rules, or an IPv4/IPv6
 * literal, matched against its IP addresses; "[::1]" brackets are
 * allowed); a name only in the CN does not count.  Roots come from ca_file
 * (PEM, one or more) when it is not NULL or "", else from OpenSSL's default
 * paths (the system store).  Returns 0 when trusted, or -1 with *cause (the
 * caller frees it) saying why in plain words and naming the certificate at
 * fault: "the server's certificate (CN=..., names DNS:...) is not signed
 * by a trusted authority", "... uses a 1024-bit RSA key; 2048 bits or more
 * are required", "... is signed with SHA-1, which is no longer accepted",
 * "... does not name mail.example.org".
 */
int	crypto_verify_chain(const struct crypto_der *chain, size_t n,
	    const char *host, const char *ca_file, char **cause);

#endif
