/*
 * route.h - the routing rules: which lead an inbound message goes to, and
 * why.
 *
 * The rules are the configuration's rules = ( { ... } ) entries, compiled
 * once by router_new() (patterns, phrases) and then applied to each
 * message by router_decide().  A rule group holds:
 *
 *   name, lead     unique name; the lead matching messages go to
 *   all = ( C, ... )   conditions that must all hold
 *   any = ( C, ... )   conditions of which at least one must hold
 *   not = ( C, ... )   conditions none of which may hold
 *   region = "west"    the text points to this half of the Midlands
 *                      (region.h: system names beat places beat postcodes)
 *   keywords = ( "huddle*: 4", "analyst network: 4", "join" )
 *                      whole words or phrases, case-insensitive, with a
 *                      weight after ':' (1 when left out; a whole number,
 *                      may be negative); a trailing * matches any
 *                      ending.  Each counts once:
 *                      its weight when found in the body or an attachment
 *                      name, twice its weight when found in the subject.
 *   score = N          points the rule scores whenever its conditions hold
 *   threshold = N      the score a scoring rule needs (default 1)
 *
 * A condition C is a string:
 *
 *   PART OP VALUE      subject word 'huddle'
 *   all(C, C, ...)     any(C, ...)     not C     (C)
 *   region west        region is east
 *   automatic          mail a machine sent (autoreply_is_automatic())
 *
 * PART is one of from (the From address), from_name, reply_to, to (every
 * recipient: To, Cc, Delivered-To, X-Original-To, Envelope-To), plus (the
 * +detail of any recipient: "evaluation" for enquiries+evaluation@...),
 * subject, body, text (subject or body), header NAME (every field called
 * NAME), attachment (file names), attachment_type ("application/pdf").
 * OP is contains (case-insensitive substring), word or phrase (whole
 * words, "&" and "and" alike, a trailing * for any ending), regex (POSIX
 * extended, case-insensitive), domain (the address's domain is VALUE or
 * under it), is (the whole value, case-insensitive) or exists (no VALUE).
 * VALUE is 'quoted', "quoted" or one bare word.  (Conditions are strings,
 * not nested groups, because a rule key holds a string, a list of strings,
 * an integer or a boolean: conf.h's enum conf_rule_type.)  A part a message
 * does not have (no attachments, no such header, an empty subject)
 * matches nothing, so "not header List-Id exists" holds when there is no
 * List-Id.
 *
 * The decision, in this order:
 *   1. a scoring rule (one with keywords or score) whose conditions hold
 *      and whose score reaches its threshold: the highest score wins, the
 *      earlier rule on a tie;
 *   2. otherwise the first plain rule (no keywords, no score) whose
 *      conditions hold, in file order;
 *   3. otherwise general.default_lead.
 *
 * Text is compared after a locale-independent case fold (ASCII, Latin-1,
 * Latin Extended-A and Additional, Greek, Cyrillic, Armenian, full-width
 * Latin); only the first ROUTE_TEXT_MAX bytes of a body are read.
 *
 * Owns: the rule language (route-lang.c), the order of decision, its
 * evidence and reason (route.c), the text model (folding, words, phrases)
 * shared with the matchers and region.c (route-text.c), finding a
 * reference in a subject, and what a bounce looks like.  Does not own:
 * the operators (match-*.c), Midlands places (region.c), whether an
 * acknowledgement may go (autoreply.c), reading the configuration
 * (conf.c), acting on the decision (enquiry.c).
 *
 * Memory: a struct router points into the struct conf it was made from,
 * which must outlive it; router_free() releases it.  A struct
 * route_decision owns all its strings and arrays: route_decision_free().
 */
#ifndef POSTROOM_ROUTE_H
#define POSTROOM_ROUTE_H

#include <stddef.h>
#include <stdio.h>

struct conf;
struct conf_node;
struct message;
struct router;

#define ROUTE_TEXT_MAX		(256 * 1024)	/* body bytes read */
#define ROUTE_REFERENCE_MAX	64		/* with its NUL */

enum route_how {
	ROUTE_SCORE,	/* the best scoring rule */
	ROUTE_FIRST,	/* the first plain rule that matched */
	ROUTE_DEFAULT,	/* nothing matched: general.default_lead */
};

/* What matched, and where. */
struct route_evidence {
	char	*part;		/* "subject", "body", "from", "header List-Id",
				   "attachment", "region", "message" */
	char	*what;		/* the condition or keyword as written */
	char	*excerpt;	/* the text that matched, with a little
				   context; "" when there is none */
	double	 points;	/* a keyword's points; 0 for a condition */
};

/* How one rule fared: the winner and the runners-up. */
struct route_candidate {
	char		*rule;
	char		*lead;
	unsigned int	 line;		/* in the configuration file */
	int		 scoring;	/* has keywords or score */
	int		 conditions;	/* its conditions held */
	int		 matched;	/* ... and its score reached the
					   threshold */
	double		 score;
	double		 threshold;
	char		*why;		/* "region is west, not east", "" */
};

