/*
 * json.h - JSON text to and from struct value.
 *
 * The only interface to json-c: nothing else in postroom includes it.
 * Parsing is strict RFC 8259 with UTF-8 validation; numbers keep the text
 * they were written with (see value.h).  Writing is postroom's own, so the
 * output is stable: object keys in order, "/" not escaped, control
 * characters as \uXXXX, invalid UTF-8 replaced by U+FFFD.
 */
#ifndef POSTROOM_JSON_H
#define POSTROOM_JSON_H

#include <stddef.h>

struct buf;
struct value;

#define JSON_MAX_DEPTH	64			/* nesting of [ and { */
#define JSON_MAX_FILE	(64 * 1024 * 1024)	/* json_parse_file() */

/*
 * Parse len bytes of JSON (any value at top level).  Returns a new value
 * the caller frees, or NULL with *cause (caller frees) like
 * "line 3, column 7: unexpected character".
 */
struct value	*json_parse(const char *text, size_t len, char **cause);

/*
 * Read and parse a file.  On failure returns NULL with *cause starting
 * with the path, and errno telling the caller which kind of failure it
 * was: ENOENT, EACCES, EFBIG... when the file could not be read (the CLI
 * exits EX_NOINPUT), 0 when it was read but is not valid JSON
 * (EX_DATAERR).
 */
struct value	*json_parse_file(const char *path, char **cause);

/*
 * Write v as JSON: on one line when pretty is 0 (no trailing newline), or
 * indented by two spaces when it is 1.  json_write() returns a string the
 * caller frees; json_write_buf() appends and returns -1 past the buffer's
 * cap.  A NULL v writes "null".
 */
char		*json_write(const struct value *, int pretty);
int		 json_write_buf(struct buf *, const struct value *, int pretty);

#endif
