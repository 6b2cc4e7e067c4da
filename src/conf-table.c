/*
 * conf-table.c - every setting postroom has: name, type, default, range or
 * choices, and one line of help (after tmux's options-table.c).
 *
 * Owns: the names, defaults and limits.  Adding a setting is one row here
 * and one field in struct conf (conf.h).  Does not own: reading the file
 * (conf.c) or checking values against these rows (conf-check.c), nor what
 * the settings mean at run time (their users).
 */
#include <stddef.h>

#include "conf.h"
#include "route.h"

#ifndef POSTROOM_TEMPLATEDIR
#define POSTROOM_TEMPLATEDIR "/usr/local/share/postroom/templates"
#endif

static const struct conf_choice conf_choices_log_level[] = {
	{ "error", 0 }, { "warn", 0 }, { "info", 0 }, { "debug", 0 },
	{ NULL, 0 }
};

static const struct conf_choice conf_choices_smtp_starttls[] = {
	{ "required", CONF_STARTTLS_REQUIRED },
	{ "optional", CONF_STARTTLS_OPTIONAL },
	{ "off", CONF_STARTTLS_OFF },
	{ NULL, 0 }
};

static const struct conf_choice conf_choices_imap_starttls[] = {
	{ "required", CONF_STARTTLS_REQUIRED },
	{ "off", CONF_STARTTLS_OFF },
	{ NULL, 0 }
};

static const struct conf_choice conf_choices_source[] = {
	{ "imap", CONF_SOURCE_IMAP },
	{ "maildir", CONF_SOURCE_MAILDIR },
	{ "none", CONF_SOURCE_NONE },
	{ NULL, 0 }
};

static const struct conf_choice conf_choices_digest[] = {
	{ "none", CONF_DIGEST_NONE },
	{ "daily", CONF_DIGEST_DAILY },
	{ "weekly", CONF_DIGEST_WEEKLY },
	{ "monthly", CONF_DIGEST_MONTHLY },
	{ NULL, 0 }
};

static const struct conf_choice conf_choices_weekday[] = {
	{ "sunday", 0 }, { "monday", 1 }, { "tuesday", 2 }, { "wednesday", 3 },
	{ "thursday", 4 }, { "friday", 5 }, { "saturday", 6 },
	{ NULL, 0 }
};

#define S(f)	offsetof(struct conf, f)
#define L(f)	offsetof(struct conf_list, f)
#define DAY	86400LL

