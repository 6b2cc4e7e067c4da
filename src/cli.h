/*
 * cli.h - the postroom command line: global options and dispatch.
 *
 * postroom.c's main() is cli_main(); it lives here, outside the main file,
 * so that the unit tests can drive the argument handling directly.
 */
#ifndef POSTROOM_CLI_H
#define POSTROOM_CLI_H

#include <stddef.h>
#include <stdio.h>

/* Parse global options, run the command, return its exit code. */
int	cli_main(int argc, char **argv);
/* "postroom --help": the global usage and the command list. */
void	cli_usage(FILE *);
/*
 * "-o NAME=VALUE" for postroom and postroomd: add arg to *ov (grown with
 * xreallocarray, the caller frees the array; arg itself is not copied).
 * Without an '=' print "PROG: -o ARG: expected NAME=VALUE" and return -1.
 */
int	cli_override(const char *prog, char ***ov, size_t *nov, char *arg);

#endif
