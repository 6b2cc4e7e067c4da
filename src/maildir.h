/*
 * maildir.h - what the Maildir transport (send-maildir.c) and the Maildir
 * source (source-maildir.c) share about a Maildir on disk.
 */
#ifndef POSTROOM_MAILDIR_H
#define POSTROOM_MAILDIR_H

/*
 * Create path and its tmp, new and cur directories (mode 0700) where they
 * are missing: 0, or -1 with *cause naming the directory that failed.
 */
int	 maildir_create(const char *path, char **cause);

#endif
