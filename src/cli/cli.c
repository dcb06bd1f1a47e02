#include "cli/cli.h"

#include <stdio.h>

int sh_cli_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fputs("safehouse: not implemented yet\n", stderr);
	return 1;
}
