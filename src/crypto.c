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

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/*
 * What X509_verify_cert() found wrong, in words an administrator can act
 * on, said of the certificate at fault; errors not listed fall back to
 * OpenSSL's own string.  A weak key, a weak signature and a wrong name
 * have words of their own, built in crypto_verify_why().
 */
static const struct {
	int		 error;
	const char	*why;
} crypto_verify_errors[] = {
	{ X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT,
	  "is self-signed, not signed by a trusted authority" },
	{ X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN,
	  "leads to a self-signed root that is not trusted" },
	{ X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
	  "is not signed by a trusted authority" },
	{ X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT,
	  "is not signed by a trusted authority" },
	{ X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE,
	  "is not signed by a trusted authority" },
	{ X509_V_ERR_CERT_SIGNATURE_FAILURE,
	  "carries a signature that does not verify" },
	{ X509_V_ERR_CERT_NOT_YET_VALID, "is not valid yet" },
	{ X509_V_ERR_CERT_HAS_EXPIRED, "has expired" },
	{ X509_V_ERR_INVALID_CA,
	  "is signed by a certificate that is not a CA" },
	{ X509_V_ERR_INVALID_PURPOSE, "is not meant for a TLS server" },
	{ X509_V_ERR_CERT_UNTRUSTED, "is not trusted for TLS servers" },
	{ X509_V_ERR_CERT_REJECTED, "is marked as rejected for TLS servers" },
	{ X509_V_ERR_PATH_LENGTH_EXCEEDED,
	  "sits deeper under its CA than the CA allows" },
};

/* Security level 2 asks 112 bits of strength: these key sizes. */
static const struct {
	int		 type;
	const char	*name;
	int		 bits;
} crypto_key_minimum[] = {
	{ EVP_PKEY_RSA, "RSA", 2048 },
	{ EVP_PKEY_RSA_PSS, "RSA", 2048 },
	{ EVP_PKEY_DSA, "DSA", 2048 },
	{ EVP_PKEY_EC, "EC", 224 },
};

/* "SHA-1", "MD5", ...: the digest x is signed with, for a person. */
static const char *
crypto_sig_digest(X509 *x)
{
	int	 mdnid = NID_undef;

	if (X509_get_signature_info(x, &mdnid, NULL, NULL, NULL) != 1)
		return "a weak digest";
	switch (mdnid) {
	case NID_sha1:
		return "SHA-1";
	case NID_md5:
		return "MD5";
	case NID_md4:
		return "MD4";
	case NID_md2:
		return "MD2";
	case NID_undef:
		return "a weak digest";
	}
	return OBJ_nid2sn(mdnid);
}

/* Why x, at depth, failed with err; what the caller frees. */
static char *
crypto_verify_why(int err, X509 *x, int depth, const char *host)
{
	EVP_PKEY	*key;
	char		*what, *who, *why = NULL;
	size_t		 i;
	int		 type, bits, san;

	what = crypto_describe(x);
	if (depth == 0)
		xasprintf(&who, "the server's certificate (%s)", what);
	else
		xasprintf(&who, "certificate %d in the server's chain (%s)",
		    depth, what);

	switch (err) {
	case X509_V_ERR_EE_KEY_TOO_SMALL:
	case X509_V_ERR_CA_KEY_TOO_SMALL:
		key = X509_get0_pubkey(x);
		type = key != NULL ? EVP_PKEY_get_base_id(key) : NID_undef;
		bits = key != NULL ? EVP_PKEY_get_bits(key) : 0;
		for (i = 0; i < sizeof crypto_key_minimum /
		    sizeof crypto_key_minimum[0]; i++) {
			if (crypto_key_minimum[i].type == type) {
				xasprintf(&why, "%s uses a %d-bit %s key; %d "
				    "bits or more are required", who, bits,
				    crypto_key_minimum[i].name,
				    crypto_key_minimum[i].bits);
				break;
			}
		}
		if (why == NULL)
			xasprintf(&why, "%s uses a %d-bit %s key, too weak to "
			    "be accepted", who, bits, key != NULL &&
			    EVP_PKEY_get0_type_name(key) != NULL ?
			    EVP_PKEY_get0_type_name(key) : "unknown");
		break;
	case X509_V_ERR_CA_MD_TOO_WEAK:
		xasprintf(&why, "%s is signed with %s, which is no longer "
		    "accepted", who, crypto_sig_digest(x));
		break;
	case X509_V_ERR_HOSTNAME_MISMATCH:
	case X509_V_ERR_IP_ADDRESS_MISMATCH:
		/* No fallback to the CN: say so when that is all it has. */
		san = X509_get_ext_by_NID(x, NID_subject_alt_name, -1) >= 0;
		xasprintf(&why, "%s does not name %s%s", who, host, san ? "" :
		    " (it has no subjectAltName, and a name in the CN alone "
		    "is not accepted)");
		break;
	default:
		for (i = 0; i < sizeof crypto_verify_errors /
		    sizeof crypto_verify_errors[0]; i++) {
			if (crypto_verify_errors[i].error == err) {
				xasprintf(&why, "%s %s", who,
				    crypto_verify_errors[i].why);
				break;
			}
		}
		if (why == NULL)
			xasprintf(&why, "%s: %s", who,
			    X509_verify_cert_error_string(err));
		break;
	}
	free(who);
	free(what);
	return why;
}

