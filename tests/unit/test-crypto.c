/*
 * test-crypto.c - crypto_verify_chain(): which TLS server certificates
 * postroom trusts, and the words it gives when it does not.
 *
 * Owns: a table of chains (DER, made at test time by tests/tools/pki.sh
 * with the openssl command), each with the host connected to, the roots
 * trusted and the verdict wanted: accepted, or refused saying a given
 * phrase.  Covers names (IP, DNS, wildcard, CN only), trust (unknown CA,
 * self-signed, an intermediate sent or not), strength (1024-bit RSA in the
 * leaf or an intermediate, SHA-1 and MD5 signatures), purpose, and broken
 * input.  Does not own: the TLS connection (test-source-imap.c shows the
 * same certificates from a real Dovecot).  HMAC and SHA-256 are checked in
 * test-token.c.
 *
 * Skipped, saying so, when the openssl command is not installed.
 */
#include "testutil.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <unistd.h>

#include "crypto.h"
#include "log.h"

static char	 dir[256];		/* this run's certificates */
static int	 have_pki;

/*
 * chain: certificate names under dir, the server's first; ca: "ca" for
 * dir/ca.pem, "" for the system's roots, or another file under dir; want:
 * NULL to accept, else a phrase the refusal must contain.
 */
static const struct {
	const char	*what;
	const char	*chain;
	const char	*host;
	const char	*ca;
	const char	*want;
} verify_cases[] = {
	/* Names: subjectAltName only. */
	{ "IP address", "good", "127.0.0.1", "ca", NULL },
	{ "IPv6 address", "v6", "::1", "ca", NULL },
	{ "IPv6 address in brackets", "v6", "[::1]", "ca", NULL },
	{ "DNS name", "name", "localhost", "ca", NULL },
	{ "DNS name, other case", "name", "LocalHost", "ca", NULL },
	{ "wildcard", "name", "mail.example.org", "ca", NULL },
	{ "wildcard, two labels", "name", "a.mail.example.org", "ca",
	  "does not name a.mail.example.org" },
	{ "another name", "wrong", "127.0.0.1", "ca",
	  "the server's certificate (CN=wrong, names DNS:wrong.example) "
	  "does not name 127.0.0.1" },
	{ "IP certificate, DNS host", "good", "localhost", "ca",
	  "does not name localhost" },
	{ "DNS certificate, IP host", "name", "127.0.0.1", "ca",
	  "does not name 127.0.0.1" },
	{ "name in the CN only", "cnonly", "localhost", "ca",
	  "(CN=localhost) does not name localhost (it has no "
	  "subjectAltName, and a name in the CN alone is not accepted)" },

	/* Trust. */
	{ "unknown CA", "good", "127.0.0.1", "",
	  "the server's certificate (CN=good, names IP:127.0.0.1) is not "
	  "signed by a trusted authority" },
	{ "self-signed", "self", "127.0.0.1", "ca",
	  "(CN=127.0.0.1, names IP:127.0.0.1) is self-signed, not signed by "
	  "a trusted authority" },
	{ "intermediate sent", "viainter inter", "127.0.0.1", "ca", NULL },
	{ "intermediate and more, any order", "viainter good inter",
	  "127.0.0.1", "ca", NULL },
	{ "intermediate not sent", "viainter", "127.0.0.1", "ca",
	  "(CN=viainter, names IP:127.0.0.1) is not signed by a trusted "
	  "authority" },
	{ "CA certificate as the server's", "ca", "127.0.0.1", "ca",
	  "(CN=postroom test CA) is not meant for a TLS server" },

	/* Strength: security level 2, as Debian's libssl asks. */
	{ "1024-bit RSA key", "rsa1024", "127.0.0.1", "ca",
	  "the server's certificate (CN=rsa1024, names IP:127.0.0.1) uses a "
	  "1024-bit RSA key; 2048 bits or more are required" },
	{ "1024-bit RSA intermediate", "viaweak weakinter", "127.0.0.1", "ca",
	  "certificate 1 in the server's chain (CN=postroom weak "
	  "intermediate) uses a 1024-bit RSA key; 2048 bits or more are "
	  "required" },
	{ "SHA-1 signature", "sha1", "127.0.0.1", "ca",
	  "the server's certificate (CN=sha1, names IP:127.0.0.1) is signed "
	  "with SHA-1, which is no longer accepted" },
	{ "MD5 signature", "md5", "127.0.0.1", "ca",
	  "the server's certificate (CN=md5, names IP:127.0.0.1) is signed "
	  "with MD5, which is no longer accepted" },

	/* Purpose. */
	{ "for TLS clients only", "client", "127.0.0.1", "ca",
	  "(CN=client, names IP:127.0.0.1) is not meant for a TLS server" },

	/* Broken input. */
	{ "no certificate", "", "127.0.0.1", "ca",
	  "the server sent no certificate" },
	{ "not DER", "good notder", "127.0.0.1", "ca",
	  "certificate 1 the server sent is not valid DER" },
	{ "CA file missing", "good", "127.0.0.1", "missing.pem",
	  "missing.pem: cannot load CA certificates: No such file" },
	{ "CA file not PEM", "good", "127.0.0.1", "good.der",
	  "good.der: cannot load CA certificates" },
};

