/*
 * region.c - which half of the Midlands a message's text points to: the
 * integrated care systems, places and postcode areas of each, and the
 * rule that what someone says about the system they work in beats where
 * a town is mentioned, which beats a postcode (see region.h).
 *
 * Owns: the tables below.  Does not own: words and case (route-text.c's
 * text model), what a region means for routing (the rules, route.c).
 *
 * The tables are plain knowledge of the region, kept short on purpose:
 * a place that is also a common word or surname elsewhere (Rugby, Boston,
 * Stamford, Burton, Leek) is left out rather than guessed at.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "region.h"
#include "route.h"
#include "xmalloc.h"

struct region_entry {
	const char		*phrase;
	enum region		 region;
	enum region_kind	 kind;
	const char		*why;
};

#define W	REGION_WEST
#define E	REGION_EAST
#define SYS	REGION_KIND_SYSTEM
#define PL	REGION_KIND_PLACE

/* Longest first where one phrase holds another. */
static const struct region_entry region_table[] = {
	/* The integrated care systems (ICSs) and their usual short names. */
	{ "staffordshire and stoke on trent", W, SYS, "ICS" },
	{ "shropshire telford and wrekin", W, SYS, "ICS" },
	{ "herefordshire and worcestershire", W, SYS, "ICS" },
	{ "coventry and warwickshire", W, SYS, "ICS" },
	{ "birmingham and solihull", W, SYS, "ICS" },
	{ "black country", W, SYS, "ICS" },
	{ "bsol", W, SYS, "ICS" },
	{ "leicester leicestershire and rutland", E, SYS, "ICS" },
	{ "nottingham and nottinghamshire", E, SYS, "ICS" },
	{ "derby and derbyshire", E, SYS, "ICS" },
	{ "llr", E, SYS, "ICS" },

	/* The regions themselves. */
	{ "west midlands", W, PL, "region" },
	{ "east midlands", E, PL, "region" },

	/* West: counties, cities and towns. */
	{ "newcastle under lyme", W, PL, "town" },
	{ "stratford upon avon", W, PL, "town" },
	{ "burton upon trent", W, PL, "town" },
	{ "burton on trent", W, PL, "town" },
	{ "stoke on trent", W, PL, "city" },
	{ "sutton coldfield", W, PL, "town" },
	{ "west bromwich", W, PL, "town" },
	{ "staffordshire", W, PL, "county" },
	{ "worcestershire", W, PL, "county" },
	{ "herefordshire", W, PL, "county" },
	{ "warwickshire", W, PL, "county" },
	{ "shropshire", W, PL, "county" },
	{ "birmingham", W, PL, "city" },
	{ "wolverhampton", W, PL, "city" },
	{ "coventry", W, PL, "city" },
	{ "worcester", W, PL, "city" },
	{ "hereford", W, PL, "city" },
	{ "lichfield", W, PL, "city" },
	{ "solihull", W, PL, "town" },
	{ "sandwell", W, PL, "town" },
	{ "walsall", W, PL, "town" },
	{ "dudley", W, PL, "town" },
	{ "smethwick", W, PL, "town" },
	{ "halesowen", W, PL, "town" },
	{ "stourbridge", W, PL, "town" },
	{ "warwick", W, PL, "town" },
	{ "nuneaton", W, PL, "town" },
	{ "bedworth", W, PL, "town" },
	{ "leamington", W, PL, "town" },
	{ "redditch", W, PL, "town" },
	{ "bromsgrove", W, PL, "town" },
	{ "kidderminster", W, PL, "town" },
	{ "malvern", W, PL, "town" },
	{ "evesham", W, PL, "town" },
	{ "leominster", W, PL, "town" },
	{ "shrewsbury", W, PL, "town" },
	{ "telford", W, PL, "town" },
	{ "wrekin", W, PL, "town" },
	{ "oswestry", W, PL, "town" },
	{ "ludlow", W, PL, "town" },
	{ "stafford", W, PL, "town" },
	{ "tamworth", W, PL, "town" },
	{ "cannock", W, PL, "town" },

	/* East: counties, cities and towns. */
	{ "sutton in ashfield", E, PL, "town" },
	{ "market harborough", E, PL, "town" },
	{ "melton mowbray", E, PL, "town" },
	{ "long eaton", E, PL, "town" },
	{ "northamptonshire", E, PL, "county" },
	{ "nottinghamshire", E, PL, "county" },
	{ "leicestershire", E, PL, "county" },
	{ "lincolnshire", E, PL, "county" },
	{ "derbyshire", E, PL, "county" },
	{ "rutland", E, PL, "county" },
	{ "nottingham", E, PL, "city" },
	{ "leicester", E, PL, "city" },
	{ "northampton", E, PL, "town" },
	{ "derby", E, PL, "city" },
	{ "lincoln", E, PL, "city" },
	{ "chesterfield", E, PL, "town" },
	{ "buxton", E, PL, "town" },
	{ "matlock", E, PL, "town" },
	{ "ilkeston", E, PL, "town" },
	{ "swadlincote", E, PL, "town" },
	{ "mansfield", E, PL, "town" },
	{ "newark", E, PL, "town" },
	{ "worksop", E, PL, "town" },
	{ "bassetlaw", E, PL, "town" },
	{ "loughborough", E, PL, "town" },
	{ "hinckley", E, PL, "town" },
	{ "coalville", E, PL, "town" },
	{ "oakham", E, PL, "town" },
	{ "grantham", E, PL, "town" },
	{ "skegness", E, PL, "town" },
	{ "spalding", E, PL, "town" },
	{ "gainsborough", E, PL, "town" },
	{ "kettering", E, PL, "town" },
	{ "corby", E, PL, "town" },
	{ "wellingborough", E, PL, "town" },
	{ "daventry", E, PL, "town" },
};
#define REGION_NTABLE	(sizeof region_table / sizeof region_table[0])

