#include "cli/cli.h"

int main(int argc, char **argv)
{
	return sh_cli_main(argc, argv);
}
