/*
 * charset.h - text in a named charset to UTF-8.
 *
 * Every conversion appends valid UTF-8 to a struct buf and never drops a
 * byte silently: a byte sequence that is not valid in its charset becomes
 * one U+FFFD per bad byte, and the caller is told (CHARSET_REPAIRED).
 *
 * UTF-8 and windows-1252 are done here by hand; so are US-ASCII,
 * ISO-8859-1 and their aliases, which are read as windows-1252 (as every
 * browser does, WHATWG Encoding: mail labelled Latin-1 is mostly
 * Windows text).  US-ASCII text that holds 8-bit bytes and unlabelled
 * text are guessed: UTF-8 when they are valid UTF-8, else windows-1252.
 * Every other charset goes through iconv(3) from glibc; a name iconv does
 * not know (or a name that is not a plausible charset name) is guessed
 * too, and flagged CHARSET_UNKNOWN.
 *
 * The output may hold NUL bytes when the input did (or when UTF-16 text
 * held U+0000): callers that want C strings replace them.
 *
 * Owns: charset names and conversion.  Does not own: MIME (mime-parse.c),
 * UTF-8 validation itself (utf8.c).
 */
#ifndef POSTROOM_CHARSET_H
#define POSTROOM_CHARSET_H

#include <stddef.h>
#include <stdint.h>

struct buf;

#define CHARSET_REPAIRED	0x1	/* bad bytes became U+FFFD */
#define CHARSET_UNKNOWN		0x2	/* the charset was guessed */

/*
 * Append s[0..len), text in charset (a MIME charset name, any case,
 * quotes and spaces around it ignored; NULL or "" when none was given),
 * to out as UTF-8.  ORs CHARSET_* into *flags (may be NULL) for what had
 * to be repaired or guessed.  Returns 0, or -1 when out's cap was reached
 * (out then holds what fitted, ending on a whole character).
 */
int	 charset_to_utf8(struct buf *out, const char *charset, const char *s,
	    size_t len, int *flags);

/*
 * Text with no charset (raw 8-bit header bytes, an unlabelled part):
 * UTF-8 when s[0..len) is valid UTF-8, else windows-1252.  As above.
 */
int	 charset_guess(struct buf *out, const char *s, size_t len, int *flags);

/* 1 when charset_to_utf8() converts name without guessing, else 0. */
int	 charset_known(const char *name);

/*
 * The code point windows-1252 gives byte c, 0x80 to 0x9f (HTML5 reads
 * &#128; to &#159; the same way); 0 where windows-1252 leaves c undefined.
 */
uint32_t charset_1252_c1(unsigned int c);

/*
 * Load iconv's converters for the charsets mail is written in and keep
 * them loaded, so that charset_to_utf8() needs to open no file for them
 * afterwards: for a process about to lose the right to open files
 * (sandbox.h).  Other charsets then fail to open and are guessed.
 * Returns how many could be loaded.
 */
int	 charset_preload(void);

#endif
