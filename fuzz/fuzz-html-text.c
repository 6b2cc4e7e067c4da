/*
 * fuzz-html-text.c - libFuzzer target: HTML to text (html-text.c).
 *
 * Checked: the output is valid UTF-8 with no NUL, never more than one
 * blank line in a row, no line break at either end, and with a cap it
 * stays under the cap.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "html-text.h"
#include "utf8.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf	b;
	const char	*s;

	buf_init(&b, BUF_NOMAX);
	if (html_text(&b, (const char *)data, size) == -1)
		abort();
	s = b.data != NULL ? b.data : "";
	if (!utf8_valid(s, b.len) || memchr(s, '\0', b.len) != NULL)
		abort();
	if (strstr(s, "\n\n\n") != NULL)
		abort();
	if (b.len > 0 && (s[0] == '\n' || s[b.len - 1] == '\n'))
		abort();
	buf_free(&b);

	buf_init(&b, 100);
	(void)html_text(&b, (const char *)data, size);
	if (b.len > 100 || !utf8_valid(b.data != NULL ? b.data : "", b.len))
		abort();
	buf_free(&b);
	return 0;
}
