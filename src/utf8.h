/*
 * utf8.h - small UTF-8 helpers: validate, decode and encode one code point,
 * count terminal columns, truncate without splitting a character, and
 * replace invalid bytes with U+FFFD.
 *
 * "Valid" is RFC 3629: no overlong forms, no surrogates (U+D800..U+DFFF),
 * nothing above U+10FFFF.  Nothing here allocates except utf8_sanitize()
 * (which appends to the caller's struct buf), and nothing depends on the
 * locale: the column widths come from a small built-in table (combining
 * marks and zero-width characters 0, East Asian wide and emoji 2, the
 * rest 1), which is right for mail text but is not a full wcwidth().
 *
 * Owns: nothing but these functions.  Does not own: normalisation (NFC),
 * full Unicode case folding, or converting other charsets (mime-parse.c).
 */
#ifndef POSTROOM_UTF8_H
#define POSTROOM_UTF8_H

#include <stddef.h>
#include <stdint.h>

struct buf;

#define UTF8_REPLACEMENT	0xfffdU

/* 1 when s[0..len) is valid UTF-8 (NULs are allowed), else 0. */
int	 utf8_valid(const char *s, size_t len);

/* 1 when every byte of s[0..len) is below 0x80, else 0. */
int	 utf8_is_ascii(const char *s, size_t len);

/*
 * Decode the character at s (len bytes available).  Returns its length in
 * bytes (1 to 4) and sets *cp; 0 when len is 0; -1 when the bytes there are
 * not a valid character, with *cp set to U+FFFD: the caller then skips one
 * byte and goes on.
 */
int	 utf8_decode(const char *s, size_t len, uint32_t *cp);

/*
 * Encode cp into out (at least 4 bytes, not NUL-terminated); returns the
 * length, or 0 when cp is a surrogate or above U+10FFFF.
 */
size_t	 utf8_encode(uint32_t cp, char *out);

/* Terminal columns of one code point: 0, 1 or 2 (controls are 0). */
int	 utf8_cpwidth(uint32_t cp);

/* Columns of s[0..len); an invalid byte counts as one U+FFFD (1 column). */
size_t	 utf8_width(const char *s, size_t len);

/*
 * The longest prefix of s[0..len) of at most max bytes that does not end
 * in the middle of a character; returns its length in bytes.
 */
size_t	 utf8_truncate(const char *s, size_t len, size_t max);

/*
 * The longest prefix of s[0..len) that fits in cols columns without
 * splitting a character (zero-width marks after the last character that
 * fits are kept with it); returns its length in bytes.
 */
size_t	 utf8_truncate_cols(const char *s, size_t len, size_t cols);

/*
 * Append s[0..len) to b with every invalid byte replaced by U+FFFD.
 * Returns 0, or -1 past the buffer's cap.
 */
int	 utf8_sanitize(struct buf *b, const char *s, size_t len);

/*
 * For searching people by name ("zoe" finds "Zoë", "SIAN" finds "Siân"):
 * a new NUL-terminated copy of s[0..len) in lower case with the accents
 * taken off Latin letters.  A small built-in table, not Unicode's: ASCII,
 * Latin-1, Latin Extended-A, the Romanian comma letters, the Welsh w with
 * accents and the Vietnamese letters lose their marks (ß -> ss, æ -> ae,
 * œ -> oe, þ -> th, ø -> o, ł -> l, đ and ð -> d); combining marks
 * (U+0300..U+036F, decomposed input) are dropped; Greek and Cyrillic
 * capitals are lowered (their accents kept); everything else, and bytes
 * that are not UTF-8, are kept as they are.  No locale is consulted.
 * The caller frees.
 */
char	*utf8_fold(const char *s, size_t len);

#endif
