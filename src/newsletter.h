/*
 * newsletter.h - one campaign message for one subscriber, byte by byte.
 *
 * Prepare once, render many: newsletter_prepare() reads and parses the
 * campaign's templates (general.templates/NAME.html and NAME.txt), renders
 * the Markdown body once to HTML and to text, and builds everything that
 * is the same for every recipient.  newsletter_render() then writes one
 * subscriber's whole message (multipart/alternative, text/plain then
 * text/html, through mime-build.c) and hands back its VERP envelope
 * sender.  A struct newsletter is not shared between threads: give each
 * thread its own (renders change the merge data in place).
 *
 * Merge fields (Mustache data) in the subject, the body and the templates:
 * the ones fields_table[] (fields.h) documents, built here; a test holds
 * the two to each other.  Notes on some:
 *	subscriber.KEY: each attribute, unless KEY is name, email or attrs
 *	(subscriber.attrs.KEY has them all);
 *	campaign.date ("22 November 2026"): the day the campaign started,
 *	or of now when it has not, in the process's local time, so programs
 *	set TZ from general.timezone at start-up;
 *	unsubscribe_url, preferences_url, archive_url: a test copy's
 *	are its own (see below);
 *	body_html, body_text: the rendered body, inserted raw by the
 *	templates with {{{body_html}}} and {{{body_text}}};
 *	body_heading: true when the body opens with a level-1 heading, so
 *	that a template shows the subject as the title only when the author
 *	gave none ({{^body_heading}}<h1>...</h1>{{/body_heading}}).
 * In the subject and body (not the templates around them) a name that
 * matches no key exactly matches one in another ASCII case
 * (template_set_nocase()): {{subscriber.organisation}} is filled from a
 * CSV column "Organisation".  A field a subscriber lacks renders empty.
 *
 * Merge fields in the Markdown body.  The body is rendered as Markdown
 * ONCE, with every Mustache tag first swapped for an inert placeholder
 * word that cmark leaves alone, and the tags are put back into the HTML
 * and the text it produced; those two become Mustache templates rendered
 * per subscriber.  So the Markdown parse is paid once per campaign, not
 * per recipient, and a value from data is never read as Markdown or HTML:
 * a name like "*[x](javascript:...)*" comes out as those characters,
 * HTML-escaped in the HTML part.  To keep that promise {{{name}}} and
 * {{& name}} are escaped like {{name}} in the HTML body (the text part has
 * no escaping anyway); partials and set-delimiter tags are refused in a
 * body, and so is a merge field before the scheme of a link's URL
 * ("[x]({{subscriber.site}})"), which would let data choose the scheme.
 * The price: the text part is wrapped at 72 columns once, counting each
 * merge field as wide as the sample subscriber's value (12 columns when
 * it has none), so a longer value makes its line longer and a section
 * that renders as nothing leaves a short line (never beyond what MIME
 * allows).
 *
 * Tokens (token.h), never an email address, in every link:
 *	unsubscribe: purpose unsubscribe, the list and campaign, NO expiry -
 *	    leaving a list is never harmful to honour and people unsubscribe
 *	    from mail that is years old;
 *	preferences: the list, expiring one year after the render;
 *	VERP bounce: subscriber and campaign (no list, to stay short),
 *	    expiring 180 days after the render; the envelope sender is
 *	    "bounces+TOKEN@general.domain";
 *	the List-Unsubscribe mailto is "unsubscribe+TOKEN@general.domain"
 *	    with an unsubscribe token that has NO list (the campaign names
 *	    it), so that the local part stays within 64 octets.
 *
 * A test copy (newsletter_render_test()) changes nobody's subscription,
 * whoever it goes to: its unsubscribe, preferences and "read this
 * online" links, and its List-Unsubscribe, carry one token of purpose
 * test copy naming the campaign and no subscriber, expiring
 * NEWSLETTER_TEST_EXPIRY after the render, and lead to
 * base_url/test-unsubscribe/TOKEN, /test-preferences/TOKEN (pages that
 * say it was a test copy and change nothing) and /test-copy/TOKEN (the
 * campaign as it stands, for whoever holds the link).  Its VERP return
 * path is the usual one: a bounce is about the address, test or not.
 *
 * Headers, in order: From (the list's from, the list's name as display
 * name), Reply-To (when the list has one), To, Subject, Date, Message-ID
 * (random, on general.domain), List-Id ("Name <slug.domain>"),
 * List-Unsubscribe, List-Unsubscribe-Post (RFC 8058 one-click),
 * List-Help, then MIME-Version and the Content-* headers.  No Precedence
 * or Auto-Submitted.  Header values are cleaned by mime-header.c: a CR or
 * LF from data can never start a header line.
 *
 * Errors: -1 with *cause (the caller frees it).  Ownership: the caller
 * frees a struct newsletter with newsletter_free(), *mail_from with
 * free(), and a struct newsletter_parts with newsletter_parts_clear().
 */
#ifndef POSTROOM_NEWSLETTER_H
#define POSTROOM_NEWSLETTER_H

#include <stddef.h>
#include <time.h>

#include "token.h"

struct buf;
struct conf;
struct store_campaign;
struct store_subscriber;
struct newsletter;

#define NEWSLETTER_MAX_MESSAGE	(16 * 1024 * 1024)	/* one rendered message */
#define NEWSLETTER_TEST_PREFIX	"[TEST] "
#define NEWSLETTER_UNSUB_EXPIRY	(365 * 24 * 3600)	/* seconds */
#define NEWSLETTER_PREFS_EXPIRY	(365 * 24 * 3600)	/* seconds */
#define NEWSLETTER_VERP_EXPIRY	(180 * 24 * 3600)	/* seconds */
#define NEWSLETTER_TEST_EXPIRY	(30 * 24 * 3600)	/* seconds */

