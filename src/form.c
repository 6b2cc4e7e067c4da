/*
 * form.c - strict parsing of form bodies (see form.h).
 *
 * Owns: application/x-www-form-urlencoded and multipart/form-data, and
 * the Content-Type parameters they need.  Does not own: the meaning of
 * the fields (the page files, web-*.c) or the size of a body (web.c caps
 * it before calling).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "form.h"
#include "hex.h"
#include "utf8.h"
#include "xmalloc.h"

#define FORM_PART_HEADERS	16	/* header lines in one part */
#define FORM_PARAM_MAX		256	/* a parameter's value */

/* Valid UTF-8 without a NUL: what every name and value must be. */
static const char *
form_text_bad(const char *s, size_t len)
{
	if (memchr(s, '\0', len) != NULL)
		return "holds a NUL byte";
	if (!utf8_valid(s, len))
		return "is not valid UTF-8";
	return NULL;
}

/* A name fit to quote in a message that may be logged: short, plain. */
static const char *
form_name_quotable(const char *name)
{
	const char	*p;

	if (strlen(name) > 40)
		return "?";
	for (p = name; *p != '\0'; p++) {
		if (*p < 0x20 || *p > 0x7e || *p == '"')
			return "?";
	}
	return name;
}

/*
 * Add a field (filename NULL) or a file part (filename: its name as sent,
 * any bytes but NUL; the value is then raw bytes, NUL-ended past len).
 */
static int
form_add(struct form *f, char *name, char *value, size_t len, char *filename,
    char **cause)
{
	const char	*why;

	if ((why = form_text_bad(name, strlen(name))) != NULL ||
	    (filename == NULL && (why = form_text_bad(value, len)) != NULL)) {
		*cause = xprintf("field \"%s\": %s",
		    form_name_quotable(name), why);
		goto fail;
	}
	if (f->n >= FORM_MAX_FIELDS) {
		*cause = xprintf("more than %d fields", FORM_MAX_FIELDS);
		goto fail;
	}
	f->fields = xreallocarray(f->fields, f->n + 1, sizeof *f->fields);
	f->fields[f->n].name = name;
	f->fields[f->n].value = value;
	f->fields[f->n].len = len;
	f->fields[f->n].filename = filename;
	f->n++;
	return 0;

fail:
	free(name);
	free(value);
	free(filename);
	return -1;
}

void
form_free(struct form *f)
{
	size_t	i;

	for (i = 0; i < f->n; i++) {
		free(f->fields[i].name);
		free(f->fields[i].value);
		free(f->fields[i].filename);
	}
	free(f->fields);
	f->fields = NULL;
	f->n = 0;
}

const char *
form_get(const struct form *f, const char *name)
{
	size_t	i;

	for (i = 0; i < f->n; i++) {
		if (f->fields[i].filename == NULL &&
		    strcmp(f->fields[i].name, name) == 0)
			return f->fields[i].value;
	}
	return NULL;
}

const struct form_field *
form_file(const struct form *f, const char *name)
{
	size_t	i;

	for (i = 0; i < f->n; i++) {
		if (f->fields[i].filename != NULL &&
		    strcmp(f->fields[i].name, name) == 0)
			return &f->fields[i];
	}
	return NULL;
}

char *
form_encode(const char *s)
{
	static const char	 hex[] = "0123456789ABCDEF";
	char			*out, *o;

	out = o = xmalloc(strlen(s) * 3 + 1);
	for (; *s != '\0'; s++) {
		unsigned char	c = (unsigned char)*s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~')
			*o++ = (char)c;
		else {
			*o++ = '%';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 0xf];
		}
	}
	*o = '\0';
	return out;
}

/* --- application/x-www-form-urlencoded ------------------------------- */

/*
 * Decode s[0..len) (at offset off in the body, for messages) into a new
 * string, its length in *outlen.  NULL with *cause on a bad escape or a
 * raw control character.
 */
