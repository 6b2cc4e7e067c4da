/*
 * parser.h - parsing untrusted mail in an isolated, restartable child.
 *
 * libetpan 1.9.4 (Debian) has known memory-safety bugs on hostile MIME,
 * so postroomd never runs mime_parse() itself.  One long-lived child
 * process takes message after message over a socketpair: the message
 * goes in length-prefixed, the decoded struct message comes back packed
 * (message.c), and the daemon checks every byte of it.
 *
 * The child is this same executable run again (posix_spawn of
 * /proc/self/exe with argv[1] = PARSER_CHILD_ARG), not a bare fork: the
 * daemon has threads, and a fresh exec has a fresh address space with no
 * copy of the daemon's secrets (SMTP password, token key) in it.  So
 * main() of every program that starts a parser must begin with
 *
 *	if (argc > 1 && strcmp(argv[1], PARSER_CHILD_ARG) == 0)
 *		return parser_child_main(argc, argv);
 *
 * parser_start() checks that this works (the child must say it is ready).
 *
 * The child, before it reads any mail: keeps only the socket (fd 3),
 * stderr and /dev/null on 0 and 1; its own process group; every signal
 * default and unblocked; RLIMIT_CORE 0 and not dumpable; RLIMIT_NOFILE
 * 16; when started as root, drops to "nobody" (groups too) and then
 * RLIMIT_NPROC 0; PR_SET_NO_NEW_PRIVS; RLIMIT_AS (memory) - or, in an
 * AddressSanitizer build, where RLIMIT_AS cannot work, ASan's
 * hard_rss_limit_mb; RLIMIT_CPU with the soft limit re-armed before
 * every message at (CPU used so far + cpu), so SIGXCPU kills a message
 * that spins.  The hard limit is a budget for the child's whole life: when
 * what is left is less than one message's worth, or after max_messages,
 * the child says so in its reply and exits, and the next parser_parse()
 * starts a new one.  Last, with iconv's converters loaded
 * (charset_preload()), it enters the sandbox (sandbox.h): a seccomp
 * filter, and Landlock and an empty network namespace where the kernel
 * has them, so that it can no longer open a file (the database, the
 * token key, the SMTP password), make a socket, fork or execute.  It
 * says which walls stand in its READY frame; the daemon logs them.
 *
 * The daemon: a wall-clock timeout per message; when the child crashes,
 * is killed by a limit, times out or sends anything malformed, it is
 * killed (SIGKILL) and reaped, the event is logged, the message comes
 * back as MESSAGE_FAILED with the reason in status_detail (and its
 * Message-ID and Subject, read by mime_parse_find_header() without
 * libetpan), and the next call starts a new child transparently.
 *
 * Threads: one struct parser is used by one thread at a time.  Do not
 * reap children with wait(-1) or ignore SIGCHLD elsewhere in the process:
 * the parser waits for its own child by pid.
 *
 * Owns: the child process, its limits, the pipe protocol.  Does not own:
 * parsing (mime-parse.c), the packed form (message.c).
 */
#ifndef POSTROOM_PARSER_H
#define POSTROOM_PARSER_H

#include <stddef.h>
#include <sys/types.h>

#include "mime-parse.h"

struct conf;
struct message;
struct parser;

#define PARSER_CHILD_ARG	"--postroom-parser-child"

/* Faults the child can be told to commit: for tests of the isolation. */
enum parser_fault {
	PARSER_FAULT_NONE,
	PARSER_FAULT_CRASH,	/* abort() */
	PARSER_FAULT_SEGV,	/* SIGSEGV */
	PARSER_FAULT_SPIN,	/* loop until RLIMIT_CPU */
	PARSER_FAULT_HANG,	/* sleep until the daemon's timeout */
	PARSER_FAULT_ALLOC,	/* allocate until the memory limit */
	PARSER_FAULT_GARBAGE,	/* reply with a malformed message */
	PARSER_FAULT_UNGUARDED,	/* libetpan on the raw bytes, no scan */
	PARSER_FAULT_ESCAPE,	/* try to open the message as a path, make
				   sockets, fork, exec: the reply is a
				   DEFECTIVE message whose status_detail
				   says how each went */
};

struct parser_options {
	struct mime_parse_limits limits;
	unsigned int	 timeout;	/* seconds, wall clock, per message */
	unsigned int	 cpu;		/* seconds of CPU per message */
	unsigned int	 cpu_budget;	/* seconds of CPU in the child's life */
	size_t		 memory;	/* bytes; 0: no limit */
	unsigned int	 max_messages;	/* then a new child; 0: no limit */
	const char	*exe;		/* NULL: /proc/self/exe */
	const char	*user;		/* when root: NULL is "nobody" */

	/*
	 * Tests only (never set by parser_start()): the child commits
	 * fault on its fault_after'th message (1: the first).
	 */
	enum parser_fault fault;
	unsigned int	 fault_after;
};

#define PARSER_TIMEOUT		30
#define PARSER_CPU		10
#define PARSER_CPU_BUDGET	600
#define PARSER_MAX_MESSAGES	10000
/* Memory: this much, plus this many times inbound.max_message_size. */
#define PARSER_MEMORY_BASE	(256UL * 1024 * 1024)
#define PARSER_MEMORY_FACTOR	6

/* The defaults, with the limits from conf (NULL: built-in defaults). */
void		 parser_options_default(struct parser_options *,
		     const struct conf *);

/*
 * Start the child and wait until it is ready.  Returns NULL with *cause
 * (caller frees) when it cannot.
 */
struct parser	*parser_start(const struct conf *, char **cause);
struct parser	*parser_start_options(const struct parser_options *,
		     char **cause);

/*
 * Parse raw[0..len) in the child.  *out is ALWAYS set to a new message
 * (the caller frees it with message_free()): parsed, or MESSAGE_FAILED
 * with the reason.  Returns 0 when the child could be asked, and -1 with
 * *cause when no child could be started (*out is then MESSAGE_FAILED
 * too, so the message can still be routed to the default lead).
 */
int		 parser_parse(struct parser *, const char *raw, size_t len,
		     struct message **out, char **cause);
/*
 * The same, and with the decoded bytes of attachment number part (0 the
 * first of (*out)->attachments) in its data (mime_parse_part()); none
 * other's are believed.  For the console's downloads.
 */
int		 parser_parse_part(struct parser *, const char *raw,
		     size_t len, size_t part, struct message **out,
		     char **cause);

/* The running child's pid, or -1 when there is none just now. */
pid_t		 parser_pid(const struct parser *);

/* Stop the child (EOF, then SIGKILL after a second) and free. */
void		 parser_stop(struct parser *);

/*
 * The child's main(), from main() when argv[1] is PARSER_CHILD_ARG.
 * Returns an exit status.
 */
int		 parser_child_main(int argc, char **argv);

#endif
