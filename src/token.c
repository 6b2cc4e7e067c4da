/*
 * token.c - HMAC-SHA256 signed tokens, their key file, address hashes.
 *
 * Owns: the token wire format (see token.h), base64url, the key file
 * (reading, permission check, atomic creation), signers (a key made
 * ready once for many tokens) and the forgotten-address hash.  The
 * hashing itself is crypto.c's.  Does not own: what a token grants, or
 * where keys live (the configuration says).
 */
#include <sys/random.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"
#include "hex.h"
#include "log.h"
#include "token.h"
#include "xmalloc.h"

#define TOKEN_VERSION	2
#define TOKEN_VERSION_1	1	/* retired: no salt, no issue time */
#define TOKEN_MAC_LEN	16	/* HMAC-SHA256 truncated to 128 bits */
/* version, purpose, three varints and the slug length: one byte each. */
#define TOKEN_PAYLOAD_MIN 6
/* Largest payload: version 2 with 10-byte varints, plus the slug. */
#define TOKEN_PAYLOAD_MAX (2 + 4 * 10 + 1 + TOKEN_LIST_MAX)
/* The payload and room for the salt, which the MAC then overwrites. */
#define TOKEN_RAW_MAX	(TOKEN_PAYLOAD_MAX + TOKEN_SALT_LEN)

#define TOKEN_FORGET_PREFIX_V1 "postroom-forget-v1:"
#define TOKEN_FORGET_PREFIX "postroom-forget-v2:"

static const char token_b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* --- base64url without padding ------------------------------------------ */

static char *
token_b64_encode(const unsigned char *p, size_t len)
{
	char	*out, *o;
	size_t	 i;
	uint32_t v;

	out = o = xmalloc((len + 2) / 3 * 4 + 1);
	for (i = 0; i + 3 <= len; i += 3) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		*o++ = token_b64[v >> 18 & 63];
		*o++ = token_b64[v >> 12 & 63];
		*o++ = token_b64[v >> 6 & 63];
		*o++ = token_b64[v & 63];
	}
	if (len - i == 1) {
		v = (uint32_t)p[i] << 16;
		*o++ = token_b64[v >> 18 & 63];
		*o++ = token_b64[v >> 12 & 63];
	} else if (len - i == 2) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
		*o++ = token_b64[v >> 18 & 63];
		*o++ = token_b64[v >> 12 & 63];
		*o++ = token_b64[v >> 6 & 63];
	}
	*o = '\0';
	return out;
}

static int
token_b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/*
 * Decode strictly: only the base64url alphabet, no padding, and the unused
 * low bits of the last character must be zero, so that every token has
 * exactly one spelling (otherwise changing the last character could leave
 * the decoded bytes, and so the signature, intact).
 */
static int
token_b64_decode(const char *s, size_t len, unsigned char *out, size_t max,
    size_t *outlen)
{
	size_t		 i, n = 0;
	uint32_t	 acc = 0;
	int		 bits = 0, v;

	if (len % 4 == 1)
		return -1;
	for (i = 0; i < len; i++) {
		if ((v = token_b64_value(s[i])) == -1)
			return -1;
		acc = (acc << 6 | (uint32_t)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n == max)
				return -1;
			out[n++] = (acc >> bits) & 0xff;
		}
	}
	if ((acc & ((1U << bits) - 1)) != 0)
		return -1;
	*outlen = n;
	return 0;
}

/* --- payload ------------------------------------------------------------ */

static void
token_put_varint(unsigned char *p, size_t *n, uint64_t v)
{
	do {
		p[(*n)++] = (v & 0x7f) | (v > 0x7f ? 0x80 : 0);
		v >>= 7;
	} while (v != 0);
}

/* Canonical LEB128 only: no overlong forms, nothing past 64 bits. */
static int
token_get_varint(const unsigned char *p, size_t len, size_t *off,
    uint64_t *v)
{
	uint64_t	 r = 0;
	unsigned int	 shift = 0;
	unsigned char	 c;

	for (;;) {
		if (*off >= len || shift > 63)
			return -1;
		c = p[(*off)++];
		if (shift == 63 && c > 1)
			return -1;
		r |= (uint64_t)(c & 0x7f) << shift;
		if ((c & 0x80) == 0)
			break;
		shift += 7;
	}
	if (c == 0 && shift != 0)
		return -1;
	*v = r;
	return 0;
}

