/*
 * conf.h - postroom's configuration: the settings table, the loaded
 * configuration and how to load, check and print it.
 *
 * Every scalar setting is one row of conf_settings[] (conf-table.c): its
 * name ("section.key"), type, default, range or choices, and one line of
 * help.  conf_load() reads a libconfig file, applies -o NAME=VALUE
 * overrides, checks everything and returns a new struct conf, or NULL with
 * EVERY problem in a struct conf_errors ("FILE:LINE: what is wrong and what
 * was expected", "-o NAME: what is wrong").  It touches no globals and no
 * file but the configuration itself, so SIGHUP can load a new one beside
 * the old.  The rest of postroom sees only these plain structs: libconfig is
 * included by conf.c alone.
 *
 * Memory: a struct conf owns every string, array and node inside it;
 * conf_free() releases the lot.  Pointers from conf_lead_find() and friends
 * live as long as the struct conf.  The caller frees a struct conf_errors
 * with conf_errors_free(), whether or not the load succeeded.
 */
#ifndef POSTROOM_CONF_H
#define POSTROOM_CONF_H

#include <stddef.h>
#include <stdio.h>

/* Where a file is looked for when neither -c nor $POSTROOM_CONFIG is set. */
#define CONF_DEFAULT_PATH	"/etc/postroom/postroom.conf"

enum conf_starttls {
	CONF_STARTTLS_REQUIRED,
	CONF_STARTTLS_OPTIONAL,	/* smtp only */
	CONF_STARTTLS_OFF,
};

enum conf_source {
	CONF_SOURCE_IMAP,
	CONF_SOURCE_MAILDIR,
	CONF_SOURCE_NONE,	/* only the MTA pipe ("postroom deliver") */
};

enum conf_digest_period {
	CONF_DIGEST_NONE,
	CONF_DIGEST_DAILY,
	CONF_DIGEST_WEEKLY,
	CONF_DIGEST_MONTHLY,
};

/*
 * A lead: someone enquiries are forwarded to.  Every address receives the
 * forward (evaluation_network and general have two).
 */
struct conf_lead {
	char		 *key;		/* "west_dsu": [a-z0-9_]+ */
	char		 *name;		/* display name; the key when unset */
	char		**addresses;	/* naddresses >= 1, each local@domain */
	size_t		  naddresses;
	unsigned int	  line;
};

/* A mailing list (newsletters go to one list's subscribers). */
struct conf_list {
	char		*slug;		/* "news": [a-z0-9-]+, unique */
	char		*name;		/* "Midlands Decision Support Network news" */
	char		*from;		/* From: address, required */
	char		*reply_to;	/* "" when unset */
	char		*description;	/* "" when unset; may hold newlines */
	int		 allow_html;	/* raw HTML allowed in the Markdown */
	enum conf_digest_period digest;	/* period for digest-mode subscribers */
	int		 digest_day;	/* weekly: 0 sunday .. 6 saturday */
	int		 digest_time;	/* minutes after midnight; digest.time */
	unsigned int	 line;
};

/*
 * A generic, read-only tree of the values in a rule group, so that route.c
 * can read rule conditions without libconfig.  Lists and arrays are both
 * CONF_NODE_LIST; their children have no name.
 */
enum conf_node_type {
	CONF_NODE_STRING,
	CONF_NODE_INT,
	CONF_NODE_FLOAT,
	CONF_NODE_BOOL,
	CONF_NODE_GROUP,
	CONF_NODE_LIST,
};

struct conf_node {
	char			*name;		/* NULL for list elements */
	enum conf_node_type	 type;
	unsigned int		 line;
	char			*str;		/* CONF_NODE_STRING */
	long long		 num;		/* CONF_NODE_INT, CONF_NODE_BOOL */
	double			 fnum;		/* CONF_NODE_FLOAT */
	struct conf_node	*children;	/* GROUP, LIST */
	size_t			 nchildren;
};

/* A routing rule, in file order (route.h says how the winner is chosen). */
struct conf_rule {
	char			*name;		/* unique */
	char			*lead;		/* a key of a struct conf_lead */
	unsigned int		 line;
	struct conf_node	*node;		/* the whole rule group */
};

/*
 * The effective configuration.  Strings are never NULL ("" when unset).
 * Ints are already range-checked; times are minutes after midnight.
 */
