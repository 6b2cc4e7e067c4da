/*
 * address.h - checking and normalising subscribers' email addresses.
 *
 * What is accepted (RFC 5321 4.1.2 Mailbox, minus the rarely used parts):
 *   - local part: a dot-string of ASCII atext (letters, digits and
 *     ! # $ % & ' * + - / = ? ^ _ ` { | } ~), no leading, trailing or
 *     doubled dot, at most 64 octets.  Quoted local parts ("a b"@x.org)
 *     and non-ASCII local parts (SMTPUTF8) are refused: postroom's SMTP
 *     side and mime-build.c send ASCII addresses only.
 *   - domain: at least two labels (a dot), each 1-63 octets of letters,
 *     digits and hyphens, not starting or ending with a hyphen, no
 *     "ab--" reserved labels except "xn--" A-labels, a top-level label
 *     that is not all digits, at most 253 octets; no address literals.
 *     IDN labels in UTF-8 are accepted and converted to A-labels
 *     (punycode, RFC 3492) after lowercasing; the ideographic full stops
 *     U+3002 U+FF0E U+FF61 count as dots (as UTS #46 maps them).
 *   - the whole address at most 254 octets, no spaces or control
 *     characters inside; white space around it is trimmed.
 *
 * The normal form: the local part as written (it is case-sensitive in
 * principle; many people rely on that for nothing, but we do not guess),
 * the domain in lowercase ASCII with IDN labels as A-labels:
 *	"Jan.Kowalski@ŻÓŁW.PL" -> "Jan.Kowalski@xn--w-uga1v8h.pl"
 * so two spellings of one domain compare equal byte for byte, and every
 * stored address is plain ASCII for SMTP and message headers.
 *
 * Limits of the IDN handling (no libidn2): lowercasing covers ASCII,
 * Latin-1, Latin Extended-A and Additional, Greek and Cyrillic capitals;
 * other scripts are taken as written.  Input is not NFC-normalised, and
 * only obviously wrong code points (controls, spaces, Latin-1 symbols,
 * private use, noncharacters) are refused, not the whole IDNA2008 table.
 *
 * Owns: the address syntax.  Does not own: whether an address is
 * suppressed or subscribed (store-subscriber.c), the hash of forgotten
 * addresses (token.c).
 */
#ifndef POSTROOM_ADDRESS_H
#define POSTROOM_ADDRESS_H

#define ADDRESS_MAX		254	/* octets, whole address */
#define ADDRESS_LOCAL_MAX	64
#define ADDRESS_DOMAIN_MAX	253
#define ADDRESS_LABEL_MAX	63

/*
 * Check s and hand back its normal form in *out (caller frees).  Returns
 * 0, or -1 with *cause (caller frees) saying what is wrong, for a person:
 * "no @", "domain has no dot", "contains a space" ...
 */
int	 address_normalise(const char *s, char **out, char **cause);

/* 1 when address_normalise() would accept s, else 0. */
int	 address_valid(const char *s);

/*
 * The key two addresses are matched on: a copy of addr with every ASCII
 * letter in lower case, local part and domain alike (an address is one
 * person whatever its case; the store matches with SQLite's NOCASE, which
 * folds exactly these).  Other bytes are kept: "ZOË@" and "zoë@" are two
 * keys (a subscriber's address is ASCII anyway).  Caller frees.
 */
char	*address_key(const char *addr);

/*
 * An address for people to read: A-label domains turned back into UTF-8
 * (a label that does not decode is left alone).  Caller frees.
 */
char	*address_display(const char *addr);

#endif