struct token_signer {
	struct crypto_hmac	*hmac;
};

/* The MAC under key, or under signer when it is not NULL. */
static void
token_mac(const unsigned char key[TOKEN_KEY_LEN],
    struct token_signer *signer, const unsigned char *p, size_t len,
    unsigned char mac[TOKEN_MAC_LEN])
{
	unsigned char	 full[CRYPTO_SHA256_LEN];

	if (signer != NULL)
		crypto_hmac_run(signer->hmac, p, len, full);
	else
		crypto_hmac_sha256(key, TOKEN_KEY_LEN, p, len, full);
	memcpy(mac, full, TOKEN_MAC_LEN);
	crypto_cleanse(full, sizeof full);
}

/* token_make() and token_signer_make(): one of key and signer is NULL. */
static char *
token_make_with(const unsigned char key[TOKEN_KEY_LEN],
    struct token_signer *signer, const struct token *t)
{
	unsigned char	 raw[TOKEN_RAW_MAX];
	size_t		 n = 0, slug;

	if (t->purpose < TOKEN_CONFIRM || t->purpose > TOKEN_LAST)
		fatalx("token_make: bad purpose %d", (int)t->purpose);
	if (t->subscriber < 0 || t->campaign < 0 || t->expires < 0)
		fatalx("token_make: negative id or expiry");
	if (t->issued <= 0 || (t->expires != 0 && t->expires <= t->issued))
		fatalx("token_make: issued %lld, expires %lld",
		    (long long)t->issued, (long long)t->expires);
	if (memchr(t->list, '\0', sizeof t->list) == NULL)
		fatalx("token_make: list slug not terminated");
	slug = strlen(t->list);

	raw[n++] = TOKEN_VERSION;
	raw[n++] = (unsigned char)t->purpose;
	token_put_varint(raw, &n, (uint64_t)t->subscriber);
	token_put_varint(raw, &n, (uint64_t)t->issued);
	token_put_varint(raw, &n, t->expires == 0 ? 0 :
	    (uint64_t)t->expires - (uint64_t)t->issued);
	raw[n++] = (unsigned char)slug;
	memcpy(raw + n, t->list, slug);
	n += slug;
	token_put_varint(raw, &n, (uint64_t)t->campaign);

	/* MAC(payload || salt), which then takes the salt's place. */
	memcpy(raw + n, t->salt, TOKEN_SALT_LEN);
	token_mac(key, signer, raw, n + TOKEN_SALT_LEN, raw + n);
	n += TOKEN_MAC_LEN;
	return token_b64_encode(raw, n);
}

char *
token_make(const unsigned char key[TOKEN_KEY_LEN], const struct token *t)
{
	return token_make_with(key, NULL, t);
}

struct token_signer *
token_signer_new(const unsigned char key[TOKEN_KEY_LEN])
{
	struct token_signer	*sg;

	sg = xcalloc(1, sizeof *sg);
	sg->hmac = crypto_hmac_new(key, TOKEN_KEY_LEN);
	return sg;
}

char *
token_signer_make(struct token_signer *sg, const struct token *t)
{
	return token_make_with(NULL, sg, t);
}

void
token_signer_free(struct token_signer *sg)
{
	if (sg == NULL)
		return;
	crypto_hmac_free(sg->hmac);
	free(sg);
}

static int
token_fail(char **cause, const char *why)
{
	*cause = xstrdup(why);
	return -1;
}

/*
 * Parse an authentic payload p of len bytes into *t: 0, or -1 when it is
 * not one (a version 1 payload fills expires, and leaves issued 0).
 */
