/*
 * fuzz-mime-parse.c - libFuzzer target: mime_parse() in-process.
 *
 * Aimed at postroom's own code - the scan that cuts input before libetpan,
 * header splitting and decoding, the tree walk, RFC 2231, DSN fields -
 * with libetpan in the loop because that is how the code runs.  A crash
 * inside libetpan itself is one of its known bugs: the parser child
 * contains those in production; here, add a guard to the scan in
 * mime-parse.c when it is cheap, else keep the input in
 * tests/data/hostile/ as crash-*.eml for test-parser.c.
 *
 * Checked beyond "no crash": every result packs and unpacks (so every
 * string is valid UTF-8 without NULs), and the status is one we know.
 */
#include <stdint.h>
#include <stdlib.h>

#include "buf.h"
#include "message.h"
#include "mime-parse.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mime_parse_limits	 lim;
	struct message			*m, *u;
	struct buf			 b;
	char				*cause = NULL;

	mime_parse_limits_default(&lim);
	lim.max_depth = 8;		/* reach the limits with small inputs */
	lim.max_parts = 40;
	lim.max_text = 16384;
	lim.max_headers = 64;
	lim.max_addresses = 16;
	m = mime_parse((const char *)data, size, &lim);
	if (m->status > MESSAGE_FAILED || m->status == MESSAGE_FAILED)
		abort();
	buf_init(&b, BUF_NOMAX);
	if (message_pack(m, &b) == -1)
		abort();
	if ((u = message_unpack(b.data, b.len, &cause)) == NULL)
		abort();	/* a string that is not clean UTF-8 */
	message_free(u);
	buf_free(&b);
	message_free(m);
	return 0;
}