static char *
form_decode(const char *s, size_t len, size_t off, size_t *outlen,
    char **cause)
{
	char	*out;
	size_t	 i, n = 0;
	int	 hi, lo;

	out = xmalloc(len + 1);
	for (i = 0; i < len; i++) {
		if (s[i] == '+')
			out[n++] = ' ';
		else if (s[i] == '%') {
			if (len - i < 3 ||
			    (hi = hex_digit((unsigned char)s[i + 1])) == -1 ||
			    (lo = hex_digit((unsigned char)s[i + 2])) == -1) {
				*cause = xprintf("bad %%-escape at byte %zu: "
				    "it needs two hex digits", off + i + 1);
				free(out);
				return NULL;
			}
			out[n++] = (char)(hi << 4 | lo);
			i += 2;
		} else if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
			*cause = xprintf("control character at byte %zu",
			    off + i + 1);
			free(out);
			return NULL;
		} else
			out[n++] = s[i];
	}
	out[n] = '\0';
	*outlen = n;
	return out;
}

int
form_parse_urlencoded(struct form *f, const char *body, size_t len,
    char **cause)
{
	const char	*p, *end = body + len, *amp, *eq;
	char		*name, *value;
	size_t		 nlen, vlen;

	memset(f, 0, sizeof *f);
	for (p = body; p < end; p = amp + 1) {
		if ((amp = memchr(p, '&', (size_t)(end - p))) == NULL)
			amp = end;
		if (amp == p)
			continue;
		if ((eq = memchr(p, '=', (size_t)(amp - p))) == NULL)
			eq = amp;
		if ((name = form_decode(p, (size_t)(eq - p),
		    (size_t)(p - body), &nlen, cause)) == NULL)
			goto fail;
		vlen = 0;
		if (eq == amp)
			value = xstrdup("");
		else if ((value = form_decode(eq + 1, (size_t)(amp - eq - 1),
		    (size_t)(eq + 1 - body), &vlen, cause)) == NULL) {
			free(name);
			goto fail;
		}
		if (memchr(name, '\0', nlen) != NULL) {
			*cause = xstrdup("a field name holds a NUL byte");
			free(name);
			free(value);
			goto fail;
		}
		if (form_add(f, name, value, vlen, NULL, cause) != 0)
			goto fail;
		if (amp == end)
			break;
	}
	return 0;

fail:
	form_free(f);
	return -1;
}

/* --- Content-Type and Content-Disposition parameters ------------------ */

static int
form_tchar(int c)
{
	return isalnum(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) !=
	    NULL);
}

/*
 * Split "type/subtype; a=b; c="d"" at the first ';': the media type,
 * trimmed and lowercased, into type; *params points at the ';' (or the
 * end).  -1 when the type is empty or too long.
 */
static int
form_media_type(const char *ct, char *type, size_t size, const char **params)
{
	size_t	n = 0;

	while (*ct == ' ' || *ct == '\t')
		ct++;
	while (*ct != '\0' && *ct != ';' && *ct != ' ' && *ct != '\t') {
		if (n + 1 >= size)
			return -1;
		type[n++] = (char)tolower((unsigned char)*ct++);
	}
	type[n] = '\0';
	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (*ct != '\0' && *ct != ';')
		return -1;
	*params = ct;
	return n > 0 ? 0 : -1;
}

/*
 * Find parameter name (case-insensitive) in params ("; a=b; c="d""):
 * 1 with its value (unquoted) in out, 0 when absent, -1 when the
 * parameters are malformed or the value is longer than size - 1.
 */
