/*
 * parser.c - the parser child: started, fed, watched and restarted by the
 * daemon; confined and serving mime_parse() on its side.
 *
 * Owns: spawning the child, its confinement (rlimits, privileges), the
 * frames on the socketpair, timeouts, reaping and the reason a child died.
 * Does not own: parsing (mime-parse.c), the packed message (message.c).
 * See parser.h for the whole design.
 *
 * A frame is a 16-byte head - "PRP1", a u32 type, a u64 length, little-
 * endian - and the payload.  Daemon to child: CONFIG once (the options,
 * as u64s, then the user name), then PARSE (the raw message) or
 * PARSE_PART (a u64, the attachment whose bytes to send back, then the
 * raw message).  Child to
 * daemon: READY once, then RESULT (a packed struct message) or LAST (a
 * RESULT after which the child exits), or ERROR (text) when it cannot go
 * on.  The daemon believes nothing it reads: lengths are capped and the
 * message is unpacked with every check message_unpack() makes.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "charset.h"
#include "conf.h"
#include "log.h"
#include "monotime.h"
#include "message.h"
#include "mime-parse.h"
#include "parser.h"
#include "sandbox.h"
#include "utf8.h"
#include "xmalloc.h"

#if defined(__SANITIZE_ADDRESS__)
#define PARSER_ASAN	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PARSER_ASAN	1
#endif
#endif

#define PARSER_CHILD_FD		3
#define PARSER_MAGIC		0x31505250U	/* "PRP1" */
#define PARSER_HEAD		16
#define PARSER_START_TIMEOUT	10	/* seconds to say READY */
#define PARSER_STOP_WAIT	1000	/* ms for the child to exit */
#define PARSER_NOFILE		16
#define PARSER_CONFIG_N		12	/* u64s in a CONFIG frame */
#define PARSER_USER_MAX		64

enum parser_frame {
	PARSER_CONFIG = 1,
	PARSER_READY,
	PARSER_PARSE,
	PARSER_RESULT,
	PARSER_LAST,
	PARSER_ERROR,
	PARSER_PARSE_PART,
};

struct parser {
	struct parser_options	 opt;
	char			*exe;
	char			*user;
	pid_t			 pid;	/* -1: none */
	int			 fd;	/* -1: none */
	int			 retiring;	/* it said LAST */
};

extern char **environ;

/* --- options --------------------------------------------------------------- */

void
parser_options_default(struct parser_options *o, const struct conf *conf)
{
	memset(o, 0, sizeof *o);
	mime_parse_limits_conf(&o->limits, conf);
	o->timeout = PARSER_TIMEOUT;
	o->cpu = PARSER_CPU;
	o->cpu_budget = PARSER_CPU_BUDGET;
	o->memory = PARSER_MEMORY_BASE;
	if (o->limits.max_size < (SIZE_MAX - o->memory) / PARSER_MEMORY_FACTOR)
		o->memory += PARSER_MEMORY_FACTOR * o->limits.max_size;
	o->max_messages = PARSER_MAX_MESSAGES;
	o->exe = NULL;
	o->user = NULL;
	o->fault = PARSER_FAULT_NONE;
}

/* --- frames, both sides ---------------------------------------------------- */