/*
 * A place becomes a statement about someone's system when these come just
 * before it ("I work in Derby", "our Telford team") ...
 */
static const char *const region_cues_before[] = {
	"work in", "work for", "work at", "works in", "works for", "works at",
	"working in", "working for", "working at", "working across",
	"based in", "based at", "employed by", "our", NULL
};
/* ... or these just after it ("Lincolnshire ICB", "Derby City Council"). */
static const char *const region_cues_after[] = {
	"ics", "icb", "icp", "ccg", "integrated care", "system",
	"health and care", "council", "city council", "county council", NULL
};
/* Words allowed between a "before" cue and the place: "in the city of". */
static const char *const region_filler[] = {
	"the", "a", "city", "county", "of", "central", NULL
};

static const char *const region_west_areas[] = {
	"b", "cv", "dy", "ws", "wv", "st", "tf", "wr", "hr", "sy", NULL
};
static const char *const region_east_areas[] = {
	"de", "ng", "le", "ln", "nn", NULL
};

const char *
region_name(enum region r)
{
	switch (r) {
	case REGION_WEST:
		return "west";
	case REGION_EAST:
		return "east";
	case REGION_NONE:
		break;
	}
	return "none";
}

int
region_from_name(const char *s, enum region *r)
{
	if (strcasecmp(s, "west") == 0)
		*r = REGION_WEST;
	else if (strcasecmp(s, "east") == 0)
		*r = REGION_EAST;
	else
		return -1;
	return 0;
}

static int
region_lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c + 0x20 : c;
}

static int
region_is_letter(int c)
{
	c = region_lower(c);
	return c >= 'a' && c <= 'z';
}

static int
region_is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
region_in(const char *const *list, const char *s, size_t len)
{
	size_t	i;

	for (i = 0; list[i] != NULL; i++) {
		if (strlen(list[i]) == len && strncasecmp(list[i], s, len) == 0)
			return 1;
	}
	return 0;
}