static int
token_parse(const unsigned char *p, size_t len, struct token *t)
{
	size_t		 off, slug;
	uint64_t	 sub, issued = 0, life, camp;

	memset(t, 0, sizeof *t);
	if ((p[0] != TOKEN_VERSION && p[0] != TOKEN_VERSION_1) ||
	    p[1] < TOKEN_CONFIRM || p[1] > TOKEN_LAST)
		return -1;
	t->purpose = p[1];
	off = 2;
	if (token_get_varint(p, len, &off, &sub) != 0 || sub > INT64_MAX)
		return -1;
	if (p[0] == TOKEN_VERSION) {
		if (token_get_varint(p, len, &off, &issued) != 0 ||
		    issued == 0 || issued > INT64_MAX)
			return -1;
	}
	if (token_get_varint(p, len, &off, &life) != 0 ||
	    life > INT64_MAX - issued || off >= len)
		return -1;
	slug = p[off++];
	if (slug > TOKEN_LIST_MAX || slug > len - off ||
	    memchr(p + off, '\0', slug) != NULL)
		return -1;
	memcpy(t->list, p + off, slug);
	t->list[slug] = '\0';
	off += slug;
	if (token_get_varint(p, len, &off, &camp) != 0 ||
	    camp > INT64_MAX || off != len)
		return -1;
	t->subscriber = (int64_t)sub;
	t->issued = (time_t)issued;
	/* Version 1 had the expiry where version 2 has the issue time. */
	t->expires = (time_t)(life == 0 ? 0 : issued + life);
	t->campaign = (int64_t)camp;
	return 0;
}

int
token_check(const unsigned char key[TOKEN_KEY_LEN],
    const struct token_salts *salts, const char *s, time_t now,
    struct token *out, char **cause)
{
	unsigned char	 raw[TOKEN_RAW_MAX + TOKEN_MAC_LEN];
	unsigned char	 mac[TOKEN_MAC_LEN], given[TOKEN_MAC_LEN];
	unsigned char	 salt[TOKEN_SALT_LEN];
	size_t		 len, rawlen, plen, off;
	uint64_t	 sub;
	struct token	 t;
	int		 found;

	/* Step 1: decode. */
	if (s == NULL || (len = strnlen(s, TOKEN_MAX_LEN + 1)) == 0 ||
	    len > TOKEN_MAX_LEN)
		return token_fail(cause, "malformed");
	if (token_b64_decode(s, len, raw, TOKEN_PAYLOAD_MAX + TOKEN_MAC_LEN,
	    &rawlen) != 0 || rawlen < TOKEN_PAYLOAD_MIN + TOKEN_MAC_LEN)
		return token_fail(cause, "malformed");
	plen = rawlen - TOKEN_MAC_LEN;
	memcpy(given, raw + plen, TOKEN_MAC_LEN);

	/*
	 * Step 2: a retired version 1 token, signed without a salt: if it
	 * is authentic, it says only what it was, and that it is too old.
	 */
	if (raw[0] == TOKEN_VERSION_1) {
		token_mac(key, NULL, raw, plen, mac);
		if (!crypto_equal(mac, given, TOKEN_MAC_LEN))
			return token_fail(cause, "bad signature");
		if (token_parse(raw, plen, &t) != 0)
			return token_fail(cause, "malformed");
		*out = t;
		return token_fail(cause, "expired");
	}
	if (raw[0] != TOKEN_VERSION)
		return token_fail(cause, "malformed");

	/*
	 * Step 3: the salt of the subscriber it names.  Only the id is read
	 * before authenticating, to know whose salt to look up.
	 */
	memset(salt, 0, sizeof salt);
	off = 2;
	if (token_get_varint(raw, plen, &off, &sub) != 0 || sub > INT64_MAX)
		return token_fail(cause, "malformed");
	if (sub != 0) {
		found = salts == NULL ? 0 :
		    salts->find(salts->arg, (int64_t)sub, salt, cause);
		if (found == -1)
			return -2;
		if (found == 0)
			return token_fail(cause, "unknown subscriber");
	}

	/* Step 4: authenticate everything before believing any of it. */
	memcpy(raw + plen, salt, TOKEN_SALT_LEN);
	token_mac(key, NULL, raw, plen + TOKEN_SALT_LEN, mac);
	crypto_cleanse(salt, sizeof salt);
	if (!crypto_equal(mac, given, TOKEN_MAC_LEN))
		return token_fail(cause, "bad signature");