const struct conf_setting conf_settings[] = {
	/* general */
	{ "general.database", CONF_STRING, 0, CONF_SHAPE_ANY,
	  "var/postroom.db", 0, 0, NULL, S(general.database),
	  "SQLite database holding all state" },
	{ "general.templates", CONF_STRING, 0, CONF_SHAPE_ANY,
	  POSTROOM_TEMPLATEDIR, 0, 0, NULL, S(general.templates),
	  "directory of message and page templates" },
	{ "general.base_url", CONF_STRING, 0, CONF_SHAPE_HTTP_URL,
	  "http://127.0.0.1:8025", 0, 0, NULL, S(general.base_url),
	  "public URL of postroomd's web pages, used in links in mail" },
	{ "general.secret_file", CONF_STRING, 0, CONF_SHAPE_ANY,
	  "var/secret.key", 0, 0, NULL, S(general.secret_file),
	  "file holding the key that signs links (mode 600)" },
	{ "general.from_name", CONF_STRING, CONF_F_EMPTY, CONF_SHAPE_ANY,
	  "Midlands Decision Support Network", 0, 0, NULL,
	  S(general.from_name),
	  "display name on mail postroom sends as itself" },
	{ "general.from_address", CONF_STRING, 0, CONF_SHAPE_ADDRESS,
	  "enquiries@example.org", 0, 0, NULL, S(general.from_address),
	  "address postroom sends acknowledgements and digests from" },
	{ "general.domain", CONF_STRING, CONF_F_EMPTY, CONF_SHAPE_DOMAIN,
	  "", 0, 0, NULL, S(general.domain),
	  "domain for Message-IDs and VERP; from_address's when empty" },
	{ "general.default_lead", CONF_STRING, 0, CONF_SHAPE_KEY,
	  "general", 0, 0, NULL, S(general.default_lead),
	  "lead that gets enquiries no rule matches" },
	{ "general.log_level", CONF_STRING, 0, CONF_SHAPE_ANY,
	  "info", 0, 0, conf_choices_log_level, S(general.log_level),
	  "least important messages logged" },
	{ "general.reference_prefix", CONF_STRING, 0, CONF_SHAPE_TOKEN,
	  "ENQ", 0, 0, NULL, S(general.reference_prefix),
	  "prefix of enquiry reference numbers (ENQ-2024-000123)" },
	{ "general.timezone", CONF_STRING, 0, CONF_SHAPE_ZONE,
	  "Europe/London", 0, 0, NULL, S(general.timezone),
	  "time zone for schedules and digest times" },

	/* smtp */
	{ "smtp.url", CONF_STRING, 0, CONF_SHAPE_SMTP_URL,
	  "maildir:var/outbox", 0, 0, NULL, S(smtp.url),
	  "where mail goes: smtp://HOST:PORT, smtps://HOST:PORT or "
	  "maildir:PATH" },
	{ "smtp.starttls", CONF_ENUM, 0, CONF_SHAPE_ANY,
	  "required", 0, 0, conf_choices_smtp_starttls, S(smtp.starttls),
	  "STARTTLS on smtp:// URLs" },
	{ "smtp.verify_cert", CONF_BOOL, 0, CONF_SHAPE_ANY,
	  "true", 0, 0, NULL, S(smtp.verify_cert),
	  "check the server's certificate and name" },
	{ "smtp.user", CONF_STRING, CONF_F_EMPTY, CONF_SHAPE_ANY,
	  "", 0, 0, NULL, S(smtp.user),
	  "user to authenticate as; empty for none" },
	{ "smtp.password", CONF_STRING, CONF_F_EMPTY | CONF_F_SECRET,
	  CONF_SHAPE_ANY, "", 0, 0, NULL, S(smtp.password),
	  "password inline (the file must then be mode 600); "
	  "prefer password_file" },
	{ "smtp.password_file", CONF_STRING, CONF_F_EMPTY, CONF_SHAPE_ANY,
	  "", 0, 0, NULL, S(smtp.password_file),
	  "file whose first line is the password (mode 600)" },
	{ "smtp.concurrency", CONF_INT, 0, CONF_SHAPE_ANY,
	  "4", 1, 100, NULL, S(smtp.concurrency),
	  "SMTP connections used at once" },
	{ "smtp.rate_per_second", CONF_INT, 0, CONF_SHAPE_ANY,
	  "20", 0, 100000, NULL, S(smtp.rate_per_second),
	  "messages sent per second at most; 0 for no limit" },
	{ "smtp.rate_per_hour", CONF_INT, 0, CONF_SHAPE_ANY,
	  "0", 0, 100000000, NULL, S(smtp.rate_per_hour),
	  "messages sent per hour at most; 0 for no limit" },
	{ "smtp.connect_timeout", CONF_INT, 0, CONF_SHAPE_ANY,
	  "30", 1, 600, NULL, S(smtp.connect_timeout),
	  "seconds to wait for a connection" },
	{ "smtp.timeout", CONF_INT, 0, CONF_SHAPE_ANY,
	  "120", 1, 3600, NULL, S(smtp.timeout),
	  "seconds one SMTP transaction may take" },
	{ "smtp.max_retry_age", CONF_INT, 0, CONF_SHAPE_ANY,
	  "259200", 60, 30 * DAY, NULL, S(smtp.max_retry_age),
	  "seconds a message is retried before it is given up" },
	{ "smtp.failure_pause_count", CONF_INT, 0, CONF_SHAPE_ANY,
	  "1000", 0, 100000000, NULL, S(smtp.failure_pause_count),
	  "pause a campaign once this many deliveries failed "
	  "(and failure_pause_percent); 0 never" },
	{ "smtp.failure_pause_percent", CONF_INT, 0, CONF_SHAPE_ANY,
	  "5", 0, 100, NULL, S(smtp.failure_pause_percent),
	  "... and they are at least this percent of those tried" },
	{ "smtp.bounce_threshold", CONF_INT, 0, CONF_SHAPE_ANY,
	  "3", 1, 1000, NULL, S(smtp.bounce_threshold),
	  "hard bounces (in 90 days) after which an address is marked "
	  "bounced on every list and no longer mailed" },

	/* inbound */
	{ "inbound.source", CONF_ENUM, 0, CONF_SHAPE_ANY,
	  "maildir", 0, 0, conf_choices_source, S(inbound.source),
	  "where enquiries are picked up: imap, maildir or none "
	  "(MTA pipe only)" },
	{ "inbound.maildir", CONF_STRING, 0, CONF_SHAPE_ANY,
	  "var/inbox", 0, 0, NULL, S(inbound.maildir),
	  "Maildir read when source is maildir" },
	{ "inbound.imap_url", CONF_STRING, CONF_F_EMPTY, CONF_SHAPE_IMAP_URL,
	  "", 0, 0, NULL, S(inbound.imap_url),
	  "server when source is imap: imap://HOST:PORT or imaps://HOST:PORT" },
	{ "inbound.imap_user", CONF_STRING, CONF_F_EMPTY, CONF_SHAPE_ANY,
	  "", 0, 0, NULL, S(inbound.imap_user),
	  "IMAP user" },
	{ "inbound.password", CONF_STRING, CONF_F_EMPTY | CONF_F_SECRET,
	  CONF_SHAPE_ANY, "", 0, 0, NULL, S(inbound.password),
	  "IMAP password inline (the file must then be mode 600); "
	  "prefer password_file" },
	{ "inbound.password_file", CONF_STRING, CONF_F_EMPTY, CONF_SHAPE_ANY,
	  "", 0, 0, NULL, S(inbound.password_file),
	  "file whose first line is the IMAP password (mode 600)" },
	{ "inbound.mailbox", CONF_STRING, 0, CONF_SHAPE_ANY,
	  "INBOX", 0, 0, NULL, S(inbound.mailbox),
	  "IMAP mailbox enquiries arrive in" },
	{ "inbound.routed_folder", CONF_STRING, CONF_F_EMPTY, CONF_SHAPE_ANY,
	  "Routed", 0, 0, NULL, S(inbound.routed_folder),
	  "IMAP folder routed mail is moved to; empty to flag it only" },
	{ "inbound.addresses", CONF_STRING, CONF_F_EMPTY, CONF_SHAPE_ANY,
	  "", 0, 0, NULL, S(inbound.addresses),
	  "the inbox's addresses, comma-separated: mail naming none of them "
	  "(nor general.from_address) in To or Cc is not acknowledged" },
	{ "inbound.starttls", CONF_ENUM, 0, CONF_SHAPE_ANY,
	  "required", 0, 0, conf_choices_imap_starttls, S(inbound.starttls),
	  "STARTTLS on imap:// URLs" },
	{ "inbound.verify_cert", CONF_BOOL, 0, CONF_SHAPE_ANY,
	  "true", 0, 0, NULL, S(inbound.verify_cert),
	  "check the IMAP server's certificate and name" },
	{ "inbound.ca_file", CONF_STRING, CONF_F_EMPTY, CONF_SHAPE_ANY,
	  "", 0, 0, NULL, S(inbound.ca_file),
	  "PEM file of CAs trusted for the IMAP server; empty for the "
	  "system's" },
	{ "inbound.idle_timeout", CONF_INT, 0, CONF_SHAPE_ANY,
	  "1500", 2, 1740, NULL, S(inbound.idle_timeout),
	  "seconds before an IMAP IDLE is renewed (under the 29 minutes "
	  "servers allow)" },
	{ "inbound.timeout", CONF_INT, 0, CONF_SHAPE_ANY,
	  "60", 1, 3600, NULL, S(inbound.timeout),
	  "seconds an IMAP command may take before the connection is "
	  "dropped and made again" },
	{ "inbound.max_message_size", CONF_INT, 0, CONF_SHAPE_ANY,
	  "52428800", 1024, 1073741824, NULL, S(inbound.max_message_size),
	  "bytes; larger messages are kept and routed unparsed" },
	{ "inbound.max_depth", CONF_INT, 0, CONF_SHAPE_ANY,
	  "20", 1, 100, NULL, S(inbound.max_depth),
	  "MIME nesting parsed at most" },
	{ "inbound.max_parts", CONF_INT, 0, CONF_SHAPE_ANY,
	  "500", 1, 100000, NULL, S(inbound.max_parts),
	  "MIME parts parsed at most" },
	{ "inbound.poll_interval", CONF_INT, 0, CONF_SHAPE_ANY,
	  "60", 1, 86400, NULL, S(inbound.poll_interval),
	  "seconds between checks when IDLE or inotify is not available" },

	/* digest */
	{ "digest.leads", CONF_BOOL, 0, CONF_SHAPE_ANY,
	  "true", 0, 0, NULL, S(digest.leads),
	  "send each lead a daily summary of enquiries routed to them" },
	{ "digest.send_empty", CONF_BOOL, 0, CONF_SHAPE_ANY,
	  "false", 0, 0, NULL, S(digest.send_empty),
	  "send a digest even when there is nothing in it" },
	{ "digest.time", CONF_TIME, 0, CONF_SHAPE_ANY,
	  "07:00", 0, 0, NULL, S(digest.time),
	  "time of day (HH:MM, general.timezone) digests go out" },

	/* enquiry */
	{ "enquiry.acks_per_hour", CONF_INT, 0, CONF_SHAPE_ANY,
	  "500", 0, 1000000, NULL, S(enquiry.acks_per_hour),
	  "acknowledgements to enquirers per hour, all senders together; "
	  "0 for no limit" },

	/* web */
	{ "web.listen", CONF_STRING, 0, CONF_SHAPE_LISTEN,
	  "127.0.0.1:8025", 0, 0, NULL, S(web.listen),
	  "address and port postroomd's web pages listen on" },
	{ "web.subscribe_per_hour", CONF_INT, 0, CONF_SHAPE_ANY,
	  "20", 0, 1000000, NULL, S(web.subscribe_per_hour),
	  "subscription requests per client per hour; 0 for no limit" },
	{ "web.pending_days", CONF_INT, 0, CONF_SHAPE_ANY,
	  "30", 0, 3650, NULL, S(web.pending_days),
	  "days a sign-up may stay unconfirmed before it is deleted; 0 "
	  "keeps them" },
	{ "web.confirmations_per_hour", CONF_INT, 0, CONF_SHAPE_ANY,
	  "200", 0, 1000000, NULL, S(web.confirmations_per_hour),
	  "confirmation emails the subscribe form may send per hour, all "
	  "clients together; 0 for no limit" },
	{ "web.request_timeout", CONF_INT, 0, CONF_SHAPE_ANY,
	  "10", 1, 300, NULL, S(web.request_timeout),
	  "seconds a client has to send a whole request (headers and "
	  "body), however slowly it trickles in" },

	/* console */
	{ "console.listen", CONF_STRING, CONF_F_EMPTY, CONF_SHAPE_LISTEN,
	  "127.0.0.1:8026", 0, 0, NULL, S(console.listen),
	  "address and port of the staff console; empty for no console "
	  "(never the public pages' web.listen)" },
	{ "console.base_url", CONF_STRING, 0, CONF_SHAPE_HTTP_URL,
	  "http://127.0.0.1:8026", 0, 0, NULL, S(console.base_url),
	  "the console's address as staff's browsers reach it; https "
	  "makes its cookie Secure and turns on HSTS" },
	{ "console.admin_totp", CONF_BOOL, 0, CONF_SHAPE_ANY,
	  "false", 0, 0, NULL, S(console.admin_totp),
	  "admins must sign in with a one-time code as well (postroom "
	  "user totp EMAIL)" },
	{ "console.send_approval", CONF_BOOL, 0, CONF_SHAPE_ANY,
	  "false", 0, 0, NULL, S(console.send_approval),
	  "a newsletter is sent or scheduled only once a second editor or "
	  "admin has approved that exact version" },
	{ "console.image_max_kb", CONF_INT, 0, CONF_SHAPE_ANY,
	  "1024", 16, 10240, NULL, S(console.image_max_kb),
	  "the biggest image (KB) staff may upload for a newsletter" },

	{ NULL, 0, 0, 0, NULL, 0, 0, NULL, 0, NULL }
};

