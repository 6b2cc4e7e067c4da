/*
 * fields.h - a newsletter's merge fields: the documented ones, and the
 * check that a campaign uses only fields its recipients can have and only
 * images their mail programs can fetch.
 *
 * fields_table[] is THE list of documented merge fields: fields_check()
 * reads it, "postroom campaign --help" prints it, and a unit test holds
 * both the README's list and newsletter.c's merge data to it.
 *
 * What fields_check() looks at:
 *   - every variable, section and inverted section in the subject and in
 *     the body (read as Mustache, as written, before any Markdown), dotted
 *     names and names inside sections included;
 *   - a name is known when it is a documented field for subjects and
 *     bodies, a group of them ("subscriber", "list": a section may open
 *     one), or an attribute some member of the list has a value for
 *     (subscriber.KEY, subscriber.attrs.KEY; the caller says which keys,
 *     see campaign_check());
 *   - names match ignoring ASCII case, as the renderer matches them when
 *     nothing matches exactly (template_set_nocase()): a CSV column
 *     "Organisation" fills {{subscriber.organisation}};
 *   - inside {{#SECTION}}, a name may be relative to it, as Mustache looks
 *     names up: NAME is known when SECTION.NAME is, for each section
 *     around it from the innermost out, or NAME itself is; {{.}} always
 *     is.  So {{#subscriber}}{{name}}{{/subscriber}} uses subscriber.name;
 *   - every Markdown image's source must be an https:// URL (markdown.c
 *     drops any other image from what it renders).
 *
 * A name nobody can have gets the nearest known name as a suggestion
 * when one is close enough (suggest_distance(), ignoring case), or, for a
 * bare name like {{organisation}}, the first known field ending in it.
 *
 * Owns: the table, what a subject or body may name, the messages and
 * suggestions.  Does not own: Mustache (template.c), Markdown
 * (markdown.c), where the attribute keys come from or who lacks them
 * (campaign.c, the store), or rendering (newsletter.c).
 *
 * Ownership: fields_check() fills a struct fields_report the caller
 * clears with fields_report_clear().
 */
#ifndef POSTROOM_FIELDS_H
#define POSTROOM_FIELDS_H

#include <stddef.h>
#include <stdint.h>

/* Where a documented field may be used. */
#define FIELDS_BODY	0x1	/* subjects and bodies (and the templates) */
#define FIELDS_TEMPLATE	0x2	/* only the templates around the body */
#define FIELDS_ATTR	0x4	/* KEY stands for any attribute's name */

struct fields_doc {
	const char	*name;
	int		 flags;
	const char	*help;		/* one line */
};

/* The documented merge fields; a row with a NULL name ends it. */
extern const struct fields_doc fields_table[];

enum fields_kind {
	FIELDS_UNKNOWN,		/* a name no recipient can have */
	FIELDS_TEMPLATE_ONLY,	/* a template's field in a subject or body */
	FIELDS_IMAGE,		/* an image whose source is not https:// */
};

struct fields_problem {
	enum fields_kind kind;
	char		*what;		/* the name as written, or the source */
	unsigned	 line;		/* in the body; 0: in the subject */
	char		*suggest;	/* the nearest known name, or NULL */
	char		*message;	/* "body line 3: ...", plain English */
};

/*
 * A field that some recipients may lack: an attribute, or
 * subscriber.name (not everyone gave one).  Each once, in the order
 * first used.
 */
struct fields_use {
	char		*field;		/* "subscriber.Org", as written */
	char		*attr;		/* its key; NULL for the name */
	int64_t		 lacking;	/* left for campaign_check() to fill */
	int64_t		 recipients;
};

/*
 * At most FIELDS_MAX_PROBLEMS problems are listed (a suggestion costs a
 * distance to every known name); nmore counts the rest.
 */
#define FIELDS_MAX_PROBLEMS	100
struct fields_report {
	struct fields_problem	*problems;
	size_t			 nproblems;
	size_t			 nmore;
	struct fields_use	*uses;
	size_t			 nuses;
};

struct fields_input {
	const char		*subject;
	const char		*body;		/* Markdown with merge fields */
	const char		*list;		/* its slug, for messages */
	const char *const	*attrs;		/* keys members have values */
	size_t			 nattrs;
};

/*
 * Check a subject and body: 0 with *report filled (no problems when
 * nproblems is 0; nmore is 0 then too), or -1 with *cause (caller frees)
 * when the subject or the body is not Mustache at all ("body: line 4:
 * ...").
 */
int	 fields_check(const struct fields_input *, struct fields_report *,
	    char **cause);
void	 fields_report_clear(struct fields_report *);
/*
 * Every problem's message on one line, "; " between them, and "; and N
 * more" when some were not listed.
 */
char	*fields_report_text(const struct fields_report *);

#endif