struct conf {
	char		*path;		/* the file read; NULL for defaults */
	/*
	 * Why general.templates is not what was configured (the binary
	 * runs from a source tree and the configured directory does not
	 * exist), or NULL.
	 */
	char		*templates_note;

	struct conf_general {
		char	*database;
		char	*templates;
		char	*base_url;	/* no trailing '/' */
		char	*secret_file;
		char	*from_name;
		char	*from_address;
		char	*domain;	/* from_address's domain when unset */
		char	*default_lead;	/* exists in leads (when any) */
		char	*log_level;	/* error|warn|info|debug */
		char	*reference_prefix;
		char	*timezone;
	} general;

	struct conf_smtp {
		char	*url;		/* smtp://, smtps:// or maildir:PATH */
		enum conf_starttls starttls;
		int	 verify_cert;
		char	*user;
		char	*password;	/* inline; see password_file */
		char	*password_file;	/* read with conf_read_secret() */
		int	 concurrency;
		int	 rate_per_second;	/* 0: unlimited */
		int	 rate_per_hour;		/* 0: unlimited */
		int	 connect_timeout;	/* seconds */
		int	 timeout;		/* seconds */
		int	 max_retry_age;		/* seconds */
		int	 failure_pause_count;
		int	 failure_pause_percent;
		int	 bounce_threshold;	/* hard bounces */
	} smtp;

	struct conf_inbound {
		enum conf_source source;
		char	*maildir;
		char	*imap_url;	/* imap:// or imaps://; set for imap */
		char	*imap_user;
		char	*password;
		char	*password_file;
		char	*mailbox;
		char	*routed_folder;	/* "": flag the message, do not move */
		/*
		 * The inbox's addresses, comma-separated ("": not known):
		 * mail that names none of them (nor general.from_address)
		 * in To or Cc gets no acknowledgement (autoreply.c).
		 */
		char	*addresses;
		enum conf_starttls starttls;	/* required or off */
		int	 verify_cert;
		char	*ca_file;	/* "": the system's CA store */
		int	 idle_timeout;	/* seconds in one IDLE */
		int	 timeout;	/* seconds; IMAP network timeout */
		int	 max_message_size;	/* bytes */
		int	 max_depth;
		int	 max_parts;
		int	 poll_interval;		/* seconds */
	} inbound;

	struct conf_digest {
		int	 leads;		/* send leads their daily summary */
		int	 send_empty;
		int	 time;		/* minutes after midnight */
	} digest;

	struct conf_enquiry {
		int	 acks_per_hour;	/* all senders; 0: unlimited */
	} enquiry;

	struct conf_web {
		char	*listen;	/* HOST:PORT */
		int	 subscribe_per_hour;	/* per client; 0: unlimited */
		int	 pending_days;	/* unconfirmed sign-ups kept; 0: ever */
		int	 confirmations_per_hour; /* all clients; 0: unlimited */
		int	 request_timeout;	/* seconds for a whole request */
	} web;

	struct conf_console {
		char	*listen;	/* HOST:PORT; "" for no console */
		char	*base_url;	/* http(s)://HOST[:PORT] */
		int	 admin_totp;	/* admins must use a second factor */
		int	 send_approval;	/* a second person approves sends */
		int	 image_max_kb;	/* the biggest image staff upload */
	} console;

	struct conf_lead	*leads;
	size_t			 nleads;	/* 0 only with no leads section */
	struct conf_list	*lists;
	size_t			 nlists;
	struct conf_rule	*rules;
	size_t			 nrules;
};

/*
 * Every problem found by one conf_load(), in file order then -o order, each
 * a whole line to log as it is.  Freed with conf_errors_free().
 */
struct conf_errors {
	char	**msgs;
	size_t	  n;
};

/*
 * The settings table (conf-table.c).  A default is text, parsed exactly
 * like a -o value, so that defaults are checked by the same code.
 */
enum conf_type {
	CONF_STRING,	/* char *; choices, when set, lists the valid ones */
	CONF_INT,	/* int, min..max */
	CONF_BOOL,	/* int, 0 or 1 */
	CONF_ENUM,	/* an enum, one of choices */
	CONF_TIME,	/* int, "HH:MM" as minutes after midnight */
};

