/*
 * postroomd.c - the postroom daemon: start-up, signals, the main loop.
 *
 * Owns: option parsing, the single-instance lock, systemd readiness
 * notification, signal handling (SIGHUP reloads the configuration and
 * keeps the old one when the new one is bad; SIGTERM/SIGINT stop), and
 * the loop that wakes on inbound mail or once a second for due work.
 * Does not own: what the work is: the sources (source-*.c) hand over raw
 * messages, the parser child (parser.c) decodes them, enquiry.c records
 * and queues, the delivery thread (deliver.c) sends the outbox.
 *
 * Threads: this main thread (signals, inbound, enquiries), the delivery
 * thread and the web pages' thread (web.c), each with its own database
 * connection.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sysexits.h>
#include <unistd.h>

#include "cli.h"
#include "cmd.h"
#include "conf.h"
#include "deliver.h"
#include "enquiry.h"
#include "log.h"
#include "message.h"
#include "monotime.h"
#include "parser.h"
#include "source.h"
#include "store.h"
#include "token.h"
#include "web.h"
#include "web-int.h"
#include "xmalloc.h"

struct daemon {
	const char		 *conf_path;
	char			**overrides;
	size_t			  noverrides;
	int			  once;
	int			  stopped;	/* --once: SIGTERM or SIGINT */
	time_t			  next_purge;	/* of unconfirmed sign-ups */
	time_t			  next_keys;	/* subscribers' search keys */
	struct conf		 *conf;
	struct store		 *store;
	int			  lockfd;
	int			  sigfd;
	const struct source_ops	 *src_ops;
	struct source		 *src;
	struct parser		 *parser;	/* the isolated MIME parser */
	struct enquiry_env	 *env;		/* for the current conf */
	struct deliver		 *dlv;		/* the delivery thread */
	struct web		 *web;		/* the web pages' thread */
	struct web		 *console;	/* the staff console's */
	/*
	 * Configurations replaced by SIGHUP: the delivery thread keeps the
	 * one it started with until it stops, so none is freed before exit.
	 */
	struct conf		**retired;
	size_t			  nretired;
};

static void __attribute__((noreturn))
postroomd_usage(FILE *f, int rc)
{
	fprintf(f,
	    "usage: postroomd [-fnv] [--once] [-c FILE] [-o NAME=VALUE]...\n"
	    "\n"
	    "The postroom daemon: picks up inbound enquiries, delivers the\n"
	    "outbox, serves the public web endpoints.\n"
	    "\n"
	    "  -c FILE        configuration file (default: $POSTROOM_CONFIG,\n"
	    "                 else %s)\n"
	    "  -o NAME=VALUE  override a setting for this run (repeatable)\n"
	    "  -n             check the configuration and exit\n"
	    "  -f             stay in the foreground (what systemd wants)\n"
	    "  --once         do all the work that is due now, then exit\n"
	    "  -v             more logging (-vv: debug)\n"
	    "  -V, --version  print the version\n", conf_default_path(NULL));
	exit(rc);
}

/*
 * Tell systemd (Type=notify) how we are: "READY=1", "RELOADING=1",
 * "STOPPING=1".  The protocol is one datagram to $NOTIFY_SOCKET, simple
 * enough not to need libsystemd.
 */
static void
postroomd_notify(const char *state)
{
	struct sockaddr_un	 sun;
	const char		*path;
	size_t			 len;
	int			 fd;

	if ((path = getenv("NOTIFY_SOCKET")) == NULL || path[0] == '\0')
		return;
	len = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || len >= sizeof sun.sun_path)
		return;
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, len);
	if (sun.sun_path[0] == '@')
		sun.sun_path[0] = '\0';
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return;
	(void)sendto(fd, state, strlen(state), MSG_NOSIGNAL,
	    (struct sockaddr *)&sun,
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len));
	close(fd);
}

/*
 * The daemon owns its state: create the directories that the database and
 * the key file live in (like "var/" under the working directory) when they
 * are missing.  The CLI does not: it reports a missing directory.
 */
static void
postroomd_mkdirs(const char *file)
{
	char	*dir, *p;

	dir = xstrdup(file);
	if ((p = strrchr(dir, '/')) == NULL || p == dir) {
		free(dir);
		return;
	}
	*p = '\0';
	for (p = dir + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0750) == -1 && errno != EEXIST)
			fatalx("%s: %s", dir, strerror(errno));
		*p = '/';
	}
	if (mkdir(dir, 0750) == 0)
		log_info("%s: created", dir);
	else if (errno != EEXIST)
		fatalx("%s: %s", dir, strerror(errno));
	free(dir);
}