/* The keys of each lists = ( { ... } ) entry. */
const struct conf_setting conf_list_settings[] = {
	{ "slug", CONF_STRING, CONF_F_REQUIRED, CONF_SHAPE_SLUG,
	  NULL, 0, 0, NULL, L(slug),
	  "short name in URLs and List-Id: [a-z0-9-]+, unique" },
	{ "name", CONF_STRING, CONF_F_REQUIRED, CONF_SHAPE_ANY,
	  NULL, 0, 0, NULL, L(name),
	  "name subscribers see" },
	{ "from", CONF_STRING, CONF_F_REQUIRED, CONF_SHAPE_ADDRESS,
	  NULL, 0, 0, NULL, L(from),
	  "From: address of the list's newsletters" },
	{ "reply_to", CONF_STRING, CONF_F_EMPTY, CONF_SHAPE_ADDRESS,
	  "", 0, 0, NULL, L(reply_to),
	  "Reply-To: address; empty for none" },
	{ "description", CONF_STRING, CONF_F_EMPTY, CONF_SHAPE_TEXT,
	  "", 0, 0, NULL, L(description),
	  "shown on the subscribe page" },
	{ "allow_html", CONF_BOOL, 0, CONF_SHAPE_ANY,
	  "false", 0, 0, NULL, L(allow_html),
	  "let newsletters hold raw HTML in their Markdown" },
	{ "digest", CONF_ENUM, 0, CONF_SHAPE_ANY,
	  "weekly", 0, 0, conf_choices_digest, L(digest),
	  "how often digest-mode subscribers get a digest" },
	{ "digest_day", CONF_ENUM, 0, CONF_SHAPE_ANY,
	  "monday", 0, 0, conf_choices_weekday, L(digest_day),
	  "day weekly digests go out (monthly ones go on the 1st)" },
	{ "digest_time", CONF_TIME, 0, CONF_SHAPE_ANY,
	  NULL, 0, 0, NULL, L(digest_time),
	  "time digests go out; digest.time when unset" },
	{ NULL, 0, 0, 0, NULL, 0, 0, NULL, 0, NULL }
};

