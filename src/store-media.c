/*
 * store-media.c - the media table: images uploaded for newsletters
 * (media.h), kept in the database so that a backup holds them too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "store-int.h"
#include "xmalloc.h"

int
store_media_add(struct store *s, const char *name, const char *type,
    const void *data, size_t len, uint32_t width, uint32_t height,
    const char *filename, int64_t now, char **cause)
{
	int	n;

	n = store_run(s, cause,
	    "INSERT INTO media (name, type, data, size, width, height,"
	    " filename, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
	    " ON CONFLICT (name) DO NOTHING", "ttbIIItI", name, type, data,
	    len, (int64_t)len, (int64_t)width, (int64_t)height, filename, now);
	if (n == -1)
		return -1;
	if (n > 0)
		store_event(s, "media.add", name, filename);
	return 0;
}

void
store_media_clear(struct store_media *m)
{
	free(m->name);
	free(m->type);
	free(m->data);
	free(m->filename);
	memset(m, 0, sizeof *m);
}

static void
store_media_row(struct store_stmt *st, struct store_media *m, int data)
{
	const void	*b;
	size_t		 len;

	memset(m, 0, sizeof *m);
	m->name = store_column_text_or(st, 0, "");
	m->type = store_column_text_or(st, 1, "");
	m->size = store_column_int(st, 2);
	m->width = store_column_int(st, 3);
	m->height = store_column_int(st, 4);
	m->filename = store_column_text_or(st, 5, "");
	m->created_at = store_column_int(st, 6);
	if (data) {
		b = store_column_blob(st, 7, &len);
		m->data = xmalloc(len + 1);
		if (len > 0)
			memcpy(m->data, b, len);
		m->len = len;
	}
}

#define STORE_MEDIA_COLUMNS \
	"name, type, size, width, height, filename, created_at"

int
store_media_get(struct store *s, const char *name, struct store_media *m,
    char **cause)
{
	struct store_stmt	*st;
	int			 rc;

	st = store_query(s, cause, "SELECT " STORE_MEDIA_COLUMNS ", data"
	    " FROM media WHERE name = ?", "t", name);
	if (st == NULL)
		return -1;
	if ((rc = store_step(s, st, cause)) == 1)
		store_media_row(st, m, 1);
	store_done(st);
	return rc;
}

int
store_media_each(struct store *s, size_t max,
    int (*fn)(const struct store_media *, void *), void *arg, char **cause)
{
	struct store_stmt	*st;
	struct store_media	 m;
	int			 rc, ret = 0;

	st = store_query(s, cause, "SELECT " STORE_MEDIA_COLUMNS
	    " FROM media ORDER BY id DESC LIMIT ?", "I", (int64_t)max);
	if (st == NULL)
		return -1;
	while ((rc = store_step(s, st, cause)) == 1) {
		store_media_row(st, &m, 0);
		ret = fn(&m, arg);
		store_media_clear(&m);
		if (ret != 0)
			break;
	}
	store_done(st);
	return rc == -1 ? -1 : ret;
}
