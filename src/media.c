/*
 * media.c - uploaded images: what they are by their bytes, their names,
 * and keeping them (media.h says what and why).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "crypto.h"
#include "hex.h"
#include "log.h"
#include "media.h"
#include "store.h"
#include "xmalloc.h"

#define MEDIA_HASH_HEX	20	/* hex digits of the SHA-256 in a name */
#define MEDIA_SIDE_MAX	10000	/* pixels: a bigger image is a mistake */

static uint32_t
media_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* PNG: the signature, then IHDR first (RFC 2083), IEND last. */
static int
media_png(const unsigned char *p, size_t len, struct media_info *info)
{
	static const unsigned char sig[8] = {
		0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'
	};

	if (len < 8 + 25 + 12 || memcmp(p, sig, 8) != 0 ||
	    media_be32(p + 8) != 13 || memcmp(p + 12, "IHDR", 4) != 0)
		return -1;
	if (memcmp(p + len - 8, "IEND", 4) != 0)
		return -1;
	info->type = "image/png";
	info->ext = "png";
	info->width = media_be32(p + 16);
	info->height = media_be32(p + 20);
	return 0;
}

/* GIF: "GIF87a" or "GIF89a", the screen's size, the trailer 0x3b. */
static int
media_gif(const unsigned char *p, size_t len, struct media_info *info)
{
	if (len < 14 || (memcmp(p, "GIF87a", 6) != 0 &&
	    memcmp(p, "GIF89a", 6) != 0) || p[len - 1] != 0x3b)
		return -1;
	info->type = "image/gif";
	info->ext = "gif";
	info->width = (uint32_t)p[6] | (uint32_t)p[7] << 8;
	info->height = (uint32_t)p[8] | (uint32_t)p[9] << 8;
	return 0;
}

/*
 * JPEG: SOI, then segments up to a start of frame (SOF0-SOF15 but DHT,
 * JPG and DAC), which gives the size; an EOI near the end.
 */
static int
media_jpeg(const unsigned char *p, size_t len, struct media_info *info)
{
	size_t	i, seglen, tail;
	int	m;

	if (len < 4 || p[0] != 0xff || p[1] != 0xd8 || p[2] != 0xff)
		return -1;
	/* Some cameras leave bytes after the EOI; not many. */
	for (tail = 0; tail < 64 && tail + 2 <= len; tail++) {
		if (p[len - 2 - tail] == 0xff && p[len - 1 - tail] == 0xd9)
			break;
	}
	if (tail == 64 || tail + 2 > len)
		return -1;
	for (i = 2; i + 4 <= len;) {
		if (p[i] != 0xff)
			return -1;
		while (i < len && p[i] == 0xff)
			i++;
		if (i + 3 > len)
			return -1;
		m = p[i++];
		if (m == 0xd8 || m == 0xd9 || (m >= 0xd0 && m <= 0xd7) ||
		    m == 0x01)
			continue;	/* markers without a length */
		seglen = (size_t)p[i] << 8 | p[i + 1];
		if (seglen < 2 || i + seglen > len)
			return -1;
		if (m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 &&
		    m != 0xcc) {
			if (seglen < 7)
				return -1;
			info->type = "image/jpeg";
			info->ext = "jpg";
			info->height = (uint32_t)p[i + 3] << 8 | p[i + 4];
			info->width = (uint32_t)p[i + 5] << 8 | p[i + 6];
			return 0;
		}
		if (m == 0xda)
			return -1;	/* scan data before any frame */
		i += seglen;
	}
	return -1;
}

int
media_sniff(const void *data, size_t len, struct media_info *info,
    const char **why)
{
	const unsigned char	*p = data;

	memset(info, 0, sizeof *info);
	if (len == 0) {
		*why = "The file is empty.";
		return -1;
	}
	if (media_png(p, len, info) != 0 && media_gif(p, len, info) != 0 &&
	    media_jpeg(p, len, info) != 0) {
		memset(info, 0, sizeof *info);
		*why = "The file is not a PNG, JPEG or GIF image (or is only "
		    "part of one): save it as one of those and upload it "
		    "again.";
		return -1;
	}
	if (info->width == 0 || info->height == 0 ||
	    info->width > MEDIA_SIDE_MAX || info->height > MEDIA_SIDE_MAX) {
		*why = "The image has no size, or is wider or taller than "
		    "10,000 pixels: make it smaller and upload it again.";
		return -1;
	}
	return 0;
}

int
media_name_ok(const char *s)
{
	size_t	i;

	for (i = 0; i < MEDIA_HASH_HEX; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	}
	s += MEDIA_HASH_HEX;
	return strcmp(s, ".png") == 0 || strcmp(s, ".jpg") == 0 ||
	    strcmp(s, ".gif") == 0;
}

char *
media_url(const struct conf *conf, const char *name)
{
	return xprintf("%s/media/%s", conf->general.base_url, name);
}

int
media_add(const struct conf *conf, struct store *s, const void *data,
    size_t len, const char *filename, int64_t now,
    char name[MEDIA_NAME_MAX], struct media_info *info, int *user_error,
    char **cause)
{
	unsigned char	 md[CRYPTO_SHA256_LEN];
	char		 hex[MEDIA_HASH_HEX + 1];
	const char	*why;
	size_t		 max = (size_t)conf->console.image_max_kb * 1024;

	*user_error = 1;
	if (len > max) {
		xasprintf(cause, "The image is %zu KB: the most an image may "
		    "be is %d KB (Outlook and phones load big images slowly); "
		    "make it smaller and upload it again.", (len + 1023) / 1024,
		    conf->console.image_max_kb);
		return -1;
	}
	if (media_sniff(data, len, info, &why) != 0) {
		*cause = xstrdup(why);
		return -1;
	}
	crypto_sha256(data, len, NULL, 0, md);
	hex_encode(md, MEDIA_HASH_HEX / 2, hex);
	hex[MEDIA_HASH_HEX] = '\0';
	snprintf(name, MEDIA_NAME_MAX, "%s.%s", hex, info->ext);
	*user_error = 0;
	if (store_media_add(s, name, info->type, data, len, info->width,
	    info->height, filename, now, cause) != 0)
		return -1;
	log_info("media: %s stored (%s, %zu bytes)", name, info->type, len);
	return 0;
}
