/*
 * mime-build.h - building outgoing messages, byte by byte.
 *
 * Everything postroom sends is written here, so everything it sends is
 * RFC 5322 / MIME: CRLF line ends only, no line over 998 octets, header
 * lines folded at whitespace to 78 columns where the value allows it (76
 * on lines holding encoded words, as RFC 2047 asks), non-ASCII header text
 * as RFC 2047 encoded words (=?UTF-8?Q?...?= or =?UTF-8?B?...?=, whichever
 * is shorter, each at most 75 characters, never splitting a character),
 * and no CR or LF from data ever starting a header line of its own: a CRLF,
 * CR or LF (or any other control character) in a header value becomes one
 * space.  Leading and trailing whitespace of header values is dropped,
 * and a run of more than 8 spaces is cut to 8.
 *
 * Text parts are UTF-8 (invalid bytes become U+FFFD) with CRLF line ends
 * (LF, CRLF and lone CR all count as one line end), ending in a line end;
 * they go 7bit when they are ASCII with lines of at most 998 octets,
 * otherwise quoted-printable or base64, whichever is shorter.
 *
 * Addresses stay ASCII: an address with non-ASCII (an IDN domain or an
 * SMTPUTF8 local part), spaces, controls, or any of <>()[],;:\" is refused
 * (mime_msg_write fails); the caller converts IDN domains to punycode.
 *
 * Ownership: a struct mime_msg copies everything it is given; the caller
 * frees it with mime_msg_free().  Strings returned by mime_message_id() and
 * mime_date() are the caller's to free.  The mime_msg_* setters never fail:
 * a bad header name, a non-ASCII raw value or a bad address is remembered
 * and reported by mime_msg_write() (the first one, through cause).
 *
 * Owns: the wire form of outgoing messages (mime-build.c; the header
 * fields in mime-header.c).  Does not own: what goes in them (template.c,
 * campaign.c, route.c), reading incoming MIME (mime-parse.c), SMTP
 * dot-stuffing (libcurl does it, in send-smtp.c).
 */
#ifndef POSTROOM_MIME_BUILD_H
#define POSTROOM_MIME_BUILD_H

#include <stddef.h>
#include <time.h>

struct buf;
struct mime_msg;

#define MIME_LINE_SOFT		78	/* fold header lines here when we can */
#define MIME_LINE_EW		76	/* lines with encoded words, RFC 2047 */
#define MIME_LINE_MAX		998	/* never longer (RFC 5322 2.1.1) */
#define MIME_EW_MAX		75	/* one encoded word */

enum mime_cte {
	MIME_CTE_7BIT,
	MIME_CTE_8BIT,
	MIME_CTE_QP,
	MIME_CTE_BASE64,
};

/* --- header lines (mime-header.c) ---------------------------------------
 * Each appends one whole header field, "Name: value" and its final CRLF,
 * to b, and returns 0, or -1 when b's cap was reached (b may then hold part
 * of the field: the caller throws the buffer away).  The name must be a
 * valid field name (printable ASCII, no colon); these functions do not
 * check it (mime_msg_header does).
 */

/* An ASCII structured value (List-Unsubscribe, Message-ID, ...), folded at
 * whitespace.  A run of more than 998 octets without whitespace is broken
 * with CRLF SP regardless: the line limit wins over the value. */
int	 mime_header_fold(struct buf *b, const char *name, const char *value);

/* An unstructured UTF-8 value (Subject): plain ASCII words stay as they
 * are, the stretch from the first word that needs it (non-ASCII, a "=?"
 * that would read as an encoded word, or a word too long to fold onto a
 * line of 78) to the last becomes encoded words.  Invalid UTF-8 becomes
 * U+FFFD. */
int	 mime_header_text(struct buf *b, const char *name, const char *value);

/* One address, "display <addr>" or just "addr" when display is NULL or
 * blank: display is an atom phrase, a quoted string (folded at its spaces
 * when long), or encoded words (non-ASCII, "=?", or a word too long).
 * Returns -1 with *cause set (caller frees) when addr is not acceptable. */
int	 mime_header_address(struct buf *b, const char *name,
	    const char *display, const char *addr, char **cause);
/* 1 when addr is acceptable to the functions above (and the builder's
 * mime_msg_address), 0 when it would be refused. */
int	 mime_address_ok(const char *addr);

