/*
 * markdown.h - newsletter bodies: CommonMark to HTML and to plain text.
 *
 * Staff write newsletters in Markdown; every message goes out as
 * multipart/alternative with an HTML part and a plain-text part made from
 * the same source here.  Both use CommonMark (cmark 0.30) with smart
 * punctuation ("quotes" become curly, -- an en dash, --- an em dash, ...
 * an ellipsis; never inside code), and invalid UTF-8 replaced by U+FFFD.
 *
 * Links whose URL has a scheme other than http, https, mailto and tel are
 * unwrapped to their text in both renderings, so "javascript:", "data:",
 * "vbscript:" and "file:" links never reach a mail reader, whatever
 * allow_raw_html says; links with no scheme (relative ones) are kept.
 * Images are kept only when their source is an https:// URL: a mail
 * program cannot fetch a file name ("logo.png"), a file on the author's
 * computer ("C:\..." or "file:"), a cid: part (postroom sends none),
 * and shows http:// images, if at all, as insecure.  Any other image is
 * unwrapped to its alt text.  fields.c refuses such images before a
 * campaign is saved; this is for what was saved before.
 *
 * Owns: the Markdown dialect and both renderings.  The only file that
 * includes <cmark.h>.  Does not own: templates around the body, or line
 * endings (the text is LF; the MIME layer makes it CRLF).
 */
#ifndef POSTROOM_MARKDOWN_H
#define POSTROOM_MARKDOWN_H

#include <stddef.h>

#define MARKDOWN_WIDTH	72	/* default plain-text width */

/*
 * Render len bytes of md (need not be NUL-terminated) as an HTML fragment.
 * Raw HTML in the Markdown (blocks and inline tags) is dropped without a
 * trace unless allow_raw_html, when it is passed through untouched: only
 * allow it for trusted authors.  The caller frees the result.
 */
char	*markdown_to_html(const char *md, size_t len, int allow_raw_html);

/*
 * Render md as plain text for the text/plain part, walking cmark's tree
 * (not stripping tags from HTML).  The layout:
 *
 * - paragraphs wrapped at width columns (<= 0 means MARKDOWN_WIDTH),
 *   counting UTF-8 characters (code points), never breaking inside a
 *   word: a longer word sits on a line of its own;
 * - level 1 headings underlined with '=', level 2 with '-', deeper ones
 *   kept as "### Heading" (as many '#' as the level);
 * - emphasis and strong emphasis as *words*; code spans as they are;
 * - links as "text [1]" with a "Links:" list at the end ("[1] URL"), one
 *   number per distinct URL; a link whose text is its URL (an autolink)
 *   appears once, in place, unnumbered;
 * - images as "[image: alt] [2]", the number referring to the image URL;
 * - bullet lists as "- ", ordered lists as "1. " (or "1) "), with hanging
 *   indents, nested lists indented under their item; tight lists have no
 *   blank line between items, loose lists one;
 * - block quotes prefixed "> " (wrapped within the width, nested "> > ");
 * - code blocks indented four spaces, never wrapped;
 * - thematic breaks as a line of '-' across the width;
 * - hard line breaks kept; raw HTML dropped (text between inline tags
 *   stays);
 * - one blank line between blocks, no trailing spaces, LF line ends, and a
 *   single newline at the end ("" for a document with no content).
 *
 * The caller frees the result.
 */
char	*markdown_to_text(const char *md, size_t len, int width);

/*
 * 1 when an image with this source may go in a message: an https:// URL
 * naming a server, or an http:// one on this machine (127.0.0.1,
 * localhost, [::1]: postroom tried out on one computer).
 */
int	 markdown_image_ok(const char *url);

/*
 * Every image in md as written (before anything is unwrapped), in order,
 * with the line its "![" is on: url is its source as cmark read it.  Text
 * that reads "![alt](address)" but that cmark could not read as an image
 * (a space in the address: "C:\My Pictures\a.png") is one too, with
 * broken set and url the text between "](" and ")".  Returns how many;
 * the caller frees *out with markdown_images_free().
 */
struct markdown_image {
	char		*url;
	unsigned	 line;
	int		 broken;
};
size_t	 markdown_images(const char *md, size_t len,
	    struct markdown_image **out);
void	 markdown_images_free(struct markdown_image *, size_t);

/*
 * The level (1-6) of the heading the document opens with, once raw HTML
 * is dropped (unless allow_raw_html), or 0 when its first block is not a
 * heading: a template then knows whether the author gave the body a title
 * of its own.
 */
int	 markdown_first_heading(const char *md, size_t len,
	    int allow_raw_html);

#endif
