/*
 * match-domain.c - the "domain" operator: an address in the text whose
 * domain is VALUE or a subdomain of it.  "from domain nhs.net" matches
 * a.b@nhs.net and a@mail.nhs.net, not a@notnhs.net.  A leading "@" in
 * VALUE is allowed ("@example.org").  Every "@domain" in the text counts,
 * so it works on headers and body text as well as on addresses.
 *
 * Owns: domain comparison.  Does not own: IDN (compare as written, folded).
 */
#include <stdlib.h>
#include <string.h>

#include "route.h"
#include "xmalloc.h"

struct match_domain {
	char	*fold;
	size_t	 len;
};

static int
match_domain_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '-' || c >= 0x80;
}

static int
match_domain_compile(const char *value, void **data, char **cause)
{
	struct match_domain	*md;
	size_t			 len, i;

	if (*value == '@')
		value++;
	len = strlen(value);
	while (len > 0 && value[len - 1] == '.')
		len--;
	if (len == 0) {
		*cause = xstrdup("domain needs a domain, like example.org");
		return -1;
	}
	for (i = 0; i < len; i++) {
		if (!match_domain_char((unsigned char)value[i])) {
			*cause = xprintf("\"%s\" is not a domain (it holds "
			    "'%c')", value, value[i]);
			return -1;
		}
	}
	md = xmalloc(sizeof *md);
	md->len = len;
	md->fold = xmalloc(len + 1);
	route_fold(value, len, md->fold);
	md->fold[len] = '\0';
	*data = md;
	return 0;
}

static int
match_domain_match(const void *data, const struct route_text *t,
    size_t *off, size_t *len, char **cause)
{
	const struct match_domain	*md = data;
	const char			*s = t->fold, *at, *end;
	size_t				 n, start, dlen;

	n = t->len;
	start = 0;
	while (start < n && (at = memchr(s + start, '@', n - start)) != NULL) {
		start = (size_t)(at - s) + 1;
		end = at + 1;
		while ((size_t)(end - s) < n &&
		    match_domain_char((unsigned char)*end))
			end++;
		while (end > at + 1 && end[-1] == '.')
			end--;
		dlen = (size_t)(end - (at + 1));
		if (dlen < md->len)
			continue;
		if (memcmp(end - md->len, md->fold, md->len) != 0)
			continue;
		if (dlen > md->len && end[-(long)md->len - 1] != '.')
			continue;
		*off = (size_t)(at + 1 - s);
		*len = dlen;
		return 1;
	}
	return 0;
}

static void
match_domain_free(void *data)
{
	struct match_domain	*md = data;

	if (md == NULL)
		return;
	free(md->fold);
	free(md);
}

const struct match_ops match_domain_ops = {
	"domain", 1,
	match_domain_compile, match_domain_match, match_domain_free,
};