/* The whole of dir/name, or fail. */
static char *
read_all(const char *name, size_t *len)
{
	struct stat	 st;
	char		*path, *buf;
	FILE		*f;

	path = xprintf("%s/%s", dir, name);
	if ((f = fopen(path, "rb")) == NULL || fstat(fileno(f), &st) != 0) {
		print_error("%s: cannot read\n", path);
		fail();
	}
	buf = xmalloc((size_t)st.st_size + 1);
	*len = fread(buf, 1, (size_t)st.st_size, f);
	assert_int_equal(*len, (size_t)st.st_size);
	fclose(f);
	free(path);
	return buf;
}

static void
test_verify(void **state)
{
	struct crypto_der	 der[4];
	char			*bufs[4], *names, *name, *p, *ca, *cause;
	size_t			 i, n, j;
	int			 rc, failed = 0;

	if (!have_pki) {
		print_message("# SKIP: needs the openssl command\n");
		skip();
	}
	for (i = 0; i < sizeof verify_cases / sizeof verify_cases[0]; i++) {
		/* The chain, as the server would send it. */
		names = xstrdup(verify_cases[i].chain);
		n = 0;
		for (p = names; (name = strsep(&p, " ")) != NULL;) {
			if (*name == '\0')
				continue;
			assert_true(n < sizeof der / sizeof der[0]);
			if (strcmp(name, "notder") == 0) {
				bufs[n] = xstrdup("not a certificate");
				der[n].len = strlen(bufs[n]);
			} else {
				name = xprintf("%s.der", name);
				bufs[n] = read_all(name, &der[n].len);
				free(name);
			}
			der[n].data = (const unsigned char *)bufs[n];
			n++;
		}
		free(names);
		if (strcmp(verify_cases[i].ca, "ca") == 0)
			ca = xprintf("%s/ca.pem", dir);
		else if (*verify_cases[i].ca == '\0')
			ca = xstrdup("");
		else
			ca = xprintf("%s/%s", dir, verify_cases[i].ca);

		cause = NULL;
		rc = crypto_verify_chain(der, n, verify_cases[i].host, ca,
		    &cause);
		if (verify_cases[i].want == NULL && rc != 0) {
			print_error("%s: got refused (%s), want accepted\n",
			    verify_cases[i].what, cause);
			failed++;
		} else if (verify_cases[i].want != NULL && (rc != -1 ||
		    cause == NULL || strstr(cause, verify_cases[i].want) ==
		    NULL)) {
			print_error("%s:\n  got  %s\n  want refused, saying "
			    "\"%s\"\n", verify_cases[i].what, rc == 0 ?
			    "accepted" : cause, verify_cases[i].want);
			failed++;
		} else if (rc == -1)
			print_message("# %s: %s\n", verify_cases[i].what,
			    cause);
		free(cause);
		free(ca);
		for (j = 0; j < n; j++)
			free(bufs[j]);
	}
	if (failed > 0)
		fail_msg("%d of %zu cases failed", failed,
		    sizeof verify_cases / sizeof verify_cases[0]);
}

static int
group_setup(void **state)
{
	char	*cmd;
	int	 rc;

	log_init("test-crypto", LOGL_ERROR);
	snprintf(dir, sizeof dir, "%s/postroom-crypto.XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(dir) == NULL)
		return -1;
	if (system("openssl version >/dev/null 2>&1") != 0)
		return 0;
	cmd = xprintf("sh %s/tests/tools/pki.sh %s", test_top(), dir);
	rc = system(cmd);
	free(cmd);
	if (rc == -1 || !WIFEXITED(rc) || WEXITSTATUS(rc) != 0)
		return -1;
	have_pki = 1;
	return 0;
}

static int
group_teardown(void **state)
{
	test_remove_dir(dir);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verify),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
