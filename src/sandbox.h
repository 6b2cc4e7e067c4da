/*
 * sandbox.h - shutting a process in with what it already holds.
 *
 * After sandbox_enter() the process cannot open a file (any path, any
 * flags), create or connect a socket, execute a program, fork, map
 * memory executable, change its privileges, trace or signal another
 * process: a seccomp filter (libseccomp) allows only the system calls
 * that reading and writing the descriptors it has, memory, time, its
 * own limits and dying need, on every thread (TSYNC), and answers any
 * other with EPERM.  PR_SET_NO_NEW_PRIVS comes first.  Where the kernel
 * allows, two more walls stand behind it: a Landlock domain that grants
 * no access to any file, and a new, empty network namespace (directly
 * as root, else inside a new user namespace).
 *
 * Call it last in a process's set-up: whatever must be opened (iconv's
 * modules, say: charset_preload()) must be open before.  The parser
 * child (parser.c) is its user.
 *
 * Owns: the allow-list, the Landlock ruleset, the namespace.  Does not
 * own: resource limits or dropping to another user (parser.c).
 */
#ifndef POSTROOM_SANDBOX_H
#define POSTROOM_SANDBOX_H

/* What stands, for a log line: SANDBOX_* bits. */
#define SANDBOX_SECCOMP		0x1
#define SANDBOX_LANDLOCK	0x2
#define SANDBOX_NETNS		0x4

/*
 * Enter the sandbox.  Returns the SANDBOX_* bits that stand (always
 * SANDBOX_SECCOMP), or -1 with *cause (caller frees) when the filter
 * could not be installed: the caller must then not go on.
 */
int	 sandbox_enter(char **cause);

/*
 * For tests of the walls, from inside: try to open path, to make an
 * IPv4 and a Unix socket, and to execute /bin/true.  Writes one line
 * per attempt into out ("open: denied (Operation not permitted)", or
 * "open: SUCCEEDED"); returns the number that succeeded (0 when all
 * walls hold).  An execve that succeeds does not return at all.
 */
int	 sandbox_probe(const char *path, char *out, size_t outsize);

#endif