/* What a string must look like, beyond holding no control characters. */
enum conf_shape {
	CONF_SHAPE_ANY,
	CONF_SHAPE_ADDRESS,	/* local@domain.tld */
	CONF_SHAPE_DOMAIN,	/* example.org */
	CONF_SHAPE_SMTP_URL,	/* smtp://HOST, smtps://HOST, maildir:PATH */
	CONF_SHAPE_IMAP_URL,	/* imap://HOST, imaps://HOST */
	CONF_SHAPE_HTTP_URL,	/* http://HOST, https://HOST */
	CONF_SHAPE_LISTEN,	/* HOST:PORT, [v6]:PORT */
	CONF_SHAPE_KEY,		/* [a-z0-9_]+ (lead keys) */
	CONF_SHAPE_SLUG,	/* [a-z0-9-]+ (list slugs) */
	CONF_SHAPE_TOKEN,	/* [A-Za-z0-9]+ */
	CONF_SHAPE_TEXT,	/* newlines and tabs allowed */
	CONF_SHAPE_ZONE,	/* Europe/London: in the zoneinfo database */
};

#define CONF_F_SECRET	0x1	/* masked by conf_dump, refused by -o */
#define CONF_F_EMPTY	0x2	/* "" is allowed (shapes are not checked) */
#define CONF_F_REQUIRED	0x4	/* list and rule keys: must be given */

struct conf_choice {
	const char	*name;
	int		 value;
};

struct conf_setting {
	const char		 *name;		/* "smtp.concurrency" */
	enum conf_type		  type;
	int			  flags;
	enum conf_shape		  shape;	/* CONF_STRING */
	const char		 *def;		/* NULL: unset (NULL or -1) */
	long long		  min;		/* CONF_INT */
	long long		  max;
	const struct conf_choice *choices;	/* NULL-terminated */
	size_t			  offset;	/* into struct conf or conf_list */
	const char		 *help;
};

extern const struct conf_setting	conf_settings[];	/* NULL-ended */
/* The keys of one lists = ( { ... } ) entry; offsets into conf_list. */
extern const struct conf_setting	conf_list_settings[];

/*
 * The keys a rule group may hold.  Adding a rule condition is one row here
 * (and its matcher in route.c); any other key is reported as unknown.
 * check, when set, vets the value (e.g. compiles a pattern): it returns -1
 * with *cause set (the caller frees it) for a bad one.
 */
enum conf_rule_type {
	CONF_RULE_STRING,
	CONF_RULE_STRINGS,	/* a string or a list of strings */
	CONF_RULE_INT,
	CONF_RULE_BOOL,
};

struct conf_rule_key {
	const char		*name;
	enum conf_rule_type	 type;
	int			 flags;		/* CONF_F_REQUIRED */
	int			(*check)(const struct conf_node *, char **);
	const char		*help;
};

extern const struct conf_rule_key	conf_rule_keys[];	/* NULL-ended */

/* cli_path, else $POSTROOM_CONFIG, else CONF_DEFAULT_PATH. */
const char	*conf_default_path(const char *cli_path);

/*
 * Load path (NULL: embedded defaults only) and the overrides, each
 * "section.key=value".  Returns a new struct conf, or NULL with errs->n > 0.
 * errs must be zeroed by the caller ({ 0 }).
 */
struct conf	*conf_load(const char *path, char *const *overrides,
		    size_t noverrides, struct conf_errors *errs);
void		 conf_free(struct conf *);
void		 conf_errors_free(struct conf_errors *);

/* Print every effective setting, one "name = value" a line, secrets masked. */
void		 conf_dump(const struct conf *, FILE *);
/* Print the settings table: name, type, default, range and help. */
void		 conf_help(FILE *);

const struct conf_lead	*conf_lead_find(const struct conf *, const char *key);
const struct conf_lead	*conf_lead_default(const struct conf *);
const struct conf_list	*conf_list_find(const struct conf *, const char *slug);
const struct conf_rule	*conf_rule_find(const struct conf *, const char *name);
/* The value of key in a rule, or NULL when the rule does not set it. */
const struct conf_node	*conf_rule_get(const struct conf_rule *,
			    const char *key);
/* A group node's child called name, or NULL. */
const struct conf_node	*conf_node_child(const struct conf_node *,
			    const char *name);

/*
 * Read the first line of a secret file (a password, a key) into *out (the
 * caller frees it).  Refuses a file group or others can read, saying which
 * mode to set, and an empty one.  Returns 0, or -1 with *cause set.
 */
int		 conf_read_secret(const char *path, char **out, char **cause);

#endif
