/*
 * postroom.c - the CLI's entry point; everything is in cli.c and cmd-*.c.
 */
#include "cli.h"

int
main(int argc, char **argv)
{
	return cli_main(argc, argv);
}