/* The region of an outward code's area and district: "s" 41, "de" 22. */
static enum region
region_area(const char *area, size_t alen, int district)
{
	if (region_in(region_west_areas, area, alen))
		return REGION_WEST;
	if (region_in(region_east_areas, area, alen))
		return REGION_EAST;
	if (alen == 1 && region_lower(*area) == 's' && district >= 40 &&
	    district <= 45)
		return REGION_EAST;
	return REGION_NONE;
}

/*
 * Is s[0..len) an outward code (AA9, A99, AA9A, ...)?  Returns the area
 * length (1 or 2) and the district number, else 0.
 */
static size_t
region_outward(const char *s, size_t len, int *district)
{
	size_t	a = 0, i;

	while (a < len && a < 3 && region_is_letter(s[a]))
		a++;
	if (a == 0 || a > 2 || a >= len || !region_is_digit(s[a]))
		return 0;
	*district = s[a] - '0';
	i = a + 1;
	if (i < len && region_is_digit(s[i])) {
		*district = *district * 10 + (s[i] - '0');
		i++;
	} else if (i < len && region_is_letter(s[i]))
		i++;	/* W1A, EC1A */
	return i == len ? a : 0;
}

/* Is s[0..len) an inward code (9AA), and not an ordinal ("3rd")? */
static int
region_inward(const char *s, size_t len)
{
	if (len != 3 || !region_is_digit(s[0]) || !region_is_letter(s[1]) ||
	    !region_is_letter(s[2]))
		return 0;
	if (region_in((const char *const[]){ "st", "nd", "rd", "th", NULL },
	    s + 1, 2))
		return 0;
	return 1;
}

enum region
region_postcode(const char *s)
{
	size_t	len, sp, a;
	int	district;

	while (*s == ' ')
		s++;
	len = strlen(s);
	while (len > 0 && s[len - 1] == ' ')
		len--;
	for (sp = 0; sp < len && s[sp] != ' '; sp++)
		;
	if (sp < len) {
		/* "DE22 3NE" */
		if (!region_inward(s + sp + 1, len - sp - 1))
			return REGION_NONE;
		len = sp;
	} else if (len >= 5 && region_inward(s + len - 3, 3) &&
	    region_outward(s, len - 3, &district) != 0)
		len -= 3;	/* "DE223NE" */
	if ((a = region_outward(s, len, &district)) == 0)
		return REGION_NONE;
	return region_area(s, a, district);
}

/* --- detection ------------------------------------------------------------ */

struct region_scan {
	const struct route_text	*t;
	char			*used;		/* per word */
	struct region_result	*res;
};

static void
region_add(struct region_scan *sc, size_t w0, size_t w1, enum region r,
    enum region_kind kind, const char *why)
{
	struct region_result	*res = sc->res;
	struct region_hit	*h;
	size_t			 off, end, i;

	off = sc->t->words[w0].off;
	end = sc->t->words[w1].off + sc->t->words[w1].len;
	for (i = w0; i <= w1; i++)
		sc->used[i] = 1;
	res->hits = xreallocarray(res->hits, res->nhits + 1,
	    sizeof *res->hits);
	h = &res->hits[res->nhits++];
	h->region = r;
	h->kind = kind;
	h->text = xstrndup(sc->t->s + off, end - off);
	h->offset = off;
	h->why = why;
	res->count[kind][r]++;
}

/* Do the words of p stand at word i of t?  Their number, else 0. */
static int
region_words_at(const struct route_text *t, size_t i, const char *p)
{
	struct route_text	pt;
	size_t			k;
	int			n = 0;

	route_text_init(&pt, p, strlen(p));
	for (k = 0; k < pt.nwords && i + k < t->nwords; k++) {
		if (t->words[i + k].len != pt.words[k].len ||
		    memcmp(t->fold + t->words[i + k].off,
		    pt.fold + pt.words[k].off, pt.words[k].len) != 0)
			break;
	}
	if (k == pt.nwords)
		n = (int)k;
	route_text_free(&pt);
	return n;
}