static int
form_param(const char *params, const char *name, char *out, size_t size)
{
	const char	*p = params, *nstart;
	size_t		 nlen, n;
	int		 found = 0, match;

	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			return found;
		if (*p++ != ';')
			return -1;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			return found;	/* a trailing ';' is common */
		nstart = p;
		while (form_tchar((unsigned char)*p))
			p++;
		nlen = (size_t)(p - nstart);
		if (nlen == 0 || *p++ != '=')
			return -1;
		match = !found && strlen(name) == nlen &&
		    strncasecmp(nstart, name, nlen) == 0;
		n = 0;
		if (*p == '"') {
			for (p++; *p != '"'; p++) {
				if (*p == '\\' && p[1] != '\0')
					p++;
				if (*p == '\0' || *p == '\r' || *p == '\n')
					return -1;
				if (match) {
					if (n + 1 >= size)
						return -1;
					out[n++] = *p;
				}
			}
			p++;
		} else {
			if (!form_tchar((unsigned char)*p))
				return -1;
			for (; form_tchar((unsigned char)*p); p++) {
				if (match) {
					if (n + 1 >= size)
						return -1;
					out[n++] = *p;
				}
			}
		}
		if (match) {
			out[n] = '\0';
			found = 1;
		}
	}
}

/* --- multipart/form-data --------------------------------------------- */

/* The first occurrence of needle in hay[0..len), or NULL. */
static const char *
form_find(const char *hay, size_t len, const char *needle, size_t nlen)
{
	return memmem(hay, len, needle, nlen);
}

/*
 * Read one part's header block at p (ending before end): the field's
 * name from Content-Disposition into *name.  *after is set just past
 * the blank line.  0, or -1 with *cause.
 */
static int
form_part_headers(const char *p, const char *end, char **name,
    char **filename, const char **after, char **cause)
{
	const char	*eol, *colon, *v;
	char		 line[1024], type[32], value[FORM_PARAM_MAX];
	const char	*params;
	size_t		 n, nlines = 0;

	*name = NULL;
	*filename = NULL;
	for (;;) {
		if ((eol = form_find(p, (size_t)(end - p), "\r\n", 2)) ==
		    NULL) {
			*cause = xstrdup("multipart: a part's headers do not "
			    "end");
			goto fail;
		}
		if (eol == p)
			break;
		if (++nlines > FORM_PART_HEADERS ||
		    (size_t)(eol - p) >= sizeof line) {
			*cause = xstrdup("multipart: a part's headers are too "
			    "long");
			goto fail;
		}
		n = (size_t)(eol - p);
		memcpy(line, p, n);
		line[n] = '\0';
		p = eol + 2;
		if (line[0] == ' ' || line[0] == '\t') {
			*cause = xstrdup("multipart: folded header lines are "
			    "not allowed");
			goto fail;
		}
		if ((colon = strchr(line, ':')) == NULL || colon == line) {
			*cause = xstrdup("multipart: a header line has no "
			    "name and colon");
			goto fail;
		}
		v = colon + 1;
		if ((size_t)(colon - line) == strlen("Content-Disposition") &&
		    strncasecmp(line, "Content-Disposition",
		    (size_t)(colon - line)) == 0) {
			if (*name != NULL) {
				*cause = xstrdup("multipart: two "
				    "Content-Disposition headers in a part");
				goto fail;
			}
			if (form_media_type(v, type, sizeof type,
			    &params) != 0 || strcmp(type, "form-data") != 0) {
				*cause = xstrdup("multipart: a part is not "
				    "form-data");
				goto fail;
			}
			if (form_param(params, "name", value,
			    sizeof value) != 1) {
				*cause = xstrdup("multipart: a part has no "
				    "name");
				goto fail;
			}
			*name = xstrdup(value);
			/* A file input: its name, "" when none was chosen. */
			if (form_param(params, "filename", value,
			    sizeof value) == 1) {
				if (form_text_bad(value, strlen(value)) !=
				    NULL) {
					*cause = xstrdup("multipart: a file "
					    "name is not valid UTF-8");
					goto fail;
				}
				*filename = xstrdup(value);
			}
		} else if ((size_t)(colon - line) ==
		    strlen("Content-Transfer-Encoding") &&
		    strncasecmp(line, "Content-Transfer-Encoding",
		    (size_t)(colon - line)) == 0) {
			while (*v == ' ' || *v == '\t')
				v++;
			if (strcasecmp(v, "7bit") != 0 &&
			    strcasecmp(v, "8bit") != 0 &&
			    strcasecmp(v, "binary") != 0) {
				*cause = xstrdup("multipart: only 7bit, 8bit "
				    "or binary parts are understood");
				goto fail;
			}
		}
	}
	if (*name == NULL) {
		*cause = xstrdup("multipart: a part has no "
		    "Content-Disposition");
		goto fail;
	}
	*after = p + 2;
	return 0;

fail:
	free(*name);
	free(*filename);
	*name = NULL;
	*filename = NULL;
	return -1;
}

