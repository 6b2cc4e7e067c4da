/*
 * hex.h - hexadecimal digits, as %XX (form bodies, RFC 2231 parameters)
 * and =XX (quoted-printable) escapes spell bytes.
 */
#ifndef POSTROOM_HEX_H
#define POSTROOM_HEX_H

#include <stddef.h>

/* The value of one hex digit, either case: 0 to 15, or -1 for none. */
int	 hex_digit(int c);
/* The len bytes at p as 2 * len lowercase digits and a NUL in out. */
void	 hex_encode(const void *p, size_t len, char *out);

#endif
