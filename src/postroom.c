/*
 * postroom.c - the CLI's entry point; everything is in cli.c and cmd-*.c.
 * The same executable serves as the isolated MIME parser (parser.h).
 */
#include <string.h>

#include "cli.h"
#include "parser.h"

int
main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], PARSER_CHILD_ARG) == 0)
		return parser_child_main(argc, argv);
	return cli_main(argc, argv);
}
