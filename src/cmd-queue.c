/*
 * cmd-queue.c - "postroom queue status [--json]": what is in the outbox.
 *
 * Owns: the command's arguments and how the outbox looks to a person (a
 * table of kinds by states, what is due, the oldest waiting row, the next
 * retry, the rate-limit windows) or to a program (--json).  Does not own:
 * the counting (store-outbox.c, store.c) or delivery (deliver.c).
 *
 * Exit codes: 0; 64 for bad arguments; 75 when the database is busy.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "conf.h"
#include "ratelimit.h"
#include "store.h"
#include "value.h"
#include "xmalloc.h"

extern const struct cmd	cmd_queue;

static void
cmd_queue_help(FILE *f)
{
	cmd_usage(&cmd_queue, f);
	fprintf(f, "\nShow what is in the outbox, the one queue that "
	    "everything postroom\nsends passes through: rows by kind and "
	    "state, what is due now, the\noldest row still waiting and when "
	    "the next retry is.\n\n"
	    "  status         the summary (the only subcommand)\n"
	    "  --json         as one JSON object\n");
}

/* "3m ago", "in 45s", for times near now. */
static const char *
cmd_queue_when(int64_t t, int64_t now, char *out, size_t len)
{
	int64_t	d = t > now ? t - now : now - t;
	char	n[24];	/* a number and a unit: 22 at most */

	if (d < 120)
		snprintf(n, sizeof n, "%llds", (long long)d);
	else if (d < 7200)
		snprintf(n, sizeof n, "%lldm", (long long)(d / 60));
	else if (d < 2 * 86400)
		snprintf(n, sizeof n, "%lldh", (long long)(d / 3600));
	else
		snprintf(n, sizeof n, "%lldd", (long long)(d / 86400));
	if (t > now)
		snprintf(out, len, "in %s", n);
	else
		snprintf(out, len, "%s ago", n);
	return out;
}

static void
cmd_queue_text(const struct store_outbox_counts *c,
    const struct store_outbox_kinds *k, const struct store_outbox_rate *r,
    const int *have_rate, int64_t now)
{
	static const char *const keys[] = {
		RATELIMIT_KEY_SECOND, RATELIMIT_KEY_HOUR
	};
	int64_t	 row;
	char	 when[32];
	int	 kind, st, i;

	printf("%-12s", "");
	for (st = 0; st < STORE_OUTBOX_NSTATES; st++)
		printf(" %9s", store_outbox_state_name(st));
	printf(" %9s\n", "total");
	for (kind = 0; kind < STORE_OUTBOX_NKINDS; kind++) {
		row = 0;
		for (st = 0; st < STORE_OUTBOX_NSTATES; st++)
			row += k->n[kind][st];
		if (row == 0)
			continue;
		printf("%-12s", store_outbox_kind_name(kind));
		for (st = 0; st < STORE_OUTBOX_NSTATES; st++)
			printf(" %9lld", (long long)k->n[kind][st]);
		printf(" %9lld\n", (long long)row);
	}
	printf("%-12s", "all");
	for (st = 0; st < STORE_OUTBOX_NSTATES; st++)
		printf(" %9lld", (long long)c->state[st]);
	printf(" %9lld\n\n", (long long)c->total);

	printf("due now:       %lld\n", (long long)c->due);
	if (c->oldest != 0)
		printf("oldest unsent: queued %s\n",
		    cmd_queue_when(c->oldest, now, when, sizeof when));
	if (c->next_attempt != 0 && c->next_attempt > now)
		printf("next attempt:  %s\n",
		    cmd_queue_when(c->next_attempt, now, when, sizeof when));
	for (i = 0; i < 2; i++) {
		if (have_rate[i])
			printf("%s: %lld sent in the window from %s\n",
			    keys[i], (long long)r[i].count,
			    cmd_queue_when(r[i].window_start, now, when,
			    sizeof when));
	}
}

