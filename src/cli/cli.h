#ifndef SH_CLI_H
#define SH_CLI_H
/* Entry point of the command line; returns the process exit status. */
int sh_cli_main(int argc, char **argv);
#endif