	/* Step 5: parse. */
	if (token_parse(raw, plen, &t) != 0)
		return token_fail(cause, "malformed");

	/* Step 6: authentic; is it still valid? */
	*out = t;
	if (t.expires != 0 && now >= t.expires)
		return token_fail(cause, "expired");
	return 0;
}

/* --- the key file ------------------------------------------------------- */

static int
token_key_read(int fd, const char *path, unsigned char key[TOKEN_KEY_LEN],
    char **cause)
{
	struct stat	 sb;
	char		 text[2 * TOKEN_KEY_LEN + 16];
	size_t		 len = 0, i;
	ssize_t		 r;
	int		 hi, lo, rc = -1;

	if (fstat(fd, &sb) != 0) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(sb.st_mode)) {
		xasprintf(cause, "%s: not a regular file", path);
		return -1;
	}
	if ((sb.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		xasprintf(cause, "%s: mode %04o: a key file must not be "
		    "readable or writable by group or others (chmod 600)",
		    path, (unsigned int)(sb.st_mode & 07777));
		return -1;
	}
	for (;;) {
		r = read(fd, text + len, sizeof text - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			xasprintf(cause, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len == sizeof text)
			break;
	}
	while (len > 0 && isspace((unsigned char)text[len - 1]))
		len--;
	if (len != 2 * TOKEN_KEY_LEN)
		goto bad;
	for (i = 0; i < TOKEN_KEY_LEN; i++) {
		hi = hex_digit((unsigned char)text[2 * i]);
		lo = hex_digit((unsigned char)text[2 * i + 1]);
		if (hi == -1 || lo == -1)
			goto bad;
		key[i] = (unsigned char)(hi << 4 | lo);
	}
	rc = 0;
	goto out;
bad:
	xasprintf(cause, "%s: not a key file: want %d hex digits "
	    "(openssl rand -hex %d)", path, 2 * TOKEN_KEY_LEN, TOKEN_KEY_LEN);
out:
	crypto_cleanse(text, sizeof text);
	return rc;
}

static int
token_random(unsigned char *p, size_t len, char **cause)
{
	ssize_t	 r;
	size_t	 got = 0;

	while (got < len) {
		r = getrandom(p + got, len - got, 0);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			xasprintf(cause, "getrandom: %s", strerror(errno));
			return -1;
		}
		got += (size_t)r;
	}
	return 0;
}