struct token_signer;

/*
 * One recipient's signed links and addresses in list mail (a newsletter,
 * a digest): the unsubscribe and preferences URLs under base_url naming
 * the list slug, the mailto unsubscribe address and the VERP return path
 * (bounces+TOKEN) on domain.  Every token carries campaign but the
 * mailto's, which carries mailto_campaign: it has no room for the slug,
 * so its campaign names the list.  Each is made at now and signed with
 * the subscriber's salt (store_subscriber.token_salt).  The unsubscribe
 * tokens last NEWSLETTER_UNSUB_EXPIRY, a year.  0, or -1 with *cause.
 * The caller frees the strings with newsletter_links_free().
 */
struct newsletter_links {
	char	*unsubscribe_url;
	char	*unsubscribe_mailto;
	char	*preferences_url;
	char	*mail_from;
	char	*archive_url;	/* a test copy's own; else NULL */
};

int	newsletter_links_make(struct token_signer *, const char *base_url,
	    const char *domain, const char *slug, int64_t subscriber,
	    const unsigned char salt[TOKEN_SALT_LEN], int64_t campaign,
	    int64_t mailto_campaign, time_t now, struct newsletter_links *,
	    char **cause);
/*
 * The links of a test copy of campaign (see above): the same fields, and
 * archive_url; the VERP return path names subscriber.
 */
int	newsletter_links_test(struct token_signer *, const char *base_url,
	    const char *domain, int64_t subscriber,
	    const unsigned char salt[TOKEN_SALT_LEN], int64_t campaign,
	    time_t now, struct newsletter_links *, char **cause);
void	newsletter_links_free(struct newsletter_links *);
/*
 * The Message-ID for a message with links l: "<random.TOKEN@domain>",
 * where TOKEN is l's VERP token (the subscriber and campaign, signed), so
 * that a delivery report quoting it can be matched to the person it was
 * sent to (enquiry.c) even when it came back to another address.
 */
char	*newsletter_message_id(const struct newsletter_links *l,
	    const char *domain);

/*
 * The List-Id value (RFC 2919) for a list: "phrase <slug.domain>".  An
 * ASCII name goes as atoms or a quoted string; a name with non-ASCII
 * goes as unstructured text (*text = 1), so that mime_msg_header() turns
 * its words into encoded words and leaves <slug.domain> alone; else
 * *text = 0 and it goes with mime_msg_header_raw().  The caller frees it.
 */
char	*newsletter_list_id(const char *name, const char *slug,
	    const char *domain, int *text);

/* The subscriber a preview uses when none is named. */
#define NEWSLETTER_SAMPLE_NAME	"Sample Subscriber"
#define NEWSLETTER_SAMPLE_EMAIL	"subscriber@example.org"

/*
 * Everything the same for every recipient of campaign c: its list must be
 * in conf, its template pair must exist and parse, and its subject and
 * body must be valid Mustache (and the body valid for a newsletter, see
 * above).  key signs the tokens; it is copied.  NULL with *cause (saying
 * which file or part is wrong) on failure.
 */
struct newsletter *newsletter_prepare(const struct conf *,
		    const struct store_campaign *c,
		    const unsigned char key[TOKEN_KEY_LEN], char **cause);
/*
 * newsletter_prepare() with a throw-away key and a trial render for the
 * sample subscriber: 0, or -1 with *cause.
 */
int		 newsletter_check(const struct conf *,
		    const struct store_campaign *c, char **cause);
void		 newsletter_free(struct newsletter *);	/* NULL is fine */

/*
 * Append subscriber s's whole message, at time now, to out (its cap
 * applies; NEWSLETTER_MAX_MESSAGE is a sensible one) and set *mail_from to
 * the VERP envelope sender.  -1 with *cause for an address mime-build
 * cannot write (not ASCII, not local@domain) or a template limit; out may
 * then hold part of a message and *mail_from is NULL.
 */
int		 newsletter_render(struct newsletter *,
		    const struct store_subscriber *s, time_t now,
		    struct buf *out, char **mail_from, char **cause);
/*
 * The same as a test copy: the subject starts NEWSLETTER_TEST_PREFIX and
 * the links are a test copy's (above).
 */
int		 newsletter_render_test(struct newsletter *,
		    const struct store_subscriber *s, time_t now,
		    struct buf *out, char **mail_from, char **cause);

/*
 * The decoded pieces of what newsletter_render() would write: the subject
 * as rendered, the text part and the HTML part (UTF-8, LF line ends, before
 * MIME encoding).  For previews and tests.
 */
struct newsletter_parts {
	char	*subject;
	char	*text;
	char	*html;
	int	 body_heading;	/* the body opens with a "# heading" */
};
int		 newsletter_render_parts(struct newsletter *,
		    const struct store_subscriber *s, time_t now,
		    struct newsletter_parts *, char **cause);
/* The same with a test copy's links (a preview: they change nothing). */
int		 newsletter_render_parts_test(struct newsletter *,
		    const struct store_subscriber *s, time_t now,
		    struct newsletter_parts *, char **cause);
void		 newsletter_parts_clear(struct newsletter_parts *);

/*
 * The sample subscriber of a preview: NEWSLETTER_SAMPLE_NAME,
 * NEWSLETTER_SAMPLE_EMAIL, id 0, no attributes.  Its strings are static:
 * do not clear it.
 */
const struct store_subscriber *newsletter_sample(void);

#endif