/*
 * The keys of each rules = ( { ... } ) entry: what a rule can test and how
 * it scores.  The condition language and the order of decision are
 * route.h's; each check compiles the value the way the router will.
 */
const struct conf_rule_key conf_rule_keys[] = {
	{ "name", CONF_RULE_STRING, CONF_F_REQUIRED, NULL,
	  "unique name, shown by postroom route --explain" },
	{ "lead", CONF_RULE_STRING, CONF_F_REQUIRED, NULL,
	  "key of the lead matching enquiries go to" },
	{ "all", CONF_RULE_STRINGS, 0, route_check_conditions,
	  "conditions that must all hold, e.g. \"subject word 'huddle'\", "
	  "\"any(from domain nhs.net, not header List-Id exists)\"" },
	{ "any", CONF_RULE_STRINGS, 0, route_check_conditions,
	  "conditions of which at least one must hold" },
	{ "not", CONF_RULE_STRINGS, 0, route_check_conditions,
	  "conditions none of which may hold" },
	{ "region", CONF_RULE_STRING, 0, route_check_region,
	  "\"west\" or \"east\": the half of the Midlands the text points "
	  "to (ICS names, then places, then postcodes)" },
	{ "keywords", CONF_RULE_STRINGS, 0, route_check_keywords,
	  "weighted words and phrases, \"analyst network: 4\", \"huddle*\" "
	  "(weight 1); twice the weight when in the subject" },
	{ "score", CONF_RULE_INT, 0, route_check_score,
	  "points scored whenever the conditions hold (makes the rule a "
	  "scoring rule, like keywords)" },
	{ "threshold", CONF_RULE_INT, 0, route_check_threshold,
	  "score a scoring rule needs to win (default 1); the highest score "
	  "wins, then the first plain rule, then general.default_lead" },
	{ NULL, 0, 0, NULL, NULL }
};
