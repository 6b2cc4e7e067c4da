/*
 * html-text.h - HTML to plain text, for matching routing rules against
 * HTML-only mail.  Not a renderer and not a sanitiser: nothing it makes
 * is ever shown as HTML.
 *
 * What it does: drops tags, comments, <!DOCTYPE> and the content of
 * script, style, head, title, template, noscript, iframe, object, svg
 * and math; turns block elements (p, div, br, li, tr, h1-h6, table,
 * blockquote, pre, hr, ...) into line breaks and table cells into spaces;
 * decodes character references (the common named ones, &#NNN; and
 * &#xHHH;, with HTML's windows-1252 reading of &#128;-&#159;; invalid ones
 * become U+FFFD; unknown names are left as written); collapses runs of
 * white space to one space outside <pre>, no more than one blank line in
 * a row, no spaces at the ends of lines, none at the start or end.
 * Input that is not valid UTF-8 has its bad bytes replaced by U+FFFD
 * first.  Runs in one pass, linear time, no recursion, whatever the input.
 *
 * Owns: nothing but this conversion.  Does not own: the charset of the
 * HTML (mime-parse.c converts it to UTF-8 first).
 */
#ifndef POSTROOM_HTML_TEXT_H
#define POSTROOM_HTML_TEXT_H

#include <stddef.h>

struct buf;

/*
 * Append the text of html[0..len) (UTF-8) to out, lines ending in "\n".
 * Returns 0, or -1 when out's cap was reached (out then holds what fitted).
 */
int	 html_text(struct buf *out, const char *html, size_t len);

#endif
