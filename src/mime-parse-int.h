/*
 * mime-parse-int.h - what mime-parse.c and mime-scan.c share: header
 * fields as found in raw bytes, and the scan that decides how much of a
 * message libetpan may read.  Not for other files.
 */
#ifndef POSTROOM_MIME_PARSE_INT_H
#define POSTROOM_MIME_PARSE_INT_H

#include <stddef.h>

struct mime_parse_limits;

#define MIME_PARSE_SCAN_MAX	10000	/* levels the scan keeps, whatever
					   max_depth says */

/* One header field as found: value after the colon, still folded. */
struct mime_parse_field {
	const char	*name;
	size_t		 namelen;
	const char	*value;
	size_t		 valuelen;
};

/* What the scan found (step 2). */
struct mime_parse_scan {
	size_t		 cut;		/* bytes libetpan may read */
	char		*limit;		/* why it was cut at a limit */
	char		*unsafe;	/* why it was cut at a bad boundary */
	int		 unclosed;	/* a multipart never closed */
	int		 nobound;	/* a multipart with no boundary */
	char		*closers;	/* closing delimiters of the levels
					   left open at the cut, or NULL */
};

int	 mime_parse_wsp(char);		/* space or tab */
int	 mime_parse_space(char);	/* and CR, LF */
void	 mime_parse_lower(char *);	/* ASCII, in place */
int	 mime_parse_name_is(const struct mime_parse_field *, const char *);

/*
 * The next field of the header block at p[*off..len).  Returns 1 with f
 * filled; 0 at the end of the block (*off then at the body: after the
 * empty line, or len); -1 for a line that is not a field (skipped).
 */
int	 mime_parse_field_next(const char *p, size_t len, size_t *off,
	     struct mime_parse_field *);
/* The first field called name in the header block p[0..len). */
int	 mime_parse_field_find(const char *p, size_t len, const char *name,
	     struct mime_parse_field *);

/* mime_parse_header() into a new string; *repaired set when it repaired. */
char	*mime_parse_header_str(const char *value, size_t len, int *repaired);

/*
 * Walk raw[0..len) as a reader that knows only boundaries would, after
 * a look at the bytes alone, and fill sc: how much libetpan may read and
 * why it may not read more (the caller frees sc's strings).
 */
void	 mime_parse_scan(const char *raw, size_t len,
	     const struct mime_parse_limits *, struct mime_parse_scan *sc);

#endif
