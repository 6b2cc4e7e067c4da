/*
 * hex.h - hexadecimal digits, as %XX (form bodies, RFC 2231 parameters)
 * and =XX (quoted-printable) escapes spell bytes.
 */
#ifndef POSTROOM_HEX_H
#define POSTROOM_HEX_H

/* The value of one hex digit, either case: 0 to 15, or -1 for none. */
int	 hex_digit(int c);

#endif
