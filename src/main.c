#include "cli/cli.h"
#include "util/tpoint.h"

int main(int argc, char **argv)
{
	SH_TP("M-start");
	int rc = sh_cli_main(argc, argv);
	SH_TP("M-end");
	return rc;
}
