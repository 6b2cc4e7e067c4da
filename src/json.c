/*
 * json.c - JSON parsing (via json-c) and writing, to and from struct value.
 *
 * Owns: the one include of json-c, the conversion of json-c objects into
 * struct value, error positions (line and column) and the JSON writer.
 * Does not own: the value tree itself (value.c) or reading files beyond
 * buf_read_file().
 *
 * json-c keeps the original text of the doubles its tokener parsed
 * (json_object_get_string returns "1.21", not 1.2100000000000000), so
 * numbers round-trip; integers print as json-c formats int64/uint64, the
 * same text for every canonical integer.  Integers that do not fit 64 bits
 * are saturated by json-c; they are refused here rather than silently
 * changed.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "buf.h"
#include "json.h"
#include "value.h"
#include "xmalloc.h"

/* Line and column (in characters, from 1) of byte offset off. */
static void
json_position(const char *text, size_t len, size_t off, unsigned *line,
    unsigned *col)
{
	size_t	i;

	*line = 1;
	*col = 1;
	if (off > len)
		off = len;
	for (i = 0; i < off; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)text[i] & 0xc0) != 0x80)
			(*col)++;
	}
}

static struct value *
json_convert(struct json_object *o, int erange, char **cause)
{
	struct value		*v, *item;
	struct json_object_iter	 it;
	const char		*s;
	size_t			 i, n;
	int64_t			 i64;

	switch (json_object_get_type(o)) {
	case json_type_null:
		return value_new_null();
	case json_type_boolean:
		return value_new_bool(json_object_get_boolean(o));
	case json_type_int:
		s = json_object_get_string(o);
		if (erange) {
			/* json-c saturates what does not fit; refuse it. */
			i64 = json_object_get_int64(o);
			if (i64 == INT64_MIN ||
			    json_object_get_uint64(o) == UINT64_MAX) {
				*cause = xprintf("integer out of range: %s", s);
				return NULL;
			}
		}
		if ((v = value_new_number_text(s)) == NULL)
			v = value_new_int(json_object_get_int64(o));
		return v;
	case json_type_double:
		/* The tokener keeps the text it read ("1.21", "1e5"). */
		s = json_object_get_string(o);
		if ((v = value_new_number_text(s)) == NULL)
			v = value_new_double(json_object_get_double(o));
		return v;
	case json_type_string:
		return value_new_stringn(json_object_get_string(o),
		    (size_t)json_object_get_string_len(o));
	case json_type_array:
		v = value_new_list();
		n = json_object_array_length(o);
		for (i = 0; i < n; i++) {
			item = json_convert(json_object_array_get_idx(o, i),
			    erange, cause);
			if (item == NULL) {
				value_free(v);
				return NULL;
			}
			value_list_append(v, item);
		}
		return v;
	case json_type_object:
		v = value_new_object();
		json_object_object_foreachC(o, it) {
			item = json_convert(it.val, erange, cause);
			if (item == NULL) {
				value_free(v);
				return NULL;
			}
			value_object_set(v, it.key, item);
		}
		return v;
	}
	*cause = xstrdup("unknown json-c type");
	return NULL;
}

