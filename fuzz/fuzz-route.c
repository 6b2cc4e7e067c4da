/*
 * fuzz-route.c - libFuzzer target: the routing rules over hostile text.
 *
 * The shipped config/postroom.conf (all the network's rules) is loaded
 * once; each input is then a message: its first line the subject, the
 * rest the body, and also the sender's display name.  It goes through
 * router_decide() (every matcher, the word scanner, case folding, the
 * region helper and scoring), and through the condition-language parser
 * as one condition.  Checked: a decision always names a configured lead
 * and its reason is valid UTF-8.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "message.h"
#include "region.h"
#include "route.h"
#include "utf8.h"
#include "xmalloc.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct conf	*fuzz_conf;
static struct router	*fuzz_router;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct conf_errors	 errs = { 0 };
	const char		*top = getenv("POSTROOM_TOP");
	char			*path, *cause = NULL;

	(void)argc;
	(void)argv;
	path = xprintf("%s/config/postroom.conf", top != NULL ? top : ".");
	if ((fuzz_conf = conf_load(path, NULL, 0, &errs)) == NULL) {
		fprintf(stderr, "fuzz-route: %s: %s\n", path,
		    errs.n > 0 ? errs.msgs[0] : "cannot load");
		abort();
	}
	if ((fuzz_router = router_new(fuzz_conf, &cause)) == NULL) {
		fprintf(stderr, "fuzz-route: %s\n", cause);
		abort();
	}
	free(path);
	return 0;
}

/* Text as the parser would hand it over: valid UTF-8, no NUL. */
static char *
fuzz_text(const uint8_t *p, size_t len)
{
	char	*s = xmalloc(len + 1);
	size_t	 i;

	for (i = 0; i < len; i++)
		s[i] = p[i] == '\0' ? ' ' : (char)p[i];
	s[len] = '\0';
	if (!utf8_valid(s, len))
		for (i = 0; i < len; i++)
			if ((unsigned char)s[i] >= 0x80)
				s[i] = '?';
	return s;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct route_decision	 d;
	struct region_result	 rr;
	struct conf_node	 node;
	struct message		*m;
	const uint8_t		*nl;
	size_t			 first;
	char			*cause = NULL;

	nl = memchr(data, '\n', size);
	first = nl != NULL ? (size_t)(nl - data) : size;

	m = message_new();
	free(m->subject);
	m->subject = fuzz_text(data, first);
	free(m->body_text);
	m->body_text = fuzz_text(data + first, size - first);
	free(m->from.name);
	m->from.name = fuzz_text(data, first < 64 ? first : 64);
	free(m->from.addr);
	m->from.addr = xstrdup("someone@example.net");

	memset(&d, 0, sizeof d);
	if (router_decide(fuzz_router, m, &d, &cause) == 0) {
		if (d.lead == NULL || conf_lead_find(fuzz_conf, d.lead) == NULL)
			abort();
		if (d.reason == NULL || !utf8_valid(d.reason,
		    strlen(d.reason)))
			abort();
		route_decision_free(&d);
	} else
		free(cause);
	cause = NULL;

	region_detect(m->body_text, strlen(m->body_text), &rr);
	region_result_free(&rr);

	/* The first line as a rule condition, as check-config reads it. */
	memset(&node, 0, sizeof node);
	node.type = CONF_NODE_STRING;
	node.str = m->subject;
	(void)route_check_conditions(&node, &cause);
	free(cause);

	message_free(m);
	return 0;
}