int
crypto_verify_chain(const struct crypto_der *chain, size_t n,
    const char *host, const char *ca_file, char **cause)
{
	X509_STORE		*store = NULL;
	X509_STORE_CTX		*ctx = NULL;
	X509_VERIFY_PARAM	*param;
	STACK_OF(X509)		*untrusted = NULL;
	X509			*leaf = NULL, *x, *bad;
	const unsigned char	*p;
	char			 ip[INET6_ADDRSTRLEN + 1];
	size_t			 i;
	int			 rc = -1, err;

	if (n == 0) {
		*cause = xstrdup("the server sent no certificate");
		return -1;
	}

	/* Step 1: the trusted roots. */
	if ((store = X509_STORE_new()) == NULL)
		fatalx("crypto: X509_STORE_new failed");
	if (ca_file != NULL && *ca_file != '\0') {
		if (access(ca_file, R_OK) == -1) {
			xasprintf(cause, "%s: cannot load CA certificates: %s",
			    ca_file, strerror(errno));
			goto out;
		}
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

	/* Step 2: the server's certificate, and untrusted what came with it. */
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

	/*
	 * Step 3: what libssl itself would ask of a TLS server at Debian's
	 * default security level 2 (keys of 112 bits of strength, so RSA of
	 * 2048 bits; no SHA-1 or MD5 signatures), and the name we connected
	 * to, in subjectAltName only: a CN is never taken for a name.
	 */
	if ((ctx = X509_STORE_CTX_new()) == NULL ||
	    X509_STORE_CTX_init(ctx, store, leaf, untrusted) != 1)
		fatalx("crypto: X509_STORE_CTX_init failed");
	param = X509_STORE_CTX_get0_param(ctx);
	if (X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER)
	    != 1 || X509_VERIFY_PARAM_set_trust(param, X509_TRUST_SSL_SERVER)
	    != 1)
		fatalx("crypto: cannot set the TLS server purpose");
	X509_VERIFY_PARAM_set_auth_level(param, 2);
	X509_VERIFY_PARAM_set_hostflags(param,
	    X509_CHECK_FLAG_NEVER_CHECK_SUBJECT |
	    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (crypto_host_ip(host, ip, sizeof ip)) {
		if (X509_VERIFY_PARAM_set1_ip_asc(param, ip) != 1)
			fatalx("crypto: X509_VERIFY_PARAM_set1_ip_asc failed");
	} else if (X509_VERIFY_PARAM_set1_host(param, host, 0) != 1) {
		xasprintf(cause, "\"%s\" is not a host name that a "
		    "certificate can name", host);
		ERR_clear_error();
		goto out;
	}

	/* Step 4: the chain, to a trusted root, and the name. */
	if (X509_verify_cert(ctx) != 1) {
		err = X509_STORE_CTX_get_error(ctx);
		if ((bad = X509_STORE_CTX_get_current_cert(ctx)) == NULL)
			bad = leaf;
		*cause = crypto_verify_why(err, bad,
		    X509_STORE_CTX_get_error_depth(ctx), host);
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
