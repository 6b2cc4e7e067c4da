/*
 * buf.h - one growable, size-capped byte buffer (after curl's dynbuf).
 *
 * Everything read from the network or a file of unknown size goes into a
 * struct buf with a cap, so that a hostile peer cannot make postroom grow
 * without bound.  The data is always NUL-terminated (the NUL is not counted
 * in len).  The buffer owns its data until buf_detach() hands it over.
 */
#ifndef POSTROOM_BUF_H
#define POSTROOM_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
	size_t	 max;	/* 0: no cap */
};

#define BUF_NOMAX	0

void	 buf_init(struct buf *, size_t max);
void	 buf_free(struct buf *);
void	 buf_reset(struct buf *);
/* These return 0, or -1 (leaving the buffer unchanged) past the cap. */
int	 buf_add(struct buf *, const void *, size_t);
int	 buf_addstr(struct buf *, const char *);
int	 buf_addc(struct buf *, char);
int	 buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
int	 buf_vprintf(struct buf *, const char *, va_list);
/*
 * Room for n more bytes without writing them, for a writer that fills the
 * buffer itself: a pointer to data + len, or NULL past the cap.  Nothing
 * is added: the caller writes at most n bytes there, adds what it wrote
 * to len and puts the NUL after them.
 */
char	*buf_reserve(struct buf *, size_t n);
/* Hand the data to the caller (who frees it); the buffer is left empty. */
char	*buf_detach(struct buf *, size_t *lenp);
/* Read a whole file; -1 with errno set (EFBIG past the cap). */
int	 buf_read_file(struct buf *, const char *path);
/*
 * The same for a file anyone may have put there: -2 when path is a
 * symbolic link or not a regular file (a FIFO, a device, a directory),
 * which is neither followed nor opened for reading.
 */
int	 buf_read_regular(struct buf *, const char *path);

#endif
