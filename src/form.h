/*
 * form.h - the bodies of HTML form submissions, parsed strictly.
 *
 * Two encodings, both only as far as postroom's pages need them:
 *   - application/x-www-form-urlencoded (what a browser sends from a
 *     <form>, and what curl -d sends): "name=value&name=value", '+' for
 *     a space, %XX for any other byte.  A '%' not followed by two hex
 *     digits, a raw control character, a decoded name or value that is
 *     not valid UTF-8 (utf8.h) or holds a NUL is refused, not guessed at.
 *     Empty pieces ("a=1&&b=2") are skipped and a piece without '=' is a
 *     name with an empty value, as the WHATWG URL standard says.
 *   - multipart/form-data (RFC 7578), which RFC 8058 says one-click
 *     unsubscribe requests SHOULD use: parts separated by the boundary
 *     from the Content-Type, each with a Content-Disposition: form-data;
 *     name="..." header.  Lines end in CRLF; anything else about the
 *     framing that is wrong (no closing boundary, a part without a name,
 *     a header without a colon) is refused.  A part with a filename
 *     parameter is a file: its bytes are kept as they are (any bytes), its
 *     name as sent (valid UTF-8, else refused); form_file() gives it and
 *     form_get() never does.
 * At most FORM_MAX_FIELDS fields; the caller caps the body's size.
 *
 * Owns: the two encodings.  Does not own: what the fields mean or which
 * are required (the page files, web-*.c), how big a body may be (web.c).
 *
 * Memory: a struct form owns its fields' strings; form_free() releases
 * them (a zeroed struct form is empty and may be freed).  On failure the
 * form is left empty and *cause (the caller frees it) says what is wrong,
 * for a person: "bad %-escape at byte 12".
 */
#ifndef POSTROOM_FORM_H
#define POSTROOM_FORM_H

#include <stddef.h>

#define FORM_MAX_FIELDS		64
#define FORM_BOUNDARY_MAX	70	/* RFC 2046 section 5.1.1 */

struct form_field {
	char	*name;		/* UTF-8, NUL-terminated */
	char	*value;		/* UTF-8, no NUL inside, NUL-ended; a
				   file's bytes: anything, NUL-ended */
	size_t	 len;		/* of value */
	char	*filename;	/* a file part's name as sent (UTF-8, ""
				   when none was chosen); NULL: a field */
};

struct form {
	struct form_field	*fields;	/* in the order sent */
	size_t			 n;
};

/* Parse an application/x-www-form-urlencoded body: 0, or -1. */
int		 form_parse_urlencoded(struct form *, const char *body,
		    size_t len, char **cause);
/* Parse a multipart/form-data body with this boundary: 0, or -1. */
int		 form_parse_multipart(struct form *, const char *boundary,
		    const char *body, size_t len, char **cause);
/*
 * Parse by Content-Type: urlencoded when content_type is NULL, "" or
 * application/x-www-form-urlencoded (with any parameters), multipart for
 * multipart/form-data with a boundary parameter.  Any other type is
 * refused with a cause starting "unsupported content type".  0, or -1.
 */
int		 form_parse(struct form *, const char *content_type,
		    const char *body, size_t len, char **cause);
/* 1 when the content type is one form_parse() takes, else 0. */
int		 form_type_supported(const char *content_type);

/* The first field called name, or NULL (borrowed from the form). */
const char	*form_get(const struct form *, const char *name);
/* The first file part called name, or NULL (borrowed from the form). */
const struct form_field *form_file(const struct form *, const char *name);
void		 form_free(struct form *);
/* s as one component of a URL's query ("a+b@x" -> "a%2Bb%40x"); free it. */
char		*form_encode(const char *s);

#endif
