/*
 * sandbox.c - seccomp, Landlock and an empty network namespace: see
 * sandbox.h.
 */
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>

#include "log.h"
#include "sandbox.h"
#include "xmalloc.h"

/*
 * The system calls allowed, by name (a name this architecture does not
 * have is skipped).  Each earns its place: I/O on the descriptors held,
 * memory (never executable: see below), the clocks, the CPU limit that
 * parser.c re-arms before every message, signals to itself (abort), and
 * the ways out.  AddressSanitizer's background thread (its RSS limit)
 * needs getrusage and the sleeps.
 */
static const char *const sandbox_allowed[] = {
	"read", "readv", "write", "writev", "close", "poll", "ppoll",
	"lseek", "fstat", "newfstatat", "statx",
	"recvfrom", "sendto", "recvmsg", "sendmsg",
	"munmap", "mremap", "brk", "madvise", "futex", "sched_yield",
	"getrusage", "getrlimit", "setrlimit", "prlimit64",
	"getpid", "gettid", "getuid", "geteuid", "getgid", "getegid",
	"rt_sigprocmask", "rt_sigaction", "rt_sigreturn", "sigaltstack",
	"restart_syscall", "clock_gettime", "clock_getres", "gettimeofday",
	"time", "nanosleep", "clock_nanosleep", "getrandom",
	"exit", "exit_group",
};

#define SANDBOX_BPF_MAX		32768	/* bytes of BPF: far more than ours */

/*
 * Landlock (Linux 5.13): a ruleset that handles every file access right
 * the kernel knows and grants none.  The bits are spelled here because
 * older headers lack the later ones.
 */
struct sandbox_landlock_attr {
	uint64_t	handled_access_fs;
};

#define SANDBOX_LANDLOCK_VERSION	(1U << 0)

static int
sandbox_landlock(void)
{
#if defined(SYS_landlock_create_ruleset) && defined(SYS_landlock_restrict_self)
	struct sandbox_landlock_attr	attr;
	long				abi;
	int				fd, rc;

	abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    SANDBOX_LANDLOCK_VERSION);
	if (abi < 1)
		return 0;
	attr.handled_access_fs = (1ULL << 13) - 1;	/* ABI 1: 13 rights */
	if (abi >= 2)
		attr.handled_access_fs |= 1ULL << 13;	/* REFER */
	if (abi >= 3)
		attr.handled_access_fs |= 1ULL << 14;	/* TRUNCATE */
	fd = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0);
	if (fd == -1)
		return 0;
	rc = (int)syscall(SYS_landlock_restrict_self, fd, 0);
	close(fd);
	return rc == 0;
#else
	return 0;
#endif
}

/* An empty network namespace: as root directly, else in a user one. */
static int
sandbox_netns(void)
{
	if (unshare(CLONE_NEWNET) == 0)
		return 1;
	return unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0;
}

/*
 * When seccomp() itself is refused (systemd's SystemCallFilter without
 * it, say), install the same program with prctl(), which filters this
 * thread and those it starts: every thread but AddressSanitizer's own.
 */
static int
sandbox_seccomp_prctl(scmp_filter_ctx ctx)
{
	struct sock_fprog	 prog;
	unsigned char		 bpf[SANDBOX_BPF_MAX];
	ssize_t			 n;
	size_t			 len = 0;
	int			 fd[2], rc;

	if (pipe2(fd, O_CLOEXEC | O_NONBLOCK) == -1)
		return -errno;
	rc = seccomp_export_bpf(ctx, fd[1]);
	close(fd[1]);
	while (rc == 0 && len < sizeof bpf &&
	    (n = read(fd[0], bpf + len, sizeof bpf - len)) > 0)
		len += (size_t)n;
	close(fd[0]);
	if (rc != 0)
		return rc;
	if (len == 0 || len >= sizeof bpf || len % sizeof(struct sock_filter))
		return -EINVAL;
	prog.len = (unsigned short)(len / sizeof(struct sock_filter));
	prog.filter = (struct sock_filter *)(void *)bpf;
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) == -1)
		return -errno;
	return 0;
}

static int
sandbox_seccomp(char **cause)
{
	scmp_filter_ctx	ctx;
	size_t		i;
	int		nr, rc;

	if ((ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM))) == NULL) {
		*cause = xstrdup("seccomp_init failed");
		return -1;
	}
	/* Every thread; refused where seccomp() is (prctl() below). */
	(void)seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	rc = 0;
	for (i = 0; rc == 0 && i < sizeof sandbox_allowed /
	    sizeof sandbox_allowed[0]; i++) {
		nr = seccomp_syscall_resolve_name(sandbox_allowed[i]);
		if (nr == __NR_SCMP_ERROR)
			continue;
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
	}
	/* Memory, never executable: no code can be loaded or written. */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
		    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect),
		    1, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	/* Signals to itself only (abort() raises SIGABRT so). */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
		    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid()));
	if (rc == 0 && seccomp_load(ctx) != 0)
		rc = sandbox_seccomp_prctl(ctx);
	seccomp_release(ctx);
	if (rc != 0) {
		*cause = xprintf("cannot install the system-call filter: %s",
		    strerror(-rc));
		return -1;
	}
	return 0;
}

int
sandbox_enter(char **cause)
{
	int	walls;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		*cause = xprintf("PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
		return -1;
	}
	walls = 0;
	if (sandbox_netns())
		walls |= SANDBOX_NETNS;
	if (sandbox_landlock())
		walls |= SANDBOX_LANDLOCK;
	if (sandbox_seccomp(cause) == -1)
		return -1;
	return walls | SANDBOX_SECCOMP;
}

/* --- the probe, for tests ---------------------------------------------- */

static int
sandbox_probe_line(char **o, size_t *left, const char *what, int rc, int err)
{
	int	n;

	if (rc >= 0)
		n = snprintf(*o, *left, "%s: SUCCEEDED\n", what);
	else
		n = snprintf(*o, *left, "%s: denied (%s)\n", what,
		    strerror(err));
	if (n > 0 && (size_t)n < *left) {
		*o += n;
		*left -= (size_t)n;
	}
	return rc >= 0;
}

int
sandbox_probe(const char *path, char *out, size_t outsize)
{
	char			*o = out, *argv[] = { (char *)"true", NULL };
	char			*envp[] = { NULL };
	size_t			 left = outsize;
	int			 fd, n = 0;

	if (outsize > 0)
		out[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC);
	n += sandbox_probe_line(&o, &left, "open", fd, errno);
	if (fd >= 0)
		close(fd);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	n += sandbox_probe_line(&o, &left, "socket(AF_INET)", fd, errno);
	if (fd >= 0)
		close(fd);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	n += sandbox_probe_line(&o, &left, "socket(AF_UNIX)", fd, errno);
	if (fd >= 0)
		close(fd);
	fd = (int)fork();
	if (fd == 0)
		_exit(0);
	n += sandbox_probe_line(&o, &left, "fork", fd, errno);
	fd = execve("/bin/true", argv, envp);
	n += sandbox_probe_line(&o, &left, "execve", fd, errno);
	return n;
}
