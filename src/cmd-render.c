/*
 * cmd-render.c - "postroom render": one Mustache template, JSON data, out.
 *
 * Owns: the command's arguments, its messages and its exit codes (66 for
 * a file that cannot be read, 65 for bad JSON or template syntax, 64 for
 * bad arguments).  Does not own: templates (template.c) or JSON (json.c).
 * Needs no configuration: it is a tool for writing and checking templates.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "cmd.h"
#include "json.h"
#include "template.h"
#include "value.h"
#include "xmalloc.h"

extern const struct cmd	cmd_render;

static const struct option cmd_render_options[] = {
	{ "template",	required_argument,	NULL, 't' },
	{ "data",	required_argument,	NULL, 'd' },
	{ "partials",	required_argument,	NULL, 'p' },
	{ "text",	no_argument,		NULL, 'T' },
	{ NULL,		0,			NULL, 0 }
};

static void
cmd_render_help(void)
{
	cmd_usage(&cmd_render, stdout);
	printf("\nRender a Mustache template with the data in a JSON file "
	    "and write the\nresult to standard output.\n\n"
	    "  --template FILE    the template\n"
	    "  --data FILE.json   the data (any JSON value)\n"
	    "  --partials DIR     where {{> name}} finds DIR/name.mustache"
	    " or DIR/name\n"
	    "  --text             text/plain: do not HTML-escape {{name}}\n");
}

static int
cmd_render_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	const char			*tpath = NULL, *dpath = NULL;
	const char			*pdir = NULL;
	struct template			*t = NULL;
	struct value			*data = NULL;
	struct template_partials	*tp = NULL;
	struct buf			 out;
	struct stat			 sb;
	char				*cause;
	int				 ch, text = 0, rc, err = 0;

	if (cmd_wants_help(argc, argv)) {
		cmd_render_help();
		return EX_OK;
	}
	while ((ch = getopt_long(argc, argv, ":", cmd_render_options,
	    NULL)) != -1) {
		switch (ch) {
		case 't':
			tpath = optarg;
			break;
		case 'd':
			dpath = optarg;
			break;
		case 'p':
			pdir = optarg;
			break;
		case 'T':
			text = 1;
			break;
		case ':':
			fprintf(stderr, "postroom: render: %s needs an "
			    "argument\n", argv[optind - 1]);
			cmd_usage(&cmd_render, stderr);
			return EX_USAGE;
		default:
			fprintf(stderr, "postroom: render: unknown option "
			    "%s\n", argv[optind - 1]);
			cmd_usage(&cmd_render, stderr);
			return EX_USAGE;
		}
	}
	if (optind != argc || tpath == NULL || dpath == NULL) {
		if (optind != argc) {
			fprintf(stderr, "postroom: render: unexpected "
			    "argument %s\n", argv[optind]);
		} else {
			fprintf(stderr, "postroom: render: --template and "
			    "--data are required\n");
		}
		cmd_usage(&cmd_render, stderr);
		return EX_USAGE;
	}

	/* Read everything first: 66 when a file is missing, 65 when bad. */
	if ((t = template_parse_file(tpath, &cause)) == NULL) {
		rc = errno != 0 ? EX_NOINPUT : EX_DATAERR;
		goto fail;
	}
	if ((data = json_parse_file(dpath, &cause)) == NULL) {
		rc = errno != 0 ? EX_NOINPUT : EX_DATAERR;
		goto fail;
	}
	if (pdir != NULL) {
		if (stat(pdir, &sb) == -1)
			err = errno;
		else if (!S_ISDIR(sb.st_mode))
			err = ENOTDIR;
		if (err != 0) {
			cause = xprintf("%s: %s", pdir, strerror(err));
			rc = EX_NOINPUT;
			goto fail;
		}
		tp = template_partials_dir(pdir);
	}

	buf_init(&out, TEMPLATE_MAX_OUTPUT);
	if (text)
		rc = template_render_text(t, data, tp, &out, &cause);
	else
		rc = template_render(t, data, tp, &out, &cause);
	if (rc == -1) {
		fprintf(stderr, "postroom: %s: %s\n", tpath, cause);
		free(cause);
		buf_free(&out);
		rc = EX_DATAERR;
		goto out;
	}
	rc = EX_OK;
	if ((out.len > 0 &&
	    fwrite(out.data, 1, out.len, stdout) != out.len) ||
	    fflush(stdout) == EOF) {
		fprintf(stderr, "postroom: stdout: %s\n", strerror(errno));
		rc = EX_IOERR;
	}
	buf_free(&out);
	goto out;

fail:
	if (cause != NULL) {
		fprintf(stderr, "postroom: %s\n", cause);
		free(cause);
	}
out:
	template_partials_free(tp);
	value_free(data);
	template_free(t);
	return rc;
}

const struct cmd cmd_render = {
	"render", "--template FILE --data FILE.json [--partials DIR] [--text]",
	"render a Mustache template with JSON data to stdout",
	cmd_render_exec,
};
