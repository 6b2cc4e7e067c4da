/*
 * cmd-campaign.h - what the "postroom campaign" command files share:
 * cmd-campaign.c (the help, the option table, writing and checking
 * drafts, previews and test copies) and cmd-campaign-send.c (sending,
 * watching and steering a campaign).  Not for other commands.
 */
#ifndef POSTROOM_CMD_CAMPAIGN_H
#define POSTROOM_CMD_CAMPAIGN_H

#include <stdint.h>

#include "campaign.h"

struct cmd_ctx;
struct conf;
struct fields_report;
struct store;
struct store_campaign;
struct value;

extern const struct cmd	cmd_campaign;

/* The options of one subcommand, as given. */
struct camp_opts {
	const char	*subject;
	const char	*body;
	const char	*template;
	const char	*list;
	const char	*subscriber;
	const char	*eml;
	const char	*html;
	const char	*to;
	const char	*at;
	int		 json;
	int		 text;
	int		 wait;
	int		 now;
	int		 yes;
	int		 permanent;
	char		**args;		/* positional arguments */
	int		 nargs;
};

/* --- helpers (cmd-campaign.c) --------------------------------------------- */

/* The configuration, with TZ set to general.timezone; NULL after saying why. */
struct conf	*cmd_campaign_conf(struct cmd_ctx *);
/* The id argument of a subcommand, or EX_USAGE after saying so. */
int		 cmd_campaign_arg_id(struct camp_opts *, const char *name,
		    int64_t *id);
/* Open the configuration and the database for subcommand name. */
int		 cmd_campaign_start(struct cmd_ctx *, struct camp_opts *,
		    const char *name, int64_t *id, struct conf **,
		    struct store **);
/* A campaign_* failure: say why once and pick the exit code. */
int		 cmd_campaign_fail(struct store *, enum campaign_fail,
		    char *cause);
/* Load campaign id: 1 found, else 0 with *rc set after saying why. */
int		 cmd_campaign_get(struct store *, int64_t id,
		    struct store_campaign *, int *rc);
/*
 * campaign_check() c, each problem a line on stderr (warnings when warn);
 * EX_OK, or EX_DATAERR saying "N problems: what".  keep: the report.
 */
int		 cmd_campaign_checked(struct conf *, struct store *,
		    const struct store_campaign *c, int warn,
		    const char *what, struct fields_report *keep);
/* Print v as one line of JSON and free it; the exit code. */
int		 cmd_campaign_json_out(struct value *v);
/* The exit code after a store walk that returned n (cause when -1). */
int		 cmd_campaign_walked(struct store *, int n, char *cause);

/* --- sending and steering (cmd-campaign-send.c) --------------------------- */

int	cmd_campaign_send(struct cmd_ctx *, struct camp_opts *);
int	cmd_campaign_unschedule(struct cmd_ctx *, struct camp_opts *);
int	cmd_campaign_status(struct cmd_ctx *, struct camp_opts *);
int	cmd_campaign_pause(struct cmd_ctx *, struct camp_opts *);
int	cmd_campaign_resume(struct cmd_ctx *, struct camp_opts *);
int	cmd_campaign_cancel(struct cmd_ctx *, struct camp_opts *);
int	cmd_campaign_retry(struct cmd_ctx *, struct camp_opts *);
int	cmd_campaign_failures(struct cmd_ctx *, struct camp_opts *);

#endif