static void
parser_put64(unsigned char *p, uint64_t v)
{
	int	i;

	for (i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t
parser_get64(const unsigned char *p)
{
	uint64_t	v = 0;
	int		i;

	for (i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void
parser_head(unsigned char *h, enum parser_frame type, uint64_t len)
{
	parser_put64(h, PARSER_MAGIC | (uint64_t)type << 32);
	parser_put64(h + 8, len);
}

/* 0 with *type and *len, or -1 when the head is not one of ours. */
static int
parser_unhead(const unsigned char *h, enum parser_frame *type, uint64_t *len)
{
	uint64_t	v = parser_get64(h);

	if ((v & 0xffffffffU) != PARSER_MAGIC)
		return -1;
	v >>= 32;
	if (v < PARSER_CONFIG || v > PARSER_PARSE_PART)
		return -1;
	*type = (enum parser_frame)v;
	*len = parser_get64(h + 8);
	return 0;
}

/*
 * Move len bytes over fd (non-blocking in the daemon, blocking in the
 * child) before deadline (ms, CLOCK_MONOTONIC; 0: none).  Returns 0, or
 * -1 with *why: "timed out", "closed", or the error.
 */
static int
parser_io(int fd, int out, void *p, size_t len, long long deadline,
    const char **why)
{
	struct pollfd	 pfd;
	unsigned char	*b = p;
	ssize_t		 n;
	long long	 left;
	int		 r;

	while (len > 0) {
		if (out)
			n = send(fd, b, len, MSG_NOSIGNAL);
		else
			n = read(fd, b, len);
		if (n > 0) {
			b += n;
			len -= (size_t)n;
			continue;
		}
		if (n == 0) {
			*why = "closed the connection";
			return -1;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			*why = errno == EPIPE || errno == ECONNRESET ?
			    "closed the connection" : strerror(errno);
			return -1;
		}
		for (;;) {
			left = deadline == 0 ? -1 : deadline - monotime_ms();
			if (deadline != 0 && left <= 0) {
				*why = "timed out";
				return -1;
			}
			pfd.fd = fd;
			pfd.events = out ? POLLOUT : POLLIN;
			pfd.revents = 0;
			r = poll(&pfd, 1, left > INT32_MAX ? INT32_MAX :
			    (int)left);
			if (r == -1 && errno == EINTR)
				continue;
			if (r == -1) {
				*why = strerror(errno);
				return -1;
			}
			if (r > 0)
				break;
		}
	}
	return 0;
}

static int
parser_send(int fd, enum parser_frame type, const void *p, size_t len,
    long long deadline, const char **why)
{
	unsigned char	h[PARSER_HEAD];

	parser_head(h, type, len);
	if (parser_io(fd, 1, h, sizeof h, deadline, why) == -1)
		return -1;
	if (len > 0 && parser_io(fd, 1, (void *)p, len, deadline, why) == -1)
		return -1;
	return 0;
}

/*
 * Read one frame of at most max bytes: *data (caller frees, NUL-
 * terminated) and *len.
 */
static int
parser_recv(int fd, enum parser_frame *type, char **data, size_t *len,
    size_t max, long long deadline, const char **why)
{
	unsigned char	 h[PARSER_HEAD];
	uint64_t	 n;

	*data = NULL;
	if (parser_io(fd, 0, h, sizeof h, deadline, why) == -1)
		return -1;
	if (parser_unhead(h, type, &n) == -1) {
		*why = "sent a frame that is not one";
		return -1;
	}
	if (n > max) {
		*why = "sent a frame that is too large";
		return -1;
	}
	*data = xmalloc((size_t)n + 1);
	if (parser_io(fd, 0, *data, (size_t)n, deadline, why) == -1) {
		free(*data);
		*data = NULL;
		return -1;
	}
	(*data)[n] = '\0';
	*len = (size_t)n;
	return 0;
}

/* --- the daemon's side ------------------------------------------------------ */

/* Why the child died, from its wait status: "exited with status 1". */
static char *
parser_status(const struct parser *p, int status)
{
	int	sig;

	if (WIFEXITED(status))
		return xprintf("exited with status %d", WEXITSTATUS(status));
	if (!WIFSIGNALED(status))
		return xprintf("stopped (status %#x)", status);
	sig = WTERMSIG(status);
	if (sig == SIGXCPU)
		return xprintf("went over its CPU limit of %u s", p->opt.cpu);
	if (sig == SIGKILL)
		return xstrdup("was killed (SIGKILL: its CPU budget, or the "
		    "kernel's OOM killer)");
	return xprintf("was killed by signal %d (%s)", sig, strsignal(sig));
}

/* Kill (when asked) and wait for the child; its death as text or NULL. */
static char *
parser_reap(struct parser *p, int kill_it)
{
	int	status = 0;
	pid_t	r;

	if (p->fd != -1)
		close(p->fd);
	p->fd = -1;
	if (p->pid == -1)
		return NULL;
	if (kill_it)
		kill(p->pid, SIGKILL);
	do
		r = waitpid(p->pid, &status, 0);
	while (r == -1 && errno == EINTR);
	p->pid = -1;
	p->retiring = 0;
	if (r == -1)
		return xprintf("could not be waited for: %s", strerror(errno));
	return parser_status(p, status);
}

/* The child gone already (between messages)?  Reap it quietly. */
static void
parser_check(struct parser *p)
{
	int	 status;
	char	*why;

	if (p->pid == -1)
		return;
	if (p->retiring) {
		free(parser_reap(p, 0));
		return;
	}
	if (waitpid(p->pid, &status, WNOHANG) == p->pid) {
		why = parser_status(p, status);
		log_warn("parser: child %ld %s while idle", (long)p->pid, why);
		free(why);
		p->pid = -1;
		close(p->fd);
		p->fd = -1;
	}
}

/* argv and a small environment for the child. */
static char **
parser_env(const struct parser *p)
{
	static const char	*keep[] = { "ASAN_OPTIONS", "UBSAN_OPTIONS",
				    "LSAN_OPTIONS" };
	char			**env;
	const char		*v;
	size_t			 i, n = 0;

	env = xcalloc(8, sizeof *env);
	env[n++] = xstrdup("PATH=/usr/bin:/bin");
	for (i = 0; i < sizeof keep / sizeof keep[0]; i++) {
		if ((v = getenv(keep[i])) == NULL)
			continue;
#ifdef PARSER_ASAN
		if (i == 0)
			continue;
#endif
		env[n++] = xprintf("%s=%s", keep[i], v);
	}
#ifdef PARSER_ASAN
	/*
	 * RLIMIT_AS cannot work under ASan (its shadow is terabytes), so
	 * ASan's own RSS limit stands in; LeakSanitizer cannot stop the
	 * world in a confined child (no ptrace, no clone), so it is off
	 * there: the same code runs under LSan in-process in the tests.
	 */
	if ((v = getenv("ASAN_OPTIONS")) == NULL)
		v = "";
	/*
	 * The RSS limit's thread reads /proc/self/statm, which the sandbox
	 * forbids: getrusage() tells it instead.
	 */
	if (p->opt.memory > 0)
		env[n++] = xprintf("ASAN_OPTIONS=%s%sdetect_leaks=0:"
		    "can_use_proc_maps_statm=0:hard_rss_limit_mb=%zu", v,
		    *v != '\0' ? ":" : "", p->opt.memory >> 20);
	else
		env[n++] = xprintf("ASAN_OPTIONS=%s%sdetect_leaks=0:"
		    "can_use_proc_maps_statm=0", v, *v != '\0' ? ":" : "");
#else
	(void)p;
#endif
	return env;
}

static void
parser_env_free(char **env)
{
	size_t	i;

	for (i = 0; env[i] != NULL; i++)
		free(env[i]);
	free(env);
}

static int
parser_spawn(struct parser *p, char **cause)
{
	posix_spawn_file_actions_t	 fa;
	posix_spawnattr_t		 attr;
	sigset_t			 none, all;
	unsigned char			 cfg[PARSER_CONFIG_N * 8 +
					     PARSER_USER_MAX];
	char				*argv[3], **env, *data, *why2;
	const char			*why;
	enum parser_frame		 type;
	size_t				 len, ulen;
	uint64_t			 v[PARSER_CONFIG_N];
	pid_t				 pid;
	int				 sv[2], fd, rc, i;
	long long			 deadline;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		*cause = xprintf("socketpair: %s", strerror(errno));
		return -1;
	}
	/* dup2(3, 3) would leave close-on-exec set: move it first. */
	if (sv[1] == PARSER_CHILD_FD) {
		fd = fcntl(sv[1], F_DUPFD_CLOEXEC, PARSER_CHILD_FD + 1);
		close(sv[1]);
		if (fd == -1) {
			*cause = xprintf("fcntl: %s", strerror(errno));
			close(sv[0]);
			return -1;
		}
		sv[1] = fd;
	}

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, sv[1], PARSER_CHILD_FD);
	posix_spawn_file_actions_addclosefrom_np(&fa, PARSER_CHILD_FD + 1);
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
	argv[0] = (char *)"postroom-parser";
	argv[1] = (char *)PARSER_CHILD_ARG;
	argv[2] = NULL;
	env = parser_env(p);
	rc = posix_spawn(&pid, p->exe, &fa, &attr, argv, env);
	parser_env_free(env);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	close(sv[1]);
	if (rc != 0) {
		*cause = xprintf("cannot run %s: %s", p->exe, strerror(rc));
		close(sv[0]);
		return -1;
	}
	p->pid = pid;
	p->fd = sv[0];
	p->retiring = 0;
	if (fcntl(p->fd, F_SETFL, fcntl(p->fd, F_GETFL) | O_NONBLOCK) == -1)
		fatalx("parser: fcntl: %s", strerror(errno));

	/* Tell it its limits; it answers READY once confined. */
	v[0] = p->opt.limits.max_size;
	v[1] = p->opt.limits.max_depth;
	v[2] = p->opt.limits.max_parts;
	v[3] = p->opt.limits.max_text;
	v[4] = p->opt.limits.max_headers;
	v[5] = p->opt.limits.max_addresses;
	v[6] = p->opt.cpu;
	v[7] = p->opt.cpu_budget;
	v[8] = p->opt.memory;
	v[9] = p->opt.max_messages;
	v[10] = (uint64_t)p->opt.fault;
	v[11] = p->opt.fault_after;
	for (i = 0; i < PARSER_CONFIG_N; i++)
		parser_put64(cfg + 8 * i, v[i]);
	ulen = strlen(p->user);
	memcpy(cfg + PARSER_CONFIG_N * 8, p->user, ulen);
	deadline = monotime_ms() + PARSER_START_TIMEOUT * 1000LL;
	if (parser_send(p->fd, PARSER_CONFIG, cfg, PARSER_CONFIG_N * 8 + ulen,
	    deadline, &why) == -1 ||
	    parser_recv(p->fd, &type, &data, &len, 4096, deadline,
	    &why) == -1) {
		why2 = parser_reap(p, 1);
		*cause = xprintf("parser child %s did not start (%s; it %s): "
		    "does its main() call parser_child_main()?", p->exe, why,
		    why2);
		free(why2);
		return -1;
	}
	if (type != PARSER_READY) {
		if (!utf8_valid(data, len) || strlen(data) != len)
			data[0] = '\0';
		why2 = parser_reap(p, 1);
		*cause = xprintf("parser child did not start: %s",
		    type == PARSER_ERROR ? data : "unexpected frame");
		free(why2);
		free(data);
		return -1;
	}
	if (!utf8_valid(data, len) || strlen(data) != len)
		data[0] = '\0';
	log_debug("parser: child %ld started, confined by %s", (long)p->pid,
	    *data != '\0' ? data : "(it did not say)");
	free(data);
	return 0;
}

struct parser *
parser_start(const struct conf *conf, char **cause)
{
	struct parser_options	o;

	parser_options_default(&o, conf);
	return parser_start_options(&o, cause);
}

struct parser *
parser_start_options(const struct parser_options *o, char **cause)
{
	struct parser	*p;

	if (o->user != NULL && strlen(o->user) > PARSER_USER_MAX) {
		*cause = xprintf("parser user name too long: %s", o->user);
		return NULL;
	}
	p = xcalloc(1, sizeof *p);
	p->opt = *o;
	p->exe = xstrdup(o->exe != NULL ? o->exe : "/proc/self/exe");
	p->user = xstrdup(o->user != NULL ? o->user : "nobody");
	p->opt.exe = p->exe;
	p->opt.user = p->user;
	if (p->opt.timeout == 0)
		p->opt.timeout = PARSER_TIMEOUT;
	if (p->opt.cpu == 0)
		p->opt.cpu = PARSER_CPU;
	if (p->opt.cpu_budget < p->opt.cpu)
		p->opt.cpu_budget = p->opt.cpu > PARSER_CPU_BUDGET / 2 ?
		    p->opt.cpu * 2 : PARSER_CPU_BUDGET;
	p->pid = -1;
	p->fd = -1;
	if (parser_spawn(p, cause) == -1) {
		parser_stop(p);
		return NULL;
	}
	return p;
}

pid_t
parser_pid(const struct parser *p)
{
	return p->pid;
}

/* A failed message, with what the daemon may safely read of the raw. */
static struct message *
parser_failed(const char *raw, size_t len, const char *detail)
{
	struct message	*m;
	char		*id, *lt, *gt;

	m = message_new_failed(detail);
	if ((id = mime_parse_find_header(raw, len, "message-id")) != NULL) {
		lt = strchr(id, '<');
		gt = lt != NULL ? strchr(lt, '>') : NULL;
		free(m->message_id);
		if (lt != NULL && gt != NULL)
			m->message_id = xstrndup(lt + 1, (size_t)(gt - lt - 1));
		else
			m->message_id = xstrdup(id);
		free(id);
	}
	if ((id = mime_parse_find_header(raw, len, "subject")) != NULL) {
		free(m->subject);
		m->subject = id;
	}
	return m;
}

/*
 * Give up on the child for this message: kill, reap, log, fail.  what
 * is the I/O's complaint ("closed the connection", "timed out") or the
 * daemon's ("sent a malformed reply ...").
 */
static struct message *
parser_fail(struct parser *p, const char *raw, size_t len, const char *what)
{
	struct message	*m;
	char		*death, *detail;
	long		 pid = (long)p->pid;

	death = parser_reap(p, 1);
	if (death == NULL)
		death = xstrdup("was gone");
	if (strcmp(what, "timed out") == 0)
		detail = xprintf("parser child %ld timed out after %u s and "
		    "was killed", pid, p->opt.timeout);
	else if (strcmp(what, "closed the connection") == 0)
		detail = xprintf("parser child %ld died: it %s", pid, death);
	else
		detail = xprintf("parser child %ld %s; it %s", pid, what,
		    strncmp(death, "was killed (SIGKILL", 19) == 0 ?
		    "was killed" : death);
	log_warn("parser: %s; the message goes on unparsed, a new child "
	    "starts with the next one", detail);
	m = parser_failed(raw, len, detail);
	free(detail);
	free(death);
	return m;
}

/* 1 when m carries the bytes of an attachment other than part. */
static int
parser_bytes_unasked(const struct message *m, size_t part)
{
	size_t	i;

	for (i = 0; i < m->nattachments; i++) {
		if (m->attachments[i].data != NULL && i != part)
			return 1;
	}
	return 0;
}

/*
 * parser_parse_part()'s exchange: frame (PARSE, or PARSE_PART when part
 * is not MIME_PARSE_NO_PART) of sendlen bytes at send; raw[0..len) the
 * message itself, for what the daemon reads of one that failed.
 */
static int
parser_ask(struct parser *p, const char *send, size_t sendlen, size_t part,
    const char *raw, size_t len, size_t cap, struct message **out,
    char **cause)
{
	enum parser_frame	 type;
	struct message		*m;
	const char		*why;
	char			*data, *ucause = NULL, *detail;
	size_t			 rlen;
	long long		 deadline;
	int			 attempt;

	for (attempt = 0;; attempt++) {
		parser_check(p);
		if (p->pid == -1 && parser_spawn(p, cause) == -1) {
			detail = xprintf("no parser child: %s", *cause);
			*out = parser_failed(raw, len, detail);
			free(detail);
			return -1;
		}
		deadline = monotime_ms() + p->opt.timeout * 1000LL;
		if (parser_send(p->fd, part == MIME_PARSE_NO_PART ?
		    PARSER_PARSE : PARSER_PARSE_PART, send, sendlen, deadline,
		    &why) == 0)
			break;
		/* Gone before it had the message: not the message's fault. */
		if (attempt == 0 && strcmp(why, "timed out") != 0) {
			free(parser_reap(p, 1));
			continue;
		}
		*out = parser_fail(p, raw, len, why);
		return 0;
	}

	if (parser_recv(p->fd, &type, &data, &rlen, cap, deadline,
	    &why) == -1) {
		*out = parser_fail(p, raw, len, why);
		return 0;
	}
	if (type == PARSER_ERROR) {
		if (!utf8_valid(data, rlen) || strlen(data) != rlen)
			data[0] = '\0';
		detail = xprintf("gave up: %.200s", data);
		*out = parser_fail(p, raw, len, detail);
		free(detail);
		free(data);
		return 0;
	}
	if (type != PARSER_RESULT && type != PARSER_LAST) {
		free(data);
		*out = parser_fail(p, raw, len, "sent an unexpected frame");
		return 0;
	}
	if ((m = message_unpack(data, rlen, &ucause)) == NULL) {
		detail = xprintf("sent a malformed reply (%s)", ucause);
		*out = parser_fail(p, raw, len, detail);
		free(detail);
		free(ucause);
		free(data);
		return 0;
	}
	free(data);
	if (m->status == MESSAGE_FAILED) {
		/* Only the daemon says that: the child is lying. */
		message_free(m);
		*out = parser_fail(p, raw, len, "claimed a failure");
		return 0;
	}
	if (parser_bytes_unasked(m, part)) {
		message_free(m);
		*out = parser_fail(p, raw, len, "sent bytes not asked for");
		return 0;
	}
	if (type == PARSER_LAST)
		p->retiring = 1;
	*out = m;
	return 0;
}

int
parser_parse(struct parser *p, const char *raw, size_t len,
    struct message **out, char **cause)
{
	return parser_parse_part(p, raw, len, MIME_PARSE_NO_PART, out, cause);
}

int
parser_parse_part(struct parser *p, const char *raw, size_t len,
    size_t part, struct message **out, char **cause)
{
	char		*framed = NULL;
	const char	*send = raw;
	size_t		 sendlen, cap;
	int		 rc;

	*out = NULL;
	sendlen = len;
	if (p->opt.limits.max_size > 0 && len > p->opt.limits.max_size)
		sendlen = p->opt.limits.max_size + 1;	/* it says LIMITS */
	cap = 4 * p->opt.limits.max_size + 2 * p->opt.limits.max_text +
	    (1 << 20);
	if (part != MIME_PARSE_NO_PART) {
		/* The part's number, then the message, in one frame. */
		framed = xmalloc(sendlen + 8);
		parser_put64((unsigned char *)framed, (uint64_t)part);
		memcpy(framed + 8, raw, sendlen);
		send = framed;
		sendlen += 8;
	}
	rc = parser_ask(p, send, sendlen, part, raw, len, cap, out, cause);
	free(framed);
	return rc;
}

void
parser_stop(struct parser *p)
{
	long long	deadline;
	int		status;

	if (p == NULL)
		return;
	if (p->fd != -1) {
		close(p->fd);	/* EOF: the child exits */
		p->fd = -1;
	}
	if (p->pid != -1) {
		deadline = monotime_ms() + PARSER_STOP_WAIT;
		while (waitpid(p->pid, &status, WNOHANG) == 0) {
			if (monotime_ms() >= deadline) {
				kill(p->pid, SIGKILL);
				while (waitpid(p->pid, &status, 0) == -1 &&
				    errno == EINTR)
					;
				break;
			}
			usleep(10000);
		}
		p->pid = -1;
	}
	free(p->exe);
	free(p->user);
	free(p);
}

/* --- the child's side -------------------------------------------------------- */

static void __attribute__((noreturn))
parser_child_die(const char *fmt, ...)
{
	char		 msg[512];
	const char	*why;
	va_list		 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	(void)parser_send(PARSER_CHILD_FD, PARSER_ERROR, msg, strlen(msg), 0,
	    &why);
	log_error("%s", msg);
	exit(1);
}

static void
parser_child_rlimit(int resource, const char *name, rlim_t soft, rlim_t hard)
{
	struct rlimit	rl;

	rl.rlim_cur = soft;
	rl.rlim_max = hard;
	if (setrlimit(resource, &rl) == -1)
		parser_child_die("setrlimit %s: %s", name, strerror(errno));
}

/*
 * Everything but the CPU limit, before any mail is read; the sandbox
 * last.  Returns the sandbox's walls (SANDBOX_*).
 */
static int
parser_child_confine(const struct parser_options *o, const char *user)
{
	struct passwd	*pw;
	gid_t		 gid;
	char		*cause;
	int		 walls;

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		parser_child_die("PR_SET_DUMPABLE: %s", strerror(errno));
	parser_child_rlimit(RLIMIT_CORE, "RLIMIT_CORE", 0, 0);

	if (geteuid() == 0) {
		if ((pw = getpwnam(user)) == NULL)
			parser_child_die("no user %s to run as", user);
		gid = pw->pw_gid;
		if (setgroups(1, &gid) == -1 ||
		    setresgid(gid, gid, gid) == -1 ||
		    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1)
			parser_child_die("cannot become %s: %s", user,
			    strerror(errno));
		if (pw->pw_uid == 0 || setuid(0) != -1)
			parser_child_die("still root after becoming %s", user);
	}
	parser_child_rlimit(RLIMIT_NPROC, "RLIMIT_NPROC", 0, 0);
	parser_child_rlimit(RLIMIT_NOFILE, "RLIMIT_NOFILE", PARSER_NOFILE,
	    PARSER_NOFILE);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		parser_child_die("PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
#ifndef PARSER_ASAN
	/* (Under ASan the daemon set hard_rss_limit_mb instead.) */
	if (o->memory > 0)
		parser_child_rlimit(RLIMIT_AS, "RLIMIT_AS", o->memory,
		    o->memory);
#endif
	(void)charset_preload();
	if ((walls = sandbox_enter(&cause)) == -1)
		parser_child_die("%s", cause);
	return walls;
}

/*
 * Re-arm the CPU limit for one more message: soft at what is used plus
 * cpu, hard at the budget.  Returns 1 when the budget is nearly spent
 * (this is then the last message).
 */
static int
parser_child_cpu(const struct parser_options *o)
{
	struct rusage	ru;
	rlim_t		used, soft;

	if (getrusage(RUSAGE_SELF, &ru) == -1)
		parser_child_die("getrusage: %s", strerror(errno));
	used = (rlim_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + 1);
	soft = used + o->cpu;
	if (soft > o->cpu_budget)
		soft = o->cpu_budget;
	parser_child_rlimit(RLIMIT_CPU, "RLIMIT_CPU", soft, o->cpu_budget);
	return used + 2 * (rlim_t)o->cpu > o->cpu_budget;
}

/* Tests: commit the fault asked for. */
static void
parser_child_fault(const struct parser_options *o, const char *raw,
    size_t len)
{
	volatile unsigned long	 spin = 0;
	char			*p;

	switch (o->fault) {
	case PARSER_FAULT_NONE:
	case PARSER_FAULT_GARBAGE:
		break;
	case PARSER_FAULT_CRASH:
		abort();
	case PARSER_FAULT_SEGV:
		raise(SIGSEGV);
		break;
	case PARSER_FAULT_SPIN:
		for (;;)
			spin++;
	case PARSER_FAULT_HANG:
		for (;;)
			pause();
	case PARSER_FAULT_ALLOC:
		for (;;) {
			p = xmalloc(16 << 20);
			memset(p, 1, 16 << 20);
		}
	case PARSER_FAULT_UNGUARDED:
		mime_parse_unguarded(raw, len);
		break;
	case PARSER_FAULT_ESCAPE:
		break;	/* parser_child_main() replies how it went */
	}
}

int
parser_child_main(int argc, char **argv)
{
	struct parser_options	 o;
	struct message		*m;
	struct buf		 reply;
	struct stat		 sb;
	enum parser_frame	 type;
	const char		*why;
	char			*data, *raw, user[PARSER_USER_MAX + 1];
	char			 said[512];
	size_t			 len, max, part;
	unsigned int		 n;
	int			 last, rc, walls;

	log_init("postroom-parser", LOGL_WARN);
	if (fstat(PARSER_CHILD_FD, &sb) == -1 || !S_ISSOCK(sb.st_mode)) {
		log_error("%s is only for postroom's own use", PARSER_CHILD_ARG);
		return 64;
	}

	/* The options. */
	if (parser_recv(PARSER_CHILD_FD, &type, &data, &len,
	    PARSER_CONFIG_N * 8 + PARSER_USER_MAX, 0, &why) == -1 ||
	    type != PARSER_CONFIG || len < PARSER_CONFIG_N * 8)
		parser_child_die("no configuration from the daemon");
	memset(&o, 0, sizeof o);
	o.limits.max_size = (size_t)parser_get64((unsigned char *)data);
	o.limits.max_depth = (size_t)parser_get64((unsigned char *)data + 8);
	o.limits.max_parts = (size_t)parser_get64((unsigned char *)data + 16);
	o.limits.max_text = (size_t)parser_get64((unsigned char *)data + 24);
	o.limits.max_headers = (size_t)parser_get64((unsigned char *)data +
	    32);
	o.limits.max_addresses = (size_t)parser_get64((unsigned char *)data +
	    40);
	o.cpu = (unsigned int)parser_get64((unsigned char *)data + 48);
	o.cpu_budget = (unsigned int)parser_get64((unsigned char *)data + 56);
	o.memory = (size_t)parser_get64((unsigned char *)data + 64);
	o.max_messages = (unsigned int)parser_get64((unsigned char *)data +
	    72);
	o.fault = (enum parser_fault)parser_get64((unsigned char *)data + 80);
	o.fault_after = (unsigned int)parser_get64((unsigned char *)data +
	    88);
	memcpy(user, data + PARSER_CONFIG_N * 8, len - PARSER_CONFIG_N * 8);
	user[len - PARSER_CONFIG_N * 8] = '\0';
	free(data);
	if (o.cpu == 0 || o.cpu_budget < o.cpu)
		parser_child_die("bad CPU limits %u/%u", o.cpu, o.cpu_budget);

	walls = parser_child_confine(&o, user);
	(void)parser_child_cpu(&o);
	snprintf(said, sizeof said, "seccomp%s%s",
	    (walls & SANDBOX_LANDLOCK) ? ", Landlock" : "",
	    (walls & SANDBOX_NETNS) ? ", an empty network namespace" : "");
	if (parser_send(PARSER_CHILD_FD, PARSER_READY, said, strlen(said), 0,
	    &why) == -1)
		return 1;

	/* Message after message, until EOF. */
	/* A message one byte over the limit (it says LIMITS), a part's 8. */
	max = o.limits.max_size > 0 ? o.limits.max_size + 1 + 8 :
	    SIZE_MAX - 1;
	for (n = 1;; n++) {
		if (parser_recv(PARSER_CHILD_FD, &type, &data, &len, max, 0,
		    &why) == -1) {
			if (strcmp(why, "closed the connection") == 0)
				return 0;
			parser_child_die("reading a message: %s", why);
		}
		raw = data;
		part = MIME_PARSE_NO_PART;
		if (type == PARSER_PARSE_PART) {
			if (len < 8)
				parser_child_die("a part frame without a part");
			part = (size_t)parser_get64((unsigned char *)data);
			raw = data + 8;
			len -= 8;
		} else if (type != PARSER_PARSE)
			parser_child_die("unexpected frame %d", (int)type);
		last = parser_child_cpu(&o);
		if (o.max_messages > 0 && n >= o.max_messages)
			last = 1;
		if (o.fault != PARSER_FAULT_NONE && n == o.fault_after)
			parser_child_fault(&o, raw, len);

		if (o.fault == PARSER_FAULT_ESCAPE && n == o.fault_after) {
			(void)sandbox_probe(raw, said, sizeof said);
			m = message_new_failed(said);
			m->status = MESSAGE_DEFECTIVE;	/* only the daemon
							   says FAILED */
		} else
			m = mime_parse_part(raw, len, &o.limits, part);
		free(data);
		buf_init(&reply, BUF_NOMAX);
		if (o.fault == PARSER_FAULT_GARBAGE && n == o.fault_after)
			(void)buf_add(&reply, "PRM1\x07garbage", 12);
		else if (message_pack(m, &reply) == -1)
			parser_child_die("cannot pack the result");
		message_free(m);
		rc = parser_send(PARSER_CHILD_FD, last ? PARSER_LAST :
		    PARSER_RESULT, reply.data, reply.len, 0, &why);
		buf_free(&reply);
		if (rc != 0)
			return 0;	/* the daemon has gone */
		if (last)
			return 0;
	}
}
