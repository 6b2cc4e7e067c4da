/*
 * hex.c - hexadecimal digits (see hex.h).
 *
 * Owns: the value of a hex digit.  Does not own: the escapes built on it
 * (form.c, mime-parse.c).
 */
#include "hex.h"

int
hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}