struct value *
json_parse(const char *text, size_t len, char **cause)
{
	struct json_tokener	*tok;
	struct json_object	*o;
	enum json_tokener_error	 jerr;
	struct value		*v;
	size_t			 off, i;
	unsigned		 line, col;
	int			 erange;

	for (i = 0; i < len; i++) {
		if (strchr(" \t\r\n", text[i]) == NULL || text[i] == '\0')
			break;
	}
	if (i == len) {
		*cause = xstrdup("empty input: no JSON value");
		return NULL;
	}
	if (len >= INT_MAX) {
		*cause = xstrdup("JSON text too large");
		return NULL;
	}

	if ((tok = json_tokener_new_ex(JSON_MAX_DEPTH)) == NULL) {
		*cause = xstrdup("out of memory");
		return NULL;
	}
	json_tokener_set_flags(tok,
	    JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	errno = 0;
	o = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	off = json_tokener_get_parse_end(tok);
	if (o == NULL && jerr == json_tokener_continue) {
		/* A bare number needs its end marked; anything else is cut. */
		o = json_tokener_parse_ex(tok, "", 1);
		jerr = json_tokener_get_error(tok);
		off = len;
	}
	erange = errno == ERANGE;
	json_tokener_free(tok);

	/* A JSON null is a NULL json_object: success is what tells. */
	if (jerr == json_tokener_success) {
		for (i = off; i < len; i++) {
			if (strchr(" \t\r\n", text[i]) == NULL ||
			    text[i] == '\0')
				break;
		}
		if (i < len) {
			json_object_put(o);
			json_position(text, len, i, &line, &col);
			*cause = xprintf("line %u, column %u: unexpected text "
			    "after the JSON value", line, col);
			return NULL;
		}
	} else {
		json_object_put(o);
		json_position(text, len, off, &line, &col);
		*cause = xprintf("line %u, column %u: %s", line, col,
		    json_tokener_error_desc(jerr));
		return NULL;
	}

	v = json_convert(o, erange, cause);
	json_object_put(o);
	return v;
}

struct value *
json_parse_file(const char *path, char **cause)
{
	struct buf	 b;
	struct value	*v;
	char		*why;

	buf_init(&b, JSON_MAX_FILE);
	if (buf_read_file(&b, path) == -1) {
		if (errno == EFBIG) {
			*cause = xprintf("%s: file larger than %d bytes", path,
			    JSON_MAX_FILE);
		} else
			*cause = xprintf("%s: %s", path, strerror(errno));
		buf_free(&b);
		return NULL;
	}
	v = json_parse(b.data, b.len, &why);
	buf_free(&b);
	if (v == NULL) {
		*cause = xprintf("%s: %s", path, why);
		free(why);
		errno = 0;
	}
	return v;
}

/*
 * Length of the valid UTF-8 sequence at s (n bytes left), or 0 when it is
 * not one: overlong forms, surrogates and values past U+10FFFF are invalid.
 */
static size_t
json_utf8_len(const unsigned char *s, size_t n)
{
	size_t		need, i;
	unsigned char	lo = 0x80, hi = 0xbf;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		need = 1;
	else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		need = 2;
		if (s[0] == 0xe0)
			lo = 0xa0;
		else if (s[0] == 0xed)
			hi = 0x9f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		need = 3;
		if (s[0] == 0xf0)
			lo = 0x90;
		else if (s[0] == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (n < need + 1)
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i <= need; i++) {
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	}
	return need + 1;
}

static int
json_write_string(struct buf *b, const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, start, n;
	char			 esc[8];
	int			 rc = 0;

	rc |= buf_addc(b, '"');
	while (i < len) {
		/* Copy the longest run that needs no escaping in one go. */
		start = i;
		while (i < len && p[i] >= 0x20 && p[i] != '"' &&
		    p[i] != '\\' && p[i] != 0x7f && p[i] < 0x80)
			i++;
		while (i < len && p[i] >= 0x80 &&
		    (n = json_utf8_len(p + i, len - i)) != 0)
			i += n;
		if (i > start) {
			rc |= buf_add(b, s + start, i - start);
			continue;
		}
		switch (p[i]) {
		case '"':
			rc |= buf_addstr(b, "\\\"");
			break;
		case '\\':
			rc |= buf_addstr(b, "\\\\");
			break;
		case '\b':
			rc |= buf_addstr(b, "\\b");
			break;
		case '\f':
			rc |= buf_addstr(b, "\\f");
			break;
		case '\n':
			rc |= buf_addstr(b, "\\n");
			break;
		case '\r':
			rc |= buf_addstr(b, "\\r");
			break;
		case '\t':
			rc |= buf_addstr(b, "\\t");
			break;
		default:
			if (p[i] < 0x20 || p[i] == 0x7f) {
				snprintf(esc, sizeof esc, "\\u%04x", p[i]);
				rc |= buf_addstr(b, esc);
			} else	/* a byte that is not UTF-8 */
				rc |= buf_addstr(b, "\\ufffd");
			break;
		}
		i++;
	}
	rc |= buf_addc(b, '"');
	return rc == 0 ? 0 : -1;
}

static int
json_write_indent(struct buf *b, int pretty, unsigned depth)
{
	unsigned	i;

	if (!pretty)
		return 0;
	if (buf_addc(b, '\n') == -1)
		return -1;
	for (i = 0; i < depth; i++) {
		if (buf_addstr(b, "  ") == -1)
			return -1;
	}
	return 0;
}

static int
json_write_value(struct buf *b, const struct value *v, int pretty,
    unsigned depth)
{
	const char	*s;
	size_t		 i, n, len;

	switch (value_get_type(v)) {
	case VALUE_NULL:
		return buf_addstr(b, "null");
	case VALUE_BOOL:
		return buf_addstr(b, value_bool(v) ? "true" : "false");
	case VALUE_NUMBER:
		return buf_addstr(b, value_number_text(v));
	case VALUE_STRING:
		s = value_string(v, &len);
		return json_write_string(b, s, len);
	case VALUE_LIST:
		if ((n = value_list_len(v)) == 0)
			return buf_addstr(b, "[]");
		if (buf_addc(b, '[') == -1)
			return -1;
		for (i = 0; i < n; i++) {
			if (i > 0 && buf_addc(b, ',') == -1)
				return -1;
			if (json_write_indent(b, pretty, depth + 1) == -1 ||
			    json_write_value(b, value_list_get(v, i), pretty,
			    depth + 1) == -1)
				return -1;
		}
		if (json_write_indent(b, pretty, depth) == -1)
			return -1;
		return buf_addc(b, ']');
	case VALUE_OBJECT:
		if ((n = value_object_len(v)) == 0)
			return buf_addstr(b, "{}");
		if (buf_addc(b, '{') == -1)
			return -1;
		for (i = 0; i < n; i++) {
			if (i > 0 && buf_addc(b, ',') == -1)
				return -1;
			s = value_object_key(v, i);
			if (json_write_indent(b, pretty, depth + 1) == -1 ||
			    json_write_string(b, s, strlen(s)) == -1 ||
			    buf_addstr(b, pretty ? ": " : ":") == -1 ||
			    json_write_value(b, value_object_value(v, i),
			    pretty, depth + 1) == -1)
				return -1;
		}
		if (json_write_indent(b, pretty, depth) == -1)
			return -1;
		return buf_addc(b, '}');
	}
	return -1;
}

int
json_write_buf(struct buf *b, const struct value *v, int pretty)
{
	return json_write_value(b, v, pretty, 0);
}

char *
json_write(const struct value *v, int pretty)
{
	struct buf	b;

	buf_init(&b, BUF_NOMAX);
	(void)json_write_value(&b, v, pretty, 0);
	return buf_detach(&b, NULL);
}