static struct value *
cmd_queue_json(const struct store_outbox_counts *c,
    const struct store_outbox_kinds *k, const struct store_outbox_rate *r,
    const int *have_rate, int64_t now)
{
	static const char *const keys[] = {
		RATELIMIT_KEY_SECOND, RATELIMIT_KEY_HOUR
	};
	struct value	*o, *states, *kinds, *one, *rates, *rate;
	int		 kind, st, i;

	o = value_new_object();
	value_object_set(o, "now", value_new_int(now));
	value_object_set(o, "total", value_new_int(c->total));
	value_object_set(o, "due", value_new_int(c->due));
	value_object_set(o, "oldest", c->oldest != 0 ?
	    value_new_int(c->oldest) : value_new_null());
	value_object_set(o, "next_attempt", c->next_attempt != 0 ?
	    value_new_int(c->next_attempt) : value_new_null());
	states = value_new_object();
	for (st = 0; st < STORE_OUTBOX_NSTATES; st++)
		value_object_set(states, store_outbox_state_name(st),
		    value_new_int(c->state[st]));
	value_object_set(o, "states", states);
	kinds = value_new_object();
	for (kind = 0; kind < STORE_OUTBOX_NKINDS; kind++) {
		one = value_new_object();
		for (st = 0; st < STORE_OUTBOX_NSTATES; st++)
			value_object_set(one, store_outbox_state_name(st),
			    value_new_int(k->n[kind][st]));
		value_object_set(kinds, store_outbox_kind_name(kind), one);
	}
	value_object_set(o, "kinds", kinds);
	rates = value_new_object();
	for (i = 0; i < 2; i++) {
		if (!have_rate[i])
			continue;
		rate = value_new_object();
		value_object_set(rate, "window_start",
		    value_new_int(r[i].window_start));
		value_object_set(rate, "count", value_new_int(r[i].count));
		value_object_set(rate, "tokens", value_new_double(r[i].tokens));
		value_object_set(rates, keys[i], rate);
	}
	value_object_set(o, "rate_limits", rates);
	return o;
}

static int
cmd_queue_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const keys[] = {
		RATELIMIT_KEY_SECOND, RATELIMIT_KEY_HOUR
	};
	struct store_outbox_counts	 c;
	struct store_outbox_kinds	 k;
	struct store_outbox_rate	 r[2];
	struct conf			*conf;
	struct store			*s;
	struct value			*v;
	int64_t				 now = (int64_t)time(NULL);
	char				*cause = NULL;
	int				 ch, json = 0, have_rate[2], i, rc;

	if (cmd_wants_help(argc, argv)) {
		cmd_queue_help(stdout);
		return EX_OK;
	}
	/* GNU getopt permutes: --json may come before or after "status". */
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			json = 1;
			break;
		default:
			cmd_queue_help(stderr);
			return EX_USAGE;
		}
	}
	if (optind + 1 != argc || strcmp(argv[optind], "status") != 0) {
		cmd_queue_help(stderr);
		return EX_USAGE;
	}
	if ((conf = cmd_conf(ctx)) == NULL)
		return EX_CONFIG;
	if ((s = cmd_store_open_read(conf, &rc)) == NULL)
		return rc;
	if (store_outbox_counts(s, 0, now, &c, &cause) == -1 ||
	    store_outbox_kind_counts(s, &k, &cause) == -1)
		goto fail;
	for (i = 0; i < 2; i++) {
		if ((rc = store_outbox_rate_get(s, keys[i], &r[i],
		    &cause)) == -1)
			goto fail;
		have_rate[i] = rc == 1;
	}
	store_close(s);

	if (json) {
		v = cmd_queue_json(&c, &k, r, have_rate, now);
		cmd_print_json(v, 1);
		value_free(v);
	} else
		cmd_queue_text(&c, &k, r, have_rate, now);
	return EX_OK;

fail:
	rc = cmd_store_fail(s, cause);
	store_close(s);
	return rc;
}

const struct cmd cmd_queue = {
	.name = "queue",
	.usage = "status [--json]",
	.help = "what is in the outbox: by kind and state, due, retries",
	.exec = cmd_queue_exec,
};
