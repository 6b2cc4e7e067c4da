/*
 * cmd-deliver.c - "postroom deliver": the MTA pipe.  One message on
 * standard input is recorded and routed like one from the inbox.
 *
 * Exit codes are what an MTA understands (sysexits): 0 when the message
 * is recorded (routed, a duplicate, a bounce or an unsubscribe request
 * noted), 75 (EX_TEMPFAIL) when it could not be recorded so the MTA keeps
 * it and tries again, 78 for a configuration that cannot be loaded (also
 * temporary to an MTA).
 * Postfix: in master.cf, or in aliases as
 *	enquiries: "|/usr/local/bin/postroom deliver"
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cmd.h"
#include "conf.h"
#include "enquiry.h"
#include "log.h"
#include "message.h"
#include "parser.h"
#include "store.h"
#include "xmalloc.h"

extern const struct cmd	cmd_deliver;

/* Read all of standard input; oversized mail is kept whole (truncated=1). */
static int
cmd_deliver_read(struct buf *b, size_t max, int *truncated)
{
	char	chunk[65536];
	ssize_t	n;

	*truncated = 0;
	while ((n = read(STDIN_FILENO, chunk, sizeof chunk)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (buf_add(b, chunk, (size_t)n) == -1) {
			*truncated = 1;
			b->max = 0;	/* keep it all: nothing is dropped */
			if (buf_add(b, chunk, (size_t)n) == -1)
				return -1;
		}
	}
	if (b->data == NULL)
		buf_addstr(b, "");
	return 0;
}

static int
cmd_deliver_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct enquiry_result	 res;
	struct enquiry_env	*env = NULL;
	struct parser		*p = NULL;
	struct message		*msg = NULL;
	struct conf		*conf;
	struct store		*s;
	struct buf		 b;
	char			*cause = NULL;
	int			 truncated, rc = EX_TEMPFAIL, ex;

	if (cmd_wants_help(argc, argv)) {
		cmd_usage(&cmd_deliver, stdout);
		printf("\nRead one message on standard input and route it as an"
		    " enquiry (for an MTA's\npipe delivery).  Exits 0 when it"
		    " is recorded, 75 when the MTA should try\nagain later.\n");
		return EX_OK;
	}
	if (argc != 1) {
		cmd_usage(&cmd_deliver, stderr);
		return EX_USAGE;
	}
	if ((conf = cmd_conf(ctx)) == NULL)
		return EX_CONFIG;
	buf_init(&b, (size_t)conf->inbound.max_message_size);
	if (cmd_deliver_read(&b, (size_t)conf->inbound.max_message_size,
	    &truncated) == -1) {
		fprintf(stderr, "postroom: deliver: reading standard input: "
		    "%s\n", strerror(errno));
		goto out;
	}
	if (b.len == 0) {
		fprintf(stderr, "postroom: deliver: empty message\n");
		rc = EX_DATAERR;
		goto out;
	}
	if ((s = cmd_store(ctx, &ex)) == NULL) {
		rc = EX_TEMPFAIL;
		goto out;
	}
	if ((env = enquiry_open(conf, &cause)) == NULL)
		goto fail;
	if (truncated)
		msg = message_new_failed("larger than inbound.max_message_size");
	else {
		if ((p = parser_start(conf, &cause)) == NULL)
			goto fail;
		if (parser_parse(p, b.data, b.len, &msg, &cause) == -1)
			goto fail;
	}
	if (enquiry_receive(env, s, b.data, b.len, msg, "pipe", &res,
	    &cause) == -1)
		goto fail;
	switch (res.outcome) {
	case ENQUIRY_DUPLICATE:
		log_info("deliver: already recorded as %s", res.reference);
		break;
	case ENQUIRY_BOUNCE:
		log_info("deliver: a delivery report, recorded");
		break;
	case ENQUIRY_UNSUBSCRIBE:
		log_info("deliver: an unsubscribe request, recorded (%s)",
		    res.unsubscribe);
		break;
	default:
		log_info("deliver: %s to %s", res.reference, res.lead);
		break;
	}
	rc = EX_OK;
	goto out;

fail:
	fprintf(stderr, "postroom: deliver: %s; try again later\n", cause);
	free(cause);
out:
	if (msg != NULL)
		message_free(msg);
	parser_stop(p);
	enquiry_close(env);
	buf_free(&b);
	return rc;
}

const struct cmd cmd_deliver = {
	"deliver", "",
	"route one message from standard input (for an MTA pipe)",
	cmd_deliver_exec,
};
