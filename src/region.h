/*
 * region.h - which half of the Midlands a message's text points to.
 *
 * The Midlands Decision Support Network has two DSU development leads, one
 * for the WEST Midlands and one for the EAST.  region_detect() reads a
 * message's text and says which one it is about, from three kinds of
 * evidence, strongest first:
 *
 *   system     what the text says about the system someone works in: an
 *              integrated care system's name ("Black Country",
 *              "Derby and Derbyshire", "LLR"), a place followed by ICS,
 *              ICB or "integrated care", or a place after "work in",
 *              "based in", "our" ...
 *   place      region names, counties, cities and towns ("West
 *              Midlands", "Chesterfield", "Telford")
 *   postcode   a whole postcode in the postcode areas of each half (West:
 *              B CV DY WS WV ST TF WR HR SY; East: DE NG LE LN NN and
 *              the districts S40 to S45 around Chesterfield)
 *
 * The decision is by kind, not by sum: the region with more "system"
 * mentions wins; only when those are level (or absent) do places count,
 * and only when places are level do postcodes.  So "I work for Derby and
 * Derbyshire ICB" beats a Birmingham postcode in the signature.  Level
 * all the way down is REGION_NONE.
 *
 * Matching is case-insensitive on whole words (route-text.c's text
 * model), so "Stoke-on-Trent", "stoke on trent" and "STOKE ON TRENT" are
 * one place.
 *
 * Owns: the table of Midlands systems, places and postcode areas.  Does
 * not own: what a region means for routing (the rules in the
 * configuration, route.c).
 *
 * Memory: a struct region_result owns its hits; region_result_free()
 * releases them.  Strings from region_name() are static.
 */
#ifndef POSTROOM_REGION_H
#define POSTROOM_REGION_H

#include <stddef.h>

enum region {
	REGION_NONE,
	REGION_WEST,
	REGION_EAST,
};

enum region_kind {
	REGION_KIND_SYSTEM,	/* strongest */
	REGION_KIND_PLACE,
	REGION_KIND_POSTCODE,	/* weakest */
};
#define REGION_NKINDS	3

struct region_hit {
	enum region		 region;
	enum region_kind	 kind;
	char			*text;	/* as written in the message */
	size_t			 offset;	/* of text, in bytes */
	const char		*why;	/* "ICS", "works in", "town", ... */
};

struct region_result {
	enum region		 region;
	enum region_kind	 decided_by;	/* when region != NONE */
	unsigned int		 count[REGION_NKINDS][3]; /* [kind][region] */
	struct region_hit	*hits;		/* in text order */
	size_t			 nhits;
};

/*
 * Read s[0..len) (UTF-8) and fill *res (which need not be initialised).
 * Never fails; the caller frees *res with region_result_free().
 */
void		 region_detect(const char *s, size_t len,
		     struct region_result *res);
void		 region_result_free(struct region_result *);

/*
 * One line for a person: "east: system \"Derby and Derbyshire\" (ICS);
 * beats west: postcode \"B15 2TT\"".  "" when nothing was found.  The
 * caller frees it.
 */
char		*region_explain(const struct region_result *);

/*
 * The first hit that decided the region (its kind, its half), or NULL
 * when the region is REGION_NONE.  Points into res.
 */
const struct region_hit *region_best_hit(const struct region_result *);

/* "west", "east", "none". */
const char	*region_name(enum region);
/* "west"/"east" (any case) to the enum: 0, or -1 for anything else. */
int		 region_from_name(const char *, enum region *);

/*
 * The region of one postcode or outward code ("DE22 3NE", "s41",
 * "B1 1AA"); REGION_NONE outside the Midlands areas or when s is not a
 * postcode.
 */
enum region	 region_postcode(const char *s);

#endif
