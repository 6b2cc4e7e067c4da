/*
 * mime-build-int.h - what mime-build.c and mime-header.c share: the
 * header fields the builder writes through mime-header.c, and the
 * alphabets of the encodings.  Not for other files: they see
 * mime-build.h.
 *
 * The mime_fold_* functions append one whole header field, "Name: value"
 * and its CRLF, to b, and return 0, or -1 when b's cap was reached; tmp
 * and tmp2 are scratch buffers the caller keeps, so that writing a header
 * allocates nothing once they have grown.
 */
#ifndef POSTROOM_MIME_BUILD_INT_H
#define POSTROOM_MIME_BUILD_INT_H

#include <stddef.h>

struct buf;

/* One mailbox of an address header. */
struct mime_addr {
	const char	*display;	/* NULL: none */
	const char	*addr;
};

extern const char	mime_hex[];	/* "0123456789ABCDEF" */
extern const char	mime_b64[];	/* base64's 64 characters */

/* An ASCII structured value, folded at whitespace. */
int	 mime_fold_raw(struct buf *b, struct buf *tmp, const char *name,
	     const char *value);
/* An unstructured UTF-8 value, RFC 2047 where it needs it. */
int	 mime_fold_text(struct buf *b, struct buf *tmp, const char *name,
	     const char *value);
/* n mailboxes, comma-separated (each address checked already). */
int	 mime_fold_addresses(struct buf *b, struct buf *tmp, struct buf *tmp2,
	     const char *name, const struct mime_addr *a, size_t n);
/* An address we are willing to write: 0, or -1 with *cause (freed by the
 * caller). */
int	 mime_addr_check(const char *addr, char **cause);

#endif
