/*
 * media.h - images staff upload for newsletters (the console's composer):
 * what an uploaded file really is, judged by its bytes and never by its
 * name or the type the browser claimed; where it is kept (the media
 * table); and its address for readers, general.base_url/media/NAME,
 * served by the public listener (web-public.c).
 *
 * Only PNG, JPEG and GIF are taken, as every mail program shows them; a
 * file must be whole enough to give its width and height.  NAME is the
 * start of the SHA-256 of the bytes and the type's extension, so the
 * same image uploaded twice is kept once and an address never changes
 * what it shows (readers' caches may keep it for ever).
 *
 * Owns: the sniffing, the size cap (console.image_max_kb), the name.
 * Does not own: the SQL (store-media.c), the HTTP side (console-compose.c
 * takes the upload, web-public.c serves it).
 */
#ifndef POSTROOM_MEDIA_H
#define POSTROOM_MEDIA_H

#include <stddef.h>
#include <stdint.h>

struct conf;
struct store;

#define MEDIA_NAME_MAX	40	/* "0123456789abcdef0123.jpeg" and NUL */

struct media_info {
	const char	*type;		/* "image/png", "image/jpeg", "image/gif" */
	const char	*ext;		/* "png", "jpg", "gif" */
	uint32_t	 width;
	uint32_t	 height;
};

/*
 * What data[0..len) is: 0 with *info for a PNG, JPEG or GIF whose size
 * could be read, else -1 with *why (static, plain words for staff).
 */
int	 media_sniff(const void *data, size_t len, struct media_info *info,
	    const char **why);

/*
 * Keep an uploaded image (filename: as uploaded, for staff; who: the
 * audit log's actor) and say its name.  Refused (-1 with *cause for
 * staff, *user_error 1) when it is too big or not an image we take; -1
 * with *user_error 0 when the database fails.  The same bytes again give
 * the same name, stored once.
 */
int	 media_add(const struct conf *, struct store *, const void *data,
	    size_t len, const char *filename, int64_t now,
	    char name[MEDIA_NAME_MAX], struct media_info *info,
	    int *user_error, char **cause);

/* 1 when s is a name media_add() could give ("hex.ext"), else 0. */
int	 media_name_ok(const char *s);

/* The address readers fetch NAME from: general.base_url/media/NAME. */
char	*media_url(const struct conf *, const char *name);

#endif