static void
postroomd_lock_pid(int fd)
{
	char	pid[32];
	int	n;

	if (ftruncate(fd, 0) == 0) {
		n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
		(void)pwrite(fd, pid, (size_t)n, 0);
	}
}

/*
 * One daemon per database: an flock(2) on DATABASE.lock, held for the
 * life of the process.  (Not a POSIX lock on the database itself: those
 * would fight SQLite's own.)
 */
static int
postroomd_lock(const char *database)
{
	char	*path, pid[32];
	ssize_t	 n;
	int	 fd;

	path = xprintf("%s.lock", database);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1)
		fatalx("%s: %s", path, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno != EWOULDBLOCK)
			fatalx("%s: %s", path, strerror(errno));
		n = pread(fd, pid, sizeof pid - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		fatalx("another postroomd (pid %s) is already running on %s; "
		    "stop it first (lock held on %s)",
		    pid[0] != '\0' ? pid : "unknown", database, path);
	}
	postroomd_lock_pid(fd);
	free(path);
	return fd;
}

static struct conf *
postroomd_load(struct daemon *d)
{
	struct conf_errors	 errs = { 0 };
	struct conf		*conf;
	size_t			 i;

	conf = conf_load(d->conf_path, d->overrides, d->noverrides, &errs);
	for (i = 0; i < errs.n; i++)
		log_error("%s", errs.msgs[i]);
	conf_errors_free(&errs);
	return conf;
}

static void
postroomd_apply_log_level(const struct conf *conf, int verbose)
{
	enum log_level	level;

	if (verbose > 0)
		level = verbose > 1 ? LOGL_DEBUG : LOGL_INFO;
	else if (log_parse_level(conf->general.log_level, &level) == -1)
		level = LOGL_INFO;
	log_set_level(level);
}

/* SIGHUP: the new configuration replaces the old only when it is good. */
static void
postroomd_reload(struct daemon *d, int verbose)
{
	struct enquiry_env	*env;
	struct conf		*conf;
	char			*cause = NULL;

	postroomd_notify("RELOADING=1");
	log_info("SIGHUP: re-reading %s", d->conf_path);
	if ((conf = postroomd_load(d)) == NULL) {
		log_error("%s: new configuration is bad; keeping the old one",
		    d->conf_path);
		postroomd_notify("READY=1");
		return;
	}
	if ((env = enquiry_open(conf, &cause)) == NULL) {
		log_error("%s: %s; keeping the old configuration",
		    d->conf_path, cause);
		free(cause);
		conf_free(conf);
		postroomd_notify("READY=1");
		return;
	}
	if (strcmp(conf->general.database, d->conf->general.database) != 0)
		log_warn("general.database changed; the daemon keeps using "
		    "%s until it is restarted", d->conf->general.database);
	if (conf->inbound.source != d->conf->inbound.source ||
	    strcmp(conf->inbound.maildir, d->conf->inbound.maildir) != 0 ||
	    strcmp(conf->inbound.imap_url, d->conf->inbound.imap_url) != 0)
		log_warn("inbound settings changed; they take effect when "
		    "postroomd is restarted");
	if (strcmp(conf->smtp.url, d->conf->smtp.url) != 0 ||
	    conf->smtp.concurrency != d->conf->smtp.concurrency ||
	    conf->smtp.rate_per_second != d->conf->smtp.rate_per_second ||
	    conf->smtp.rate_per_hour != d->conf->smtp.rate_per_hour)
		log_warn("smtp settings changed; the delivery engine keeps the"
		    " old ones until postroomd is restarted");
	enquiry_close(d->env);
	d->env = env;
	d->retired = xreallocarray(d->retired, d->nretired + 1,
	    sizeof *d->retired);
	d->retired[d->nretired++] = d->conf;
	d->conf = conf;
	web_reload(d->web, conf);
	web_reload(d->console, conf);
	postroomd_apply_log_level(conf, verbose);
	log_info("configuration reloaded (rules, leads, lists, templates)");
	postroomd_notify("READY=1");
}

/*
 * Hand every inbound message that is waiting to the parser and then to
 * enquiry.c; file it away (source done()) only once it is recorded.  A
 * message that cannot be recorded stays where it is and is offered again.
 */
static int	postroomd_once_stopped(void *);

