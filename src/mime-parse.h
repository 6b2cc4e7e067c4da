/*
 * mime-parse.h - raw inbound bytes to a struct message (message.h).
 *
 * mime_parse() reads one message with libetpan and hands back what the
 * router needs, all of it UTF-8: the header fields (unfolded, RFC 2047
 * encoded words decoded, raw 8-bit bytes read as UTF-8 when valid, else
 * windows-1252, control characters turned into spaces), the addresses,
 * the text of every body part (quoted-printable and base64 decoded,
 * converted from its charset; HTML turned into text by html-text.c;
 * within multipart/alternative the text/plain alternative when there is
 * one), the attachments' names (RFC 2231 and RFC 2047) and sizes, and for
 * a multipart/report the report type and the first recipient's delivery
 * status (RFC 3464).  Nested message/rfc822 parts are attachments: their
 * text is not the enquiry's.
 *
 * It never fails: broken input gives MESSAGE_DEFECTIVE with what could
 * be read (a message libetpan cannot read at all keeps its headers and
 * its raw body as text), and input past the limits gives MESSAGE_LIMITS
 * with what was read before them.  Before libetpan sees anything, a
 * small scan of postroom's own cuts the input at the size, depth and
 * part limits (libetpan's work grows with depth times size) and refuses
 * boundary parameters that libetpan 1.9.4 is known to mishandle
 * (boundary="\"" makes it write out of bounds).
 *
 * TRUST: libetpan 1.9.4 (Debian) has known memory-safety bugs on hostile
 * MIME.  Mail from outside is parsed only in the parser child (parser.c),
 * never in the daemon.  Calling mime_parse() in-process is for trusted
 * input only: the unit tests, the fuzzers, and a person running
 * "postroom route --dry-run" on a file they chose.
 *
 * Owns: the MIME walk, header and parameter decoding (RFC 2047, RFC 2231),
 * the choice of body text, DSN fields.  Does not own: charsets
 * (charset.c), HTML (html-text.c), isolation (parser.c), what any of it
 * means for routing (route.c).
 *
 * Memory: the caller frees the result with message_free().
 */
#ifndef POSTROOM_MIME_PARSE_H
#define POSTROOM_MIME_PARSE_H

#include <stddef.h>
#include <stdint.h>

struct buf;
struct conf;
struct message;

struct mime_parse_limits {
	size_t	max_size;	/* bytes of the raw message read */
	size_t	max_depth;	/* nested multiparts and messages */
	size_t	max_parts;	/* MIME entities, all levels */
	size_t	max_text;	/* bytes of body_text kept */
	size_t	max_headers;	/* header fields kept, top level */
	size_t	max_addresses;	/* To: plus Cc: addresses kept */
};

/* Generous defaults: those of inbound.* in conf-table.c, and the rest. */
#define MIME_PARSE_MAX_SIZE	(50 * 1024 * 1024)
#define MIME_PARSE_MAX_DEPTH	20
#define MIME_PARSE_MAX_PARTS	500
#define MIME_PARSE_MAX_TEXT	(4 * 1024 * 1024)
#define MIME_PARSE_MAX_HEADERS	1000
#define MIME_PARSE_MAX_ADDRESSES 1000

void	 mime_parse_limits_default(struct mime_parse_limits *);
/* The defaults, with inbound.max_message_size, max_depth, max_parts. */
void	 mime_parse_limits_conf(struct mime_parse_limits *,
	    const struct conf *);

/*
 * Parse raw[0..len).  Never returns NULL.  lim NULL: the defaults.
 * Trusted input only (see TRUST above).
 */
struct message	*mime_parse(const char *raw, size_t len,
		    const struct mime_parse_limits *lim);
/*
 * The same, with the decoded bytes of attachment number part (0: the
 * first in m->attachments) in its data; MIME_PARSE_NO_PART for none.
 * For the console's downloads, through parser_parse_part().
 */
#define MIME_PARSE_NO_PART	SIZE_MAX
struct message	*mime_parse_part(const char *raw, size_t len,
		    const struct mime_parse_limits *lim, size_t part);

/*
 * Decode one header field value as found after the colon (folded or
 * not): unfold, decode RFC 2047 encoded words (adjacent ones joined
 * without the white space between them, also when a character is split
 * across them; malformed ones left as written; an unknown charset read
 * as UTF-8 or windows-1252), read other 8-bit bytes as UTF-8 when the
 * whole value is valid UTF-8, else windows-1252, turn control characters
 * into spaces and trim white space at both ends.  Appends to out; returns
 * 1 when something had to be repaired or guessed, 0 when not, -1 when
 * out's cap was reached.  No libetpan here: safe on any input.
 */
int	 mime_parse_header(struct buf *out, const char *value, size_t len);

/*
 * The first field called name (any case) in the header of raw[0..len),
 * decoded as by mime_parse_header(); NULL when there is none.  Caller
 * frees.  No libetpan: what the daemon itself reads of a message the
 * parser child could not parse (its Message-ID and Subject).
 */
char	*mime_parse_find_header(const char *raw, size_t len,
	    const char *name);

/*
 * TESTS ONLY: libetpan's mailmime_parse() on raw[0..len) with none of the
 * guards above, to show that the parser child contains its known crashes
 * (parser.c, PARSER_FAULT_UNGUARDED).  Crashes on boundary="\"".
 */
void	 mime_parse_unguarded(const char *raw, size_t len);

#endif
