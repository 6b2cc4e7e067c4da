/*
 * cmd-config.c - "postroom check-config" and "postroom config dump".
 *
 * Owns: how configuration problems are shown to a person (every problem,
 * one per line, FILE:LINE: first, then exit 2, as smtpd -n does).
 * Does not own: what is valid (conf.c, conf-check.c and conf-table.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "conf.h"

extern const struct cmd	cmd_check_config, cmd_config;

int
cmd_config_check(const char *path, char *const *ov, size_t nov)
{
	struct conf_errors	 errs = { 0 };
	struct conf		*conf;
	size_t			 i;

	if ((conf = conf_load(path, ov, nov, &errs)) != NULL) {
		conf_free(conf);
		conf_errors_free(&errs);
		printf("configuration OK\n");
		return 0;
	}
	for (i = 0; i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.msgs[i]);
	fprintf(stderr, "%s: %zu problem%s found\n", path, errs.n,
	    errs.n == 1 ? "" : "s");
	conf_errors_free(&errs);
	return 2;
}

static int
cmd_check_config_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	if (cmd_wants_help(argc, argv)) {
		cmd_usage(&cmd_check_config, stdout);
		printf("\nCheck the configuration file and every -o override.\n"
		    "Prints \"configuration OK\" and exits 0, or prints every\n"
		    "problem as FILE:LINE: ... and exits 2.\n");
		return EX_OK;
	}
	if (argc != 1) {
		cmd_usage(&cmd_check_config, stderr);
		return EX_USAGE;
	}
	return cmd_config_check(ctx->conf_path, ctx->overrides,
	    ctx->noverrides);
}

const struct cmd cmd_check_config = {
	"check-config", "",
	"check the configuration and report every problem",
	cmd_check_config_exec,
};

static int
cmd_config_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct conf	*conf;

	if (cmd_wants_help(argc, argv)) {
		cmd_usage(&cmd_config, stdout);
		printf("\n  dump    print every effective setting (defaults,"
		    " the file, -o),\n          with secrets masked\n");
		return EX_OK;
	}
	if (argc != 2 || strcmp(argv[1], "dump") != 0) {
		cmd_usage(&cmd_config, stderr);
		return EX_USAGE;
	}
	if ((conf = cmd_conf(ctx)) == NULL)
		return EX_CONFIG;
	conf_dump(conf, stdout);
	return EX_OK;
}

const struct cmd cmd_config = {
	"config", "dump",
	"print the effective configuration, secrets masked",
	cmd_config_exec,
};