static void
postroomd_inbound(struct daemon *d)
{
	struct enquiry_result	 res;
	struct source_msg	 msg;
	struct message		*m;
	/* A full disk or a broken inbox: a line a minute, not a second. */
	static struct log_every	 unparsed, unrecorded, unread;
	char			*cause = NULL, *where;
	int			 rc, queued = 0;

	if (d->src == NULL)
		return;
	while ((rc = d->src_ops->next(d->src, &msg, &cause)) == 1) {
		/* --once: a stop leaves the rest where it is, for later. */
		if (d->once && postroomd_once_stopped(d)) {
			source_msg_free(&msg);
			break;
		}
		where = xprintf("%s:%s", d->src_ops->name, msg.id);
		m = NULL;
		if (msg.truncated)
			m = message_new_failed("larger than "
			    "inbound.max_message_size; kept whole in the "
			    "inbox");
		else if (parser_parse(d->parser, msg.data, msg.len, &m,
		    &cause) == -1) {
			(void)log_every(&unparsed, monotime_ms(),
			    LOG_EVERY_MINUTE, LOGL_ERROR, "%s: %s; left in "
			    "place, tried again later", where, cause);
			goto next;
		}
		/* Only after the commit does anything say it was queued. */
		if (enquiry_receive(d->env, d->store, msg.data, msg.len, m,
		    where, &res, &cause) == -1) {
			(void)log_every(&unrecorded, monotime_ms(),
			    LOG_EVERY_MINUTE, LOGL_ERROR, "%s: not recorded: "
			    "%s; left in place, tried again later", where,
			    cause);
			goto next;
		}
		if (res.outcome == ENQUIRY_DUPLICATE)
			log_info("%s: already recorded as %s; filed", where,
			    res.reference);
		else
			queued = 1;
		if (d->src_ops->done(d->src, &msg, &cause) == -1) {
			log_error("%s: recorded, but not filed: %s", where,
			    cause);
			free(cause);
			cause = NULL;
		}
	next:
		free(cause);
		cause = NULL;
		if (m != NULL)
			message_free(m);
		free(where);
		source_msg_free(&msg);
	}
	if (rc == -1) {
		(void)log_every(&unread, monotime_ms(), LOG_EVERY_MINUTE,
		    LOGL_ERROR, "inbound %s: %s", d->src_ops->name, cause);
		free(cause);
	}
	if (queued && d->dlv != NULL)
		deliver_wake(d->dlv);
}

static int
postroomd_signals(void)
{
	sigset_t	set;
	int		fd;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
		fatalx("sigprocmask: %s", strerror(errno));
	if ((fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) == -1)
		fatalx("signalfd: %s", strerror(errno));
	signal(SIGPIPE, SIG_IGN);
	return fd;
}

static void
postroomd_detach(void)
{
	pid_t	pid;
	int	fd;

	if ((pid = fork()) == -1)
		fatalx("fork: %s", strerror(errno));
	if (pid != 0)
		_exit(0);
	if (setsid() == -1)
		fatalx("setsid: %s", strerror(errno));
	log_to_syslog();
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
}

/*
 * Hourly (and in --once): delete the sign-ups left unconfirmed for
 * web.pending_days, and the people they leave on no list.
 */
static void
postroomd_purge(struct daemon *d, time_t now)
{
	int64_t	 members, people;
	char	*cause = NULL;

	if (d->conf->web.pending_days == 0 || now < d->next_purge)
		return;
	d->next_purge = now + 3600;
	if (store_members_purge_pending(d->store, (int64_t)now -
	    (int64_t)d->conf->web.pending_days * 86400, &members, &people,
	    &cause) == -1) {
		log_error("unconfirmed sign-ups: %s; tried again in an hour",
		    cause);
		free(cause);
		return;
	}
	if (members > 0)
		log_info("unconfirmed for %d days: %lld sign-up%s deleted, and "
		    "%lld %s on no other list", d->conf->web.pending_days,
		    (long long)members, members == 1 ? "" : "s",
		    (long long)people, people == 1 ? "person" : "people");
}

/*
 * At start and hourly: search keys for the subscribers and enquiries
 * another program wrote or changed (sqlite3, an older postroom, a merge,
 * an erasure), so that console searches need not fold them
 * (store-schema.c, version 11).  In batches, each its own statement, so
 * that no writer waits long behind it.  Not in --once: that times
 * deliveries, and searches find the keyless rows all the same.
 */