/* --- body encodings ------------------------------------------------------ */

/* Quoted-printable (RFC 2045 6.7): lines of at most 76, "=" soft breaks,
 * CRLF (or LF) in the input are hard line breaks, trailing whitespace,
 * "=", controls and 8-bit bytes encoded, and a "." or "From " at the start
 * of a line encoded too.  mime_qp_len() is the length mime_qp_encode()
 * would append. */
int	 mime_qp_encode(struct buf *b, const char *s, size_t len);
size_t	 mime_qp_len(const char *s, size_t len);

/* Base64 in lines of 76 characters, each ending CRLF. */
int	 mime_base64_encode(struct buf *b, const void *p, size_t len);
size_t	 mime_base64_len(size_t len);

/* The encoding for a text part (CRLF line ends already): 7bit when it can,
 * else the shorter of quoted-printable and base64. */
enum mime_cte mime_text_cte(const char *s, size_t len);
/* Append s encoded as cte (7bit and 8bit copy it). */
int	 mime_body_encode(struct buf *b, enum mime_cte cte, const char *s,
	    size_t len);
/* "7bit", "8bit", "quoted-printable", "base64". */
const char *mime_cte_name(enum mime_cte);

/* --- identifiers ---------------------------------------------------------- */

/* "<random.time@domain>", 128 random bits (getrandom); a NULL or invalid
 * domain gives "postroom.invalid". */
char	*mime_message_id(const char *domain);
/*
 * "<random.tag@domain>": a Message-ID that carries tag (letters, digits,
 * '-' and '_' only, else it is mime_message_id()), for a sender to know
 * its own message again when a delivery report quotes it.
 */
char	*mime_message_id_tagged(const char *domain, const char *tag);
/* "Tue, 3 Mar 2026 14:05:09 +0000" in local time with a numeric zone. */
char	*mime_date(time_t);

/* --- the message builder -------------------------------------------------- */

struct mime_msg *mime_msg_new(void);
void	 mime_msg_free(struct mime_msg *);
/* Forget everything set, as if new, but keep the memory: one builder can
 * then make message after message without allocating (a campaign). */
void	 mime_msg_reset(struct mime_msg *);

/* An unstructured header (Subject, Comments, ...), as mime_header_text().
 * Setting Date or Message-ID stops the builder adding its own. */
void	 mime_msg_header(struct mime_msg *, const char *name,
	    const char *value);
/* A structured ASCII header, as mime_header_fold(). */
void	 mime_msg_header_raw(struct mime_msg *, const char *name,
	    const char *value);
/* Add an address to header name (From, To, Cc, Reply-To, Sender); a second
 * call with the same name adds to the same field ("a <x>, b <y>").
 * display may be NULL.  The domain of the first From address is used for
 * the Message-ID the builder makes. */
void	 mime_msg_address(struct mime_msg *, const char *name,
	    const char *display, const char *addr);
/* The text/plain part and the text/html part (UTF-8, LF or CRLF); with
 * both the message is multipart/alternative, text first.  A second call
 * replaces the first. */
void	 mime_msg_text(struct mime_msg *, const char *text);
void	 mime_msg_html(struct mime_msg *, const char *html);
/* Attach a whole message (a forward), carried intact as message/rfc822
 * after the body in a multipart/mixed.  LF line ends become CRLF (the
 * canonical form); an original with NULs, bare CRs or lines over 998
 * octets cannot be message/rfc822 (RFC 2046 5.2.1 allows no base64 there)
 * and goes as application/octet-stream "original.eml", base64, byte for
 * byte. */
void	 mime_msg_attach_rfc822(struct mime_msg *, const char *raw,
	    size_t len);

/*
 * Append the whole message to out: the caller's headers in the order
 * given, then Date and Message-ID unless set, MIME-Version, Content-Type
 * (multipart boundaries are random and checked against the content) and
 * Content-Transfer-Encoding, a blank line and the body.  With no text or
 * HTML the body is an empty text/plain part.  Returns 0, or -1 with *cause
 * set (caller frees) for the first bad header or address given, or when
 * out's cap was reached (out then holds a partial message).  The message
 * can be written again; each write makes a new Date, Message-ID and
 * boundary unless the caller set Date and Message-ID.
 */
int	 mime_msg_write(struct mime_msg *, struct buf *out, char **cause);

#endif
