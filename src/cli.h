/*
 * cli.h - the postroom command line: global options and dispatch.
 *
 * postroom.c's main() is cli_main(); it lives here, outside the main file,
 * so that the unit tests can drive the argument handling directly.
 */
#ifndef POSTROOM_CLI_H
#define POSTROOM_CLI_H

#include <stdio.h>

/* Parse global options, run the command, return its exit code. */
int	cli_main(int argc, char **argv);
/* "postroom --help": the global usage and the command list. */
void	cli_usage(FILE *);

#endif