#define POSTROOMD_KEYS_BATCH	10000
static void
postroomd_search_keys(struct daemon *d, time_t now)
{
	static int	(*const fill[])(struct store *, int64_t, int64_t *,
			    char **) = {
		store_subscriber_search_keys, store_enquiry_search_keys
	};
	int64_t		  n, total = 0;
	char		 *cause = NULL;
	size_t		  i;

	if (now < d->next_keys)
		return;
	d->next_keys = now + 3600;
	for (i = 0; i < sizeof fill / sizeof fill[0]; i++) {
		do {
			if (fill[i](d->store, POSTROOMD_KEYS_BATCH, &n,
			    &cause) == -1) {
				log_error("search keys: %s; tried again in an "
				    "hour", cause);
				free(cause);
				return;
			}
			total += n;
		} while (n == POSTROOMD_KEYS_BATCH);
	}
	if (total > 0)
		log_info("search keys made for %lld subscribers and enquiries",
		    (long long)total);
}

static int
postroomd_loop(struct daemon *d, int verbose)
{
	struct signalfd_siginfo	si;
	struct pollfd		pfd[2];
	nfds_t			nfd;
	int			timeout, t;

	postroomd_inbound(d);
	postroomd_notify("READY=1");
	for (;;) {
		nfd = 0;
		pfd[nfd].fd = d->sigfd;
		pfd[nfd++].events = POLLIN;
		/* Wake at least once a second: the CLI adds work directly. */
		timeout = 1000;
		if (d->src != NULL) {
			if (d->src_ops->fd(d->src) != -1) {
				pfd[nfd].fd = d->src_ops->fd(d->src);
				pfd[nfd++].events = POLLIN;
			}
			t = d->src_ops->timeout(d->src);
			if (t >= 0 && t < timeout)
				timeout = t;
		}
		if (poll(pfd, nfd, timeout) == -1 && errno != EINTR)
			fatalx("poll: %s", strerror(errno));
		while (read(d->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
			switch (si.ssi_signo) {
			case SIGHUP:
				postroomd_reload(d, verbose);
				break;
			case SIGTERM:
			case SIGINT:
				postroomd_notify("STOPPING=1");
				log_info("%s: stopping",
				    strsignal((int)si.ssi_signo));
				return 0;
			default:
				break;
			}
		}
		postroomd_inbound(d);
		postroomd_purge(d, time(NULL));
		postroomd_search_keys(d, time(NULL));
		/* Campaigns queued by the CLI, retries coming due. */
		deliver_wake(d->dlv);
	}
}

/*
 * --once: has SIGTERM or SIGINT come?  Read without waiting from the
 * signalfd (other signals are of no use here); once said, always.
 */
static int
postroomd_once_stopped(void *arg)
{
	struct daemon		*d = arg;
	struct signalfd_siginfo	 si;

	while (!d->stopped &&
	    read(d->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
			log_info("%s: stopping", strsignal((int)si.ssi_signo));
			d->stopped = 1;
		}
	}
	return d->stopped;
}

/*
 * --once: what is waiting inbound, then everything due outbound; SIGTERM
 * and SIGINT stop it as they stop the daemon (between messages inbound,
 * and with the transactions in flight finished outbound).
 */
static int
postroomd_once(struct daemon *d)
{
	struct deliver_opts	 opts;
	struct deliver_stats	 st;
	char			*cause = NULL;

	postroomd_inbound(d);
	postroomd_purge(d, time(NULL));
	if (postroomd_once_stopped(d))
		return 0;
	memset(&opts, 0, sizeof opts);
	opts.stop = postroomd_once_stopped;
	opts.stop_arg = d;
	memset(&st, 0, sizeof st);
	if (deliver_run_once_opts(d->conf, &opts, &st, &cause) == -1) {
		log_error("delivery: %s", cause);
		free(cause);
		return EX_TEMPFAIL;
	}
	log_info("delivery: %lld sent, %lld deferred, %lld failed, %lld "
	    "skipped", (long long)st.sent, (long long)st.deferred,
	    (long long)st.failed, (long long)st.skipped);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "once", no_argument, NULL, 'O' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct daemon	 d;
	unsigned char	 key[TOKEN_KEY_LEN];
	const char	*cpath = NULL;
	char		*cause = NULL;
	int		 ch, check = 0, foreground = 0, verbose = 0, rc;

	if (argc > 1 && strcmp(argv[1], PARSER_CHILD_ARG) == 0)
		return parser_child_main(argc, argv);
	memset(&d, 0, sizeof d);
	d.lockfd = -1;
	log_init("postroomd", LOGL_INFO);
	while ((ch = getopt_long(argc, argv, "c:o:fnvhV", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			cpath = optarg;
			break;
		case 'o':
			if (cli_override("postroomd", &d.overrides,
			    &d.noverrides, optarg) == -1)
				return EX_USAGE;
			break;
		case 'f':
			foreground = 1;
			break;
		case 'n':
			check = 1;
			break;
		case 'O':
			d.once = 1;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			postroomd_usage(stdout, EX_OK);
		case 'V':
			printf("postroomd %s\n", POSTROOM_VERSION);
			return EX_OK;
		default:
			postroomd_usage(stderr, EX_USAGE);
		}
	}
	if (optind != argc) {
		fprintf(stderr, "postroomd: unexpected argument \"%s\"\n",
		    argv[optind]);
		postroomd_usage(stderr, EX_USAGE);
	}
	d.conf_path = conf_default_path(cpath);
	if (check) {
		rc = cmd_config_check(d.conf_path, d.overrides, d.noverrides);
		free(d.overrides);
		return rc;
	}

	/* Start-up: configuration, then the environment it names. */
	if ((d.conf = postroomd_load(&d)) == NULL) {
		log_error("%s: configuration has problems; not starting "
		    "(postroomd -n checks it)", d.conf_path);
		free(d.overrides);
		return EX_CONFIG;
	}
	postroomd_apply_log_level(d.conf, verbose);
	/* Dates in messages are local: set the zone before any thread. */
	if (setenv("TZ", d.conf->general.timezone, 1) == 0)
		tzset();
	/*
	 * Take the lock before detaching, so that "already running" is said
	 * on the terminal; the flock is shared with the child, which then
	 * writes its own pid.
	 */
	postroomd_mkdirs(d.conf->general.database);
	postroomd_mkdirs(d.conf->general.secret_file);
	d.lockfd = postroomd_lock(d.conf->general.database);
	if (!foreground && !d.once) {
		postroomd_detach();
		postroomd_lock_pid(d.lockfd);
	}
	d.sigfd = postroomd_signals();
	if ((d.store = store_open(d.conf->general.database, &cause)) == NULL)
		fatalx("%s", cause);
	/* The key that signs links; made on first start, never shown. */
	if (token_key_load(d.conf->general.secret_file, 1, key, &cause) == -1)
		fatalx("%s", cause);
	explicit_bzero(key, sizeof key);
	switch (d.conf->inbound.source) {
	case CONF_SOURCE_MAILDIR:
		d.src_ops = &source_maildir_ops;
		break;
	case CONF_SOURCE_IMAP:
		d.src_ops = &source_imap_ops;
		break;
	default:
		d.src_ops = NULL;
		break;
	}
	if ((d.parser = parser_start(d.conf, &cause)) == NULL)
		fatalx("parser: %s", cause);
	if ((d.env = enquiry_open(d.conf, &cause)) == NULL)
		fatalx("%s", cause);
	if (d.src_ops != NULL &&
	    (d.src = d.src_ops->open(d.conf, &cause)) == NULL)
		fatalx("inbound %s: %s", d.src_ops->name, cause);
	if (!d.once && (d.dlv = deliver_start(d.conf, &cause)) == NULL)
		fatalx("delivery: %s", cause);
	/* Without its pages the daemon still routes and delivers: go on. */
	if (!d.once && (d.web = web_start(d.conf, &web_public,
	    &cause)) == NULL) {
		log_error("web: %s; the web pages are off until postroomd is "
		    "restarted", cause);
		free(cause);
		cause = NULL;
	}
	if (!d.once && d.conf->console.listen[0] != '\0' &&
	    (d.console = web_start(d.conf, &web_console, &cause)) == NULL) {
		log_error("console: %s; the staff console is off until "
		    "postroomd is restarted", cause);
		free(cause);
		cause = NULL;
	}
	log_info("postroomd %s started: database %s (schema %d), inbound %s%s%s,"
	    " outbound %s", POSTROOM_VERSION, d.conf->general.database,
	    store_schema_version(d.store),
	    d.src_ops != NULL ? d.src_ops->name : "none",
	    d.src_ops == &source_maildir_ops ? " " : "",
	    d.src_ops == &source_maildir_ops ? d.conf->inbound.maildir : "",
	    d.conf->smtp.url);

	rc = d.once ? postroomd_once(&d) : postroomd_loop(&d, verbose);

	/* Stop taking work, let SMTP transactions in flight finish. */
	web_stop(d.console);
	web_stop(d.web);
	if (d.dlv != NULL)
		deliver_stop(d.dlv);
	if (d.src != NULL)
		d.src_ops->close(d.src);
	parser_stop(d.parser);
	enquiry_close(d.env);
	while (d.nretired > 0)
		conf_free(d.retired[--d.nretired]);
	free(d.retired);
	store_close(d.store);
	conf_free(d.conf);
	close(d.sigfd);
	close(d.lockfd);
	free(d.overrides);
	log_info("stopped");
	return rc;
}