struct route_decision {
	char			*lead;
	char			*rule;		/* "" for ROUTE_DEFAULT */
	enum route_how		 how;
	double			 score;		/* 0 unless ROUTE_SCORE */
	char			*reason;	/* one sentence, for the forward
						   note and the log */
	struct route_evidence	*evidence;	/* the winning rule's */
	size_t			 nevidence;
	struct route_candidate	*candidates;	/* rules that matched, scored
						   or nearly did: the winner
						   first, then best first */
	size_t			 ncandidates;
	char			*region;	/* "west", "east" or "none" */
	char			*region_why;	/* region_explain(); "" */
};

/*
 * Compile conf's rules.  Returns NULL with *cause (caller frees) when a
 * rule does not compile -- conf_load() has already checked them, so that
 * means a broken invariant or a struct conf built by hand.
 */
struct router	*router_new(const struct conf *, char **cause);
void		 router_free(struct router *);

/*
 * Decide for msg.  Returns 0 with *d filled (the caller frees it with
 * route_decision_free()), or -1 with *cause when a matcher could not
 * answer (try the message again later).  A message the parser could not
 * read (MESSAGE_FAILED) is decided on what it has.
 */
int		 router_decide(struct router *, const struct message *,
		     struct route_decision *d, char **cause);

/* router_new() + router_decide() + router_free(), for one message. */
int		 route_decide(const struct conf *, const struct message *,
		     struct route_decision *d, char **cause);

/* The decision for a person: lead, rule, reason, evidence, runners-up. */
void		 route_explain(const struct route_decision *, FILE *);
void		 route_decision_free(struct route_decision *);

/*
 * A reference such as ENQ-2026-00042 in msg's subject (with or without
 * [ ], prefix matched case-insensitively, written back as given): 1 and
 * the reference in buf, or 0 when there is none (or it does not fit).
 */
int		 route_find_reference(const struct message *,
		     const char *prefix, char *buf, size_t size);

/*
 * 1 when msg is a bounce, not an enquiry: a multipart/report, mail from
 * MAILER-DAEMON, or mail to a VERP return path (bounces+...@ the
 * general.domain of conf, or any domain when conf is NULL).
 */
int		 route_is_bounce(const struct conf *, const struct message *);

/*
 * conf-table.c's checks of rule values (they return -1 with *cause, which
 * the caller frees): a condition list, a keyword list, a region name, a
 * score and a threshold.
 */
int		 route_check_conditions(const struct conf_node *, char **);
int		 route_check_keywords(const struct conf_node *, char **);
int		 route_check_region(const struct conf_node *, char **);
int		 route_check_score(const struct conf_node *, char **);
int		 route_check_threshold(const struct conf_node *, char **);

/* --- the text model (route-text.c), for the matchers and region.c ----- */

/* A word of a text: bytes [off, off + len) of both s and fold. */
struct route_word {
	size_t	off;
	size_t	len;
};

/*
 * A text prepared for matching.  fold is s case-folded, byte for byte the
 * same length (only letters whose folded form has the same UTF-8 length
 * are folded), so offsets into fold are offsets into s.  Words are runs
 * of letters and digits; "&" is a word of its own.
 */
struct route_text {
	const char		*s;	/* not owned */
	size_t			 len;
	char			*fold;	/* NUL-terminated */
	struct route_word	*words;
	size_t			 nwords;
};

void	 route_text_init(struct route_text *, const char *s, size_t len);
void	 route_text_free(struct route_text *);
/* Fold s[0..len) into out (len bytes, not terminated). */
void	 route_fold(const char *s, size_t len, char *out);

/* Words to find in sequence; the last may match any ending. */
struct route_phrase {
	char			*src;	/* as written, folded */
	struct route_text	 t;
	int			 prefix;	/* written with a trailing * */
};

/* 0, or -1 with *cause when s holds no word. */
int	 route_phrase_init(struct route_phrase *, const char *s,
	     char **cause);
void	 route_phrase_free(struct route_phrase *);
/*
 * The first occurrence in t at or after word index from: 1 with the
 * word index in *at and the byte span in *off, *len; else 0.
 */
int	 route_phrase_find(const struct route_phrase *,
	     const struct route_text *, size_t from, size_t *at,
	     size_t *off, size_t *len);

/*
 * The matchers: one file each (match-contains.c, match-word.c,
 * match-regex.c, match-domain.c, match-is.c, match-exists.c).  compile()
 * turns VALUE into private data (0, or -1 with *cause); match() returns
 * 1 (match, with the matched span of t in *off, *len), 0 (no match) or
 * -1 (cannot tell now: try later, with *cause).
 */
struct match_ops {
	const char	*name;
	int		 takes_value;
	int		(*compile)(const char *value, void **data,
			    char **cause);
	int		(*match)(const void *data, const struct route_text *,
			    size_t *off, size_t *len, char **cause);
	void		(*free)(void *data);
};

extern const struct match_ops	match_contains_ops;
extern const struct match_ops	match_word_ops;
extern const struct match_ops	match_regex_ops;
extern const struct match_ops	match_domain_ops;
extern const struct match_ops	match_is_ops;
extern const struct match_ops	match_exists_ops;

#endif
