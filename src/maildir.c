/*
 * maildir.c - the layout of a Maildir on disk (see maildir.h).
 *
 * Owns: making a Maildir's directories.  Does not own: writing messages
 * into one (send-maildir.c) or reading them out (source-maildir.c).
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "maildir.h"
#include "xmalloc.h"

int
maildir_create(const char *path, char **cause)
{
	static const char *const subs[] = { "", "/tmp", "/new", "/cur" };
	char	*p;
	size_t	 i;

	for (i = 0; i < sizeof subs / sizeof subs[0]; i++) {
		p = xprintf("%s%s", path, subs[i]);
		if (mkdir(p, 0700) == -1 && errno != EEXIST) {
			xasprintf(cause, "%s: %s", p, strerror(errno));
			free(p);
			return -1;
		}
		free(p);
	}
	return 0;
}