int
form_parse_multipart(struct form *f, const char *boundary, const char *body,
    size_t len, char **cause)
{
	const char	*p, *end = body + len, *q, *content;
	char		*delim, *name, *filename, *value;
	size_t		 dlen, n, blen = strlen(boundary);

	memset(f, 0, sizeof *f);
	if (blen == 0 || blen > FORM_BOUNDARY_MAX) {
		*cause = xprintf("multipart: the boundary must be 1 to %d "
		    "characters", FORM_BOUNDARY_MAX);
		return -1;
	}
	/* "\r\n--boundary"; the first may come at the very start. */
	delim = xprintf("\r\n--%s", boundary);
	dlen = blen + 4;

	if (len >= dlen - 2 && memcmp(body, delim + 2, dlen - 2) == 0)
		p = body + dlen - 2;
	else if ((q = form_find(body, len, delim, dlen)) != NULL)
		p = q + dlen;
	else {
		*cause = xstrdup("multipart: the boundary is not in the body");
		goto fail;
	}

	for (;;) {
		/* After a delimiter: "--" ends it all, else padding, CRLF. */
		if (end - p >= 2 && p[0] == '-' && p[1] == '-')
			break;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (end - p < 2 || p[0] != '\r' || p[1] != '\n') {
			*cause = xstrdup("multipart: a boundary line does not "
			    "end in CRLF");
			goto fail;
		}
		p += 2;
		if (form_part_headers(p, end, &name, &filename, &content,
		    cause) != 0)
			goto fail;
		if ((q = form_find(content, (size_t)(end - content), delim,
		    dlen)) == NULL) {
			*cause = xstrdup("multipart: no closing boundary");
			free(name);
			free(filename);
			goto fail;
		}
		/* Copied whole: a file's bytes may hold NULs. */
		n = (size_t)(q - content);
		value = xmalloc(n + 1);
		memcpy(value, content, n);
		value[n] = '\0';
		if (form_add(f, name, value, n, filename, cause) != 0)
			goto fail;
		p = q + dlen;
	}
	free(delim);
	return 0;

fail:
	free(delim);
	form_free(f);
	return -1;
}

/* --- by content type -------------------------------------------------- */

static int
form_which(const char *content_type, char *boundary, size_t size)
{
	const char	*params;
	char		 type[64];

	if (content_type == NULL || *content_type == '\0')
		return 1;
	if (form_media_type(content_type, type, sizeof type, &params) != 0)
		return 0;
	if (strcmp(type, "application/x-www-form-urlencoded") == 0)
		return form_param(params, "charset", boundary, size) == -1 ?
		    0 : 1;
	if (strcmp(type, "multipart/form-data") == 0 &&
	    form_param(params, "boundary", boundary, size) == 1)
		return 2;
	return 0;
}

int
form_type_supported(const char *content_type)
{
	char	boundary[FORM_PARAM_MAX];

	return form_which(content_type, boundary, sizeof boundary) != 0;
}

int
form_parse(struct form *f, const char *content_type, const char *body,
    size_t len, char **cause)
{
	char	boundary[FORM_PARAM_MAX];

	switch (form_which(content_type, boundary, sizeof boundary)) {
	case 1:
		return form_parse_urlencoded(f, body, len, cause);
	case 2:
		return form_parse_multipart(f, boundary, body, len, cause);
	default:
		memset(f, 0, sizeof *f);
		*cause = xstrdup("unsupported content type; expected "
		    "application/x-www-form-urlencoded or multipart/form-data");
		return -1;
	}
}