/* Is the place at words [w0, w1] said to be someone's system? */
static const char *
region_cued(const struct route_text *t, size_t w0, size_t w1)
{
	size_t	i, n, start, skip;

	for (i = 0; region_cues_after[i] != NULL; i++) {
		if (w1 + 1 < t->nwords &&
		    region_words_at(t, w1 + 1, region_cues_after[i]) > 0)
			return region_cues_after[i];
	}
	for (skip = 0; skip <= 3 && skip <= w0; skip++) {
		/* words w0-skip .. w0-1 are filler */
		if (skip > 0) {
			start = t->words[w0 - skip].off;
			if (!region_in(region_filler, t->fold + start,
			    t->words[w0 - skip].len))
				break;
		}
		for (i = 0; region_cues_before[i] != NULL; i++) {
			for (n = 1; n <= 2 && n + skip <= w0; n++) {
				if (region_words_at(t, w0 - skip - n,
				    region_cues_before[i]) == (int)n)
					return "works there";
			}
		}
	}
	return NULL;
}

static int
region_hit_cmp(const void *a0, const void *b0)
{
	const struct region_hit	*a = a0, *b = b0;

	return a->offset < b->offset ? -1 : (a->offset > b->offset);
}

void
region_detect(const char *s, size_t len, struct region_result *res)
{
	struct route_text	 t;
	struct route_phrase	 ph;
	struct region_scan	 sc;
	const struct region_entry *e;
	const char		*why, *w, *n;
	enum region_kind	 kind;
	enum region		 r;
	size_t			 i, j, at, off, mlen, from, a;
	char			*cause;
	int			 k, district;

	memset(res, 0, sizeof *res);
	route_text_init(&t, s, len);
	sc.t = &t;
	sc.used = xcalloc(t.nwords + 1, 1);
	sc.res = res;

	/* Systems and places, longest phrases first (the table's order). */
	for (i = 0; i < REGION_NTABLE; i++) {
		e = &region_table[i];
		if (route_phrase_init(&ph, e->phrase, &cause) == -1) {
			free(cause);
			continue;
		}
		from = 0;
		while (route_phrase_find(&ph, &t, from, &at, &off, &mlen)) {
			from = at + 1;
			for (j = at; j < at + ph.t.nwords; j++) {
				if (sc.used[j])
					break;
			}
			if (j < at + ph.t.nwords)
				continue;
			kind = e->kind;
			why = e->why;
			if (kind == REGION_KIND_PLACE &&
			    (w = region_cued(&t, at, at + ph.t.nwords - 1)) !=
			    NULL) {
				kind = REGION_KIND_SYSTEM;
				why = w;
			}
			region_add(&sc, at, at + ph.t.nwords - 1, e->region,
			    kind, why);
		}
		route_phrase_free(&ph);
	}

	/* Postcodes: "DE22 3NE" (two words) or "DE223NE" (one). */
	for (i = 0; i < t.nwords; i++) {
		if (sc.used[i])
			continue;
		w = t.fold + t.words[i].off;
		if ((a = region_outward(w, t.words[i].len, &district)) != 0 &&
		    i + 1 < t.nwords && !sc.used[i + 1]) {
			n = t.fold + t.words[i + 1].off;
			if (region_inward(n, t.words[i + 1].len) &&
			    (r = region_area(w, a, district)) != REGION_NONE) {
				region_add(&sc, i, i + 1, r,
				    REGION_KIND_POSTCODE, "postcode");
				i++;
				continue;
			}
		}
		if (t.words[i].len >= 5 &&
		    region_inward(w + t.words[i].len - 3, 3) &&
		    (a = region_outward(w, t.words[i].len - 3,
		    &district)) != 0 &&
		    (r = region_area(w, a, district)) != REGION_NONE)
			region_add(&sc, i, i, r, REGION_KIND_POSTCODE,
			    "postcode");
	}

	/* Strongest kind first; a level kind passes to the next. */
	res->region = REGION_NONE;
	for (k = 0; k < REGION_NKINDS; k++) {
		if (res->count[k][REGION_WEST] == res->count[k][REGION_EAST])
			continue;
		res->region = res->count[k][REGION_WEST] >
		    res->count[k][REGION_EAST] ? REGION_WEST : REGION_EAST;
		res->decided_by = (enum region_kind)k;
		break;
	}
	if (res->nhits > 1)
		qsort(res->hits, res->nhits, sizeof *res->hits, region_hit_cmp);
	free(sc.used);
	route_text_free(&t);
}

