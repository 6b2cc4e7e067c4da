/*
 * xmalloc.h - allocation that never returns NULL.
 *
 * Every function here aborts the process with a message when memory runs
 * out, as tmux and fdm do: an OOM in a mail daemon is not something a
 * caller can sensibly recover from.  The caller owns and frees what it gets.
 */
#ifndef POSTROOM_XMALLOC_H
#define POSTROOM_XMALLOC_H

#include <stddef.h>

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
int	 xasprintf(char **, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* Like xasprintf but returns the new string. */
char	*xprintf(const char *, ...) __attribute__((format(printf, 1, 2)));

#endif
