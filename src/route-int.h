/*
 * route-int.h - what route.c, route-lang.c and route-text.c share: the
 * compiled form of a condition and of a keyword, the parsers that make
 * them from a rule's strings, and the routing rules' idea of a space.
 * Not for other files: the matchers and region.c see route.h.
 *
 * Memory: route_cond_parse() returns a tree the caller frees with
 * route_cond_free(); route_keyword_parse() fills a struct route_keyword
 * the caller frees with route_keyword_free().
 */
#ifndef POSTROOM_ROUTE_INT_H
#define POSTROOM_ROUTE_INT_H

#include <stddef.h>

#include "region.h"
#include "route.h"

struct conf_node;

enum route_part {
	PART_FROM,
	PART_FROM_NAME,
	PART_REPLY_TO,
	PART_TO,
	PART_PLUS,
	PART_SUBJECT,
	PART_BODY,
	PART_TEXT,
	PART_HEADER,
	PART_ATTACHMENT,
	PART_ATTACHMENT_TYPE,
};

enum route_cond_type {
	COND_ALL,
	COND_ANY,
	COND_NOT,
	COND_TEST,
	COND_REGION,
	COND_AUTOMATIC,
};

struct route_cond {
	enum route_cond_type	  type;
	char			 *text;		/* canonical, for evidence */
	struct route_cond	**kids;		/* ALL, ANY, NOT */
	size_t			  nkids;
	enum route_part		  part;		/* TEST */
	char			 *header;	/* PART_HEADER */
	const struct match_ops	 *ops;
	void			 *data;
	enum region		  region;	/* REGION */
};

struct route_keyword {
	struct route_phrase	 ph;
	char			*name;		/* "huddle*" as written */
	int			 weight;
};

/* route-text.c: space, tab, CR or LF. */
int	 route_space(char);

/*
 * route-lang.c.  One whole condition string: NULL with *cause (the
 * caller frees it) when it does not parse.
 */
struct route_cond *route_cond_parse(const char *, char **cause);
void	 route_cond_free(struct route_cond *);
/* "analyst network: 4", "huddle*": 0, or -1 with *cause. */
int	 route_keyword_parse(const char *, struct route_keyword *,
	     char **cause);
void	 route_keyword_free(struct route_keyword *);
/* The strings of a "string or list of strings" rule value. */
size_t	 route_node_count(const struct conf_node *);
const char *route_node_str(const struct conf_node *, size_t);

#endif