void
region_result_free(struct region_result *res)
{
	size_t	i;

	for (i = 0; i < res->nhits; i++)
		free(res->hits[i].text);
	free(res->hits);
	memset(res, 0, sizeof *res);
}

static const char *
region_kind_name(enum region_kind k)
{
	switch (k) {
	case REGION_KIND_SYSTEM:
		return "system";
	case REGION_KIND_PLACE:
		return "place";
	case REGION_KIND_POSTCODE:
		break;
	}
	return "postcode";
}

/* Has an earlier hit the same region, kind and text (any case)? */
static int
region_seen(const struct region_result *res, size_t i)
{
	const struct region_hit	*h = &res->hits[i];
	size_t			 j;

	for (j = 0; j < i; j++) {
		if (res->hits[j].region == h->region &&
		    res->hits[j].kind == h->kind &&
		    strcasecmp(res->hits[j].text, h->text) == 0)
			return 1;
	}
	return 0;
}

/* The hits for one region, each text once: system "Black Country" ... */
static void
region_explain_one(struct buf *b, const struct region_result *res,
    enum region r)
{
	const struct region_hit	*h;
	size_t			 i, j, n, shown = 0, total = 0;

	for (i = 0; i < res->nhits; i++) {
		if (res->hits[i].region == r && !region_seen(res, i))
			total++;
	}
	for (i = 0; i < res->nhits; i++) {
		h = &res->hits[i];
		if (h->region != r || region_seen(res, i))
			continue;
		if (shown == 4) {
			buf_printf(b, " and %zu more", total - shown);
			break;
		}
		for (j = i, n = 0; j < res->nhits; j++) {
			if (res->hits[j].region == r &&
			    res->hits[j].kind == h->kind &&
			    strcasecmp(res->hits[j].text, h->text) == 0)
				n++;
		}
		buf_printf(b, "%s%s \"%s\" (%s", shown > 0 ? ", " : "",
		    region_kind_name(h->kind), h->text, h->why);
		if (n > 1)
			buf_printf(b, ", %zu times", n);
		buf_addc(b, ')');
		shown++;
	}
}

const struct region_hit *
region_best_hit(const struct region_result *res)
{
	size_t	i;

	if (res->region == REGION_NONE)
		return NULL;
	for (i = 0; i < res->nhits; i++) {
		if (res->hits[i].region == res->region &&
		    res->hits[i].kind == res->decided_by)
			return &res->hits[i];
	}
	return NULL;
}

char *
region_explain(const struct region_result *res)
{
	struct buf	b;
	enum region	first, second;
	unsigned int	nfirst = 0, nsecond = 0;
	int		k;

	buf_init(&b, BUF_NOMAX);
	buf_addstr(&b, "");
	if (res->nhits == 0)
		return buf_detach(&b, NULL);
	first = res->region != REGION_NONE ? res->region : REGION_WEST;
	second = first == REGION_WEST ? REGION_EAST : REGION_WEST;
	for (k = 0; k < REGION_NKINDS; k++) {
		nfirst += res->count[k][first];
		nsecond += res->count[k][second];
	}
	if (res->region == REGION_NONE)
		buf_addstr(&b, "level: ");
	if (nfirst > 0) {
		buf_printf(&b, "%s: ", region_name(first));
		region_explain_one(&b, res, first);
	}
	if (nsecond > 0) {
		if (nfirst > 0)
			buf_addstr(&b, res->region != REGION_NONE ?
			    "; beats " : "; ");
		buf_printf(&b, "%s: ", region_name(second));
		region_explain_one(&b, res, second);
	}
	if (res->region != REGION_NONE && nsecond > 0)
		buf_printf(&b, " (decided by %s mentions)",
		    region_kind_name(res->decided_by));
	return buf_detach(&b, NULL);
}
