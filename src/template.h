/*
 * template.h - Mustache templates (the mustache/spec core modules).
 *
 * Variables {{name}} (HTML-escaped: & " < > ' become &amp; &quot; &lt;
 * &gt; &#39;), {{{name}}} and {{& name}} (raw), dotted names and the
 * implicit iterator {{.}}, sections {{#name}}...{{/name}} over lists,
 * objects and other truthy values, inverted sections {{^name}}, comments
 * {{! ... }}, partials {{> name}} (indented when standalone) and set
 * delimiters {{=<% %>=}}, with the spec's standalone-line rules.  No
 * lambdas.
 *
 * Falsy: a missing name, null, false, an empty list, the empty string.
 * Everything else (0 included) is truthy.  Numbers print as the text they
 * were written with; lists and objects print as nothing.
 *
 * Limits, so that a hostile template cannot run forever: sections nest at
 * most TEMPLATE_MAX_NEST deep, partials TEMPLATE_MAX_PARTIAL_DEPTH deep, a
 * render takes at most TEMPLATE_MAX_STEPS steps, and output stops at the
 * output buffer's cap (or TEMPLATE_MAX_OUTPUT when it has none).
 *
 * Ownership: template_parse() returns a template the caller frees with
 * template_free(); it keeps its own copy of the text.  A struct
 * template_partials is owned by whoever created it and caches the
 * partials it parsed; it may be shared by many renders (not by threads).
 */
#ifndef POSTROOM_TEMPLATE_H
#define POSTROOM_TEMPLATE_H

#include <stddef.h>

struct buf;
struct template;
struct template_partials;
struct value;

#define TEMPLATE_MAX_NEST		100
#define TEMPLATE_MAX_PARTIAL_DEPTH	64
#define TEMPLATE_MAX_STEPS		10000000UL
#define TEMPLATE_MAX_OUTPUT		(64 * 1024 * 1024)
#define TEMPLATE_MAX_FILE		(4 * 1024 * 1024)

/*
 * Parse a template.  NULL with *cause (caller frees) on a syntax error,
 * like "line 4: {{/items}} closes {{#item}} opened on line 2".
 */
struct template	*template_parse(const char *text, size_t len, char **cause);
/*
 * Read and parse a file.  NULL with *cause starting with the path; errno
 * is the read error (ENOENT...) when the file could not be read and 0 when
 * it holds a syntax error.
 */
struct template	*template_parse_file(const char *path, char **cause);
/* template_parse_file() of DIR/NAME (NAME may hold "/": "web/page.html"). */
struct template	*template_load(const char *dir, const char *name,
		    char **cause);
void		 template_free(struct template *);	/* NULL is fine */

/*
 * From now on, a name that matches no key exactly (in any context) matches
 * a key that differs from it only in ASCII case: {{subscriber.organisation}}
 * finds "Organisation".  The exact key always wins.  Not Mustache (whose
 * names are case-sensitive): for a newsletter's subject and body, which
 * staff write against attribute names that came from spreadsheets.  It
 * costs nothing when every name matches exactly.
 */
void		 template_set_nocase(struct template *);

/*
 * Every name t looks up, in the order written, for a caller that checks
 * them (fields.c): variables (kind ' ', or '&' when raw), sections ('#')
 * and inverted sections ('^'), with the line of the tag and the sections
 * around it that push a context (outer[0] the outermost; inverted
 * sections push none), whose names are relative to what is around them
 * in turn.  "." is the implicit iterator.  Comments and partials are not
 * names; partials are not followed.  fn returns 0 to go on; anything else
 * stops the walk and is returned.
 */
struct template_name {
	char		  kind;
	const char	 *name;
	unsigned	  line;
	const char	**outer;
	size_t		  nouter;
};
int		 template_names(const struct template *,
		     int (*fn)(const struct template_name *, void *),
		     void *arg);

/*
 * Render t with data (NULL: no data) and append the result to out.
 * partials may be NULL: every {{> name}} then renders as nothing, as a
 * partial that is not found always does.  Returns 0, or -1 with *cause
 * (caller frees) when a limit is hit or a partial cannot be read or
 * parsed; out then holds a partial result the caller should discard.
 * template_render() HTML-escapes {{name}}; template_render_text() is for
 * text/plain parts and escapes nothing.
 */
int		 template_render(const struct template *t,
		     const struct value *data, struct template_partials *,
		     struct buf *out, char **cause);
int		 template_render_text(const struct template *t,
		     const struct value *data, struct template_partials *,
		     struct buf *out, char **cause);

/*
 * Where partials come from:
 *   - template_partials_new(): a map filled by template_partials_add()
 *     (name -> text, the text is copied);
 *   - template_partials_dir(): files DIR/NAME.mustache, else DIR/NAME.
 *     Names may hold "/" but not "." or ".." components; a name that is
 *     not found renders as nothing, a file that exists but cannot be read
 *     is an error;
 *   - template_partials_callback(): fn returns 1 and appends the text to
 *     the buffer, 0 when there is no such partial, or -1 with *cause.
 * Free each with template_partials_free().
 */
struct template_partials *template_partials_new(void);
void		 template_partials_add(struct template_partials *,
		     const char *name, const char *text, size_t len);
struct template_partials *template_partials_dir(const char *dir);
struct template_partials *template_partials_callback(int (*fn)(void *arg,
		     const char *name, struct buf *text, char **cause),
		     void *arg);
void		 template_partials_free(struct template_partials *);

#endif