static int
token_write_all(int fd, const char *p, size_t len)
{
	ssize_t	 r;

	while (len > 0) {
		r = write(fd, p, len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return -1;
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

/* Make the new name durable; a failure here is not worth failing over. */
static void
token_sync_dir(const char *path)
{
	char		*dir, *slash;
	int		 fd;

	dir = xstrdup(path);
	if ((slash = strrchr(dir, '/')) == NULL) {
		free(dir);
		dir = xstrdup(".");
	} else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		if (fsync(fd) != 0)
			log_warn("%s: fsync: %s", dir, strerror(errno));
		close(fd);
	}
	free(dir);
}

/*
 * Step 1: write the key to path.XXXXXX (O_EXCL, mode 0600) and fsync it.
 * Step 2: link() it to path, which fails if path appeared meanwhile; the
 * key somebody else created then wins and is read instead.
 */
static int
token_key_create(const char *path, unsigned char key[TOKEN_KEY_LEN],
    char **cause)
{
	unsigned char	 fresh[TOKEN_KEY_LEN];
	char		 text[2 * TOKEN_KEY_LEN + 2], *tmp;
	size_t		 i;
	int		 fd, rc = -1;

	if (token_random(fresh, sizeof fresh, cause) != 0)
		return -1;
	for (i = 0; i < TOKEN_KEY_LEN; i++) {
		text[2 * i] = "0123456789abcdef"[fresh[i] >> 4];
		text[2 * i + 1] = "0123456789abcdef"[fresh[i] & 15];
	}
	text[2 * TOKEN_KEY_LEN] = '\n';
	text[2 * TOKEN_KEY_LEN + 1] = '\0';

	tmp = xprintf("%s.XXXXXX", path);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		xasprintf(cause, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	if (fchmod(fd, S_IRUSR | S_IWUSR) != 0 ||
	    token_write_all(fd, text, 2 * TOKEN_KEY_LEN + 1) != 0 ||
	    fsync(fd) != 0) {
		xasprintf(cause, "%s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		goto out;
	}
	if (close(fd) != 0) {
		xasprintf(cause, "%s: %s", tmp, strerror(errno));
		unlink(tmp);
		goto out;
	}

	if (link(tmp, path) != 0) {
		if (errno != EEXIST) {
			xasprintf(cause, "%s: %s", path, strerror(errno));
			unlink(tmp);
			goto out;
		}
		unlink(tmp);
		rc = token_key_load(path, 0, key, cause);
		goto out;
	}
	unlink(tmp);
	token_sync_dir(path);
	memcpy(key, fresh, TOKEN_KEY_LEN);
	log_info("%s: created a new key", path);
	rc = 0;
out:
	free(tmp);
	crypto_cleanse(fresh, sizeof fresh);
	crypto_cleanse(text, sizeof text);
	return rc;
}

int
token_key_load(const char *path, int create,
    unsigned char key[TOKEN_KEY_LEN], char **cause)
{
	int	 fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) == -1) {
		if (errno == ENOENT && create)
			return token_key_create(path, key, cause);
		xasprintf(cause, "%s: %s", path, strerror(errno));
		return -1;
	}
	rc = token_key_read(fd, path, key, cause);
	close(fd);
	return rc;
}

/* --- forgotten addresses ------------------------------------------------ */

/*
 * The normal form of addr: trimmed, its domain's (with fold, all) ASCII
 * letters lowered.  The caller frees it; *len is its length.
 */
static char *
token_hash_norm(const char *addr, int fold, size_t *len)
{
	char		*norm, *at, *p;
	const char	*start, *end;

	start = addr;
	while (*start != '\0' && isspace((unsigned char)*start))
		start++;
	end = start + strlen(start);
	while (end > start && isspace((unsigned char)end[-1]))
		end--;
	*len = (size_t)(end - start);
	norm = xstrndup(start, *len);
	if ((at = strrchr(norm, '@')) != NULL || fold) {
		for (p = fold ? norm : at + 1; *p != '\0'; p++) {
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		}
	}
	return norm;
}

static void
token_hash_hex(const unsigned char md[CRYPTO_SHA256_LEN], char out[65])
{
	size_t	i;

	for (i = 0; i < CRYPTO_SHA256_LEN; i++) {
		out[2 * i] = "0123456789abcdef"[md[i] >> 4];
		out[2 * i + 1] = "0123456789abcdef"[md[i] & 15];
	}
	out[64] = '\0';
}

/* The legacy, unkeyed hash: SHA-256 of the v1 prefix and the address. */
static void
token_hash_plain(const char *addr, int fold, char out[65])
{
	unsigned char	 md[CRYPTO_SHA256_LEN];
	char		*norm;
	size_t		 len;

	norm = token_hash_norm(addr, fold, &len);
	crypto_sha256(TOKEN_FORGET_PREFIX_V1, strlen(TOKEN_FORGET_PREFIX_V1),
	    norm, len, md);
	free(norm);
	token_hash_hex(md, out);
}

void
token_hash_address(const unsigned char key[TOKEN_KEY_LEN], const char *addr,
    char out[65])
{
	unsigned char	 md[CRYPTO_SHA256_LEN];
	char		*norm, *data;
	size_t		 len;

	norm = token_hash_norm(addr, 1, &len);
	data = xprintf("%s%s", TOKEN_FORGET_PREFIX, norm);
	crypto_hmac_sha256(key, TOKEN_KEY_LEN, data,
	    strlen(TOKEN_FORGET_PREFIX) + len, md);
	crypto_cleanse(data, strlen(TOKEN_FORGET_PREFIX) + len);
	free(data);
	crypto_cleanse(norm, len);
	free(norm);
	token_hash_hex(md, out);
}

void
token_hash_address_legacy(const char *addr, char out[65])
{
	token_hash_plain(addr, 1, out);
}

void
token_hash_address_as_given(const char *addr, char out[65])
{
	token_hash_plain(addr, 0, out);
}
