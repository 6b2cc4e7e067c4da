/*
 * cmd.h - the postroom CLI's command table.
 *
 * Each command lives in a cmd-NAME.c file and exports one struct cmd.
 * postroom.c parses the global options (-c FILE, -o NAME=VALUE, -v, -q),
 * finds the command and calls it with argv[0] being the command's name,
 * so a command parses its own options with getopt_long.  Commands return a
 * sysexits(3) code; they print their own errors, once, prefixed "postroom: ".
 */
#ifndef POSTROOM_CMD_H
#define POSTROOM_CMD_H

#include <stdint.h>
#include <stdio.h>
#include <sysexits.h>

struct conf;
struct store;
struct value;

struct cmd_ctx {
	const char	 *conf_path;	/* -c, else $POSTROOM_CONFIG, else default */
	char		**overrides;	/* -o NAME=VALUE, in order */
	size_t		  noverrides;
	int		  verbose;
	struct conf	 *conf;		/* loaded by cmd_conf() on first use */
	struct store	 *store;	/* opened by cmd_store() on first use */
};

struct cmd {
	const char	*name;		/* "subscriber", "check-config" */
	const char	*usage;		/* arguments after the name */
	const char	*help;		/* one line for "postroom --help" */
	/*
	 * Returns an exit code (EX_OK, EX_USAGE, ...).  argv[0] is the
	 * command's name; getopt state has been reset (optind = 0).
	 */
	int		(*exec)(struct cmd_ctx *, int argc, char **argv);
};

/*
 * Load and validate the configuration once; on failure print every problem
 * and return NULL (the command then returns EX_CONFIG).
 */
struct conf	*cmd_conf(struct cmd_ctx *);

/*
 * Open the database named by the configuration once (closed by the
 * dispatcher after the command).  On failure print why and return NULL
 * with *exitcode set: EX_CONFIG for a bad configuration, EX_TEMPFAIL when
 * the database is busy, EX_CANTCREAT when it cannot be opened.
 */
struct store	*cmd_store(struct cmd_ctx *, int *exitcode);

/*
 * Open a database of the command's own (it closes it with store_close).
 * On failure print why and return NULL with *exitcode set: EX_TEMPFAIL
 * when the database is busy, or its disk full or read-only (so that the
 * same command may work later), EX_UNAVAILABLE when it cannot be opened.
 */
struct store	*cmd_store_open(struct conf *, int *exitcode);
/*
 * The same for commands that only read: they also work on a database
 * that can only be read here (store_open_read()).
 */
struct store	*cmd_store_read(struct cmd_ctx *, int *exitcode);
struct store	*cmd_store_open_read(struct conf *, int *exitcode);

/*
 * A store failure at run time: print "postroom: CAUSE" (or "database
 * failure" when there is none) once, free cause, and return the exit code:
 * EX_TEMPFAIL when the database is busy, or its disk full, read-only or
 * failing, else EX_SOFTWARE.
 */
int		 cmd_store_fail(struct store *, char *cause);
/*
 * What a change returned by the core's convention (1 done, 0 refused
 * with cause in plain words, -1 the database failed), as an exit code:
 * done printed on stdout (EX_OK), "postroom: NAME: CAUSE" on stderr
 * (EX_DATAERR), or cmd_store_fail().  cause is freed.
 */
int		 cmd_change_result(struct store *, int rc, const char *name,
		     const char *done, char *cause);

/* Print "usage: postroom NAME USAGE" to f. */
void		 cmd_usage(const struct cmd *, FILE *f);

/*
 * A usage error: print "postroom: NAME: " and fmt (with its one %s, arg)
 * on a line, then the usage, to stderr.  Returns EX_USAGE.
 */
int		 cmd_usage_error(const struct cmd *, const char *fmt,
		     const char *arg);

/* Print text from outside for a terminal: controls become '?'. */
void		 cmd_put_safe(FILE *, const char *);

/* Who is at the keyboard, for records: "cli:USER".  The caller frees it. */
char		*cmd_who(void);

/*
 * After a question ending "[y/N] " on stderr: 1 when the line read from
 * standard input says y or yes (any case), else 0 (end of input too).
 */
int		 cmd_answer_yes(void);

/* "YYYY-MM-DD" as local midnight in *t: 0, or -1 when s is not one. */
int		 cmd_day(const char *s, int64_t *t);

/* t as local "YYYY-MM-DD HH:MM" in buf; "-" (not buf) when t is 0. */
const char	*cmd_when(int64_t t, char *buf, size_t len);


/*
 * Normalise an address given on the command line; or print "postroom:
 * NAME: invalid address "ARG": why" and return NULL.  The caller frees it.
 */
char		*cmd_address(const struct cmd *, const char *arg);

/* v as JSON and a newline on stdout: 0, or -1 when stdout fails. */
int		 cmd_print_json(const struct value *, int pretty);

/*
 * True when argv holds -h or --help before any "--": a command calls this
 * first, prints its usage to stdout and returns EX_OK.
 */
int		 cmd_wants_help(int argc, char **argv);

/*
 * Check a configuration as "postroom check-config" and "postroomd -n" do:
 * print "configuration OK" and return 0, or every problem and return 2.
 */
int		 cmd_config_check(const char *path, char *const *ov, size_t nov);

/* Every command, in the order "postroom --help" lists them. */
extern const struct cmd	*const cmd_table[];

#endif
