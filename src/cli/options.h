/* Command-line options: one table drives both parsing and --help.
 * Parsing is pure: no file system access, no environment lookup. */
#ifndef SH_OPTIONS_H
#define SH_OPTIONS_H

#include <stdbool.h>
#include <stdio.h>

#include "config/envbuild.h"
#include "util/err.h"
#include "util/str.h"

enum sh_mode_cmd { SH_CMD_RUN = 0, SH_CMD_WHY, SH_CMD_DOCTOR };
enum sh_why_op { SH_WHY_READ = 0, SH_WHY_WRITE, SH_WHY_EXEC };

struct sh_options {
	enum sh_mode_cmd cmd;
	struct sh_strv add_dirs;    /* raw "P1:P2" values in order */
	struct sh_strv add_dirs_ro;
	char *workdir;              /* NULL: not given; "": disabled */
	struct sh_strv enable;      /* raw "a,b" values */
	struct sh_strv append_profiles;
	int trust_workdir_config;   /* -1 not given, else 0/1 */
	int always_trust_workdir_config;
	bool allow_workdir_config_writes;
	bool allow_profile_writes;
	bool allow_agent_config_writes;
	enum sh_env_mode env_mode;
	bool env_given;
	char *env_file;
	struct sh_strv env_pass;    /* raw "A,B" values */
	char *output;
	bool to_stdout;
	bool explain;
	bool print_plan;
	char *target;               /* "linux" / "macos"; NULL = host */
	char *profiles_dir;
	char *sandbox;              /* read-only, workspace-write, danger-full-access */
	char *network;              /* none, filtered, full */
	struct sh_strv allow_domains; /* raw "a.com,*.b.com:443" values */
	struct sh_strv deny_domains;
	bool allow_private_network;
	char *network_log;          /* --network-log=FILE */
	struct sh_strv publish;     /* raw "1455,8080:3000,auto" values (validated) */
	char *audit;                /* off, warn (default), strict */
	char *max_procs;            /* --max-procs=N */
	char *max_memory;           /* --max-memory=SIZE */
	bool help, version;
	/* why */
	enum sh_why_op why_op;
	char *why_path;
	/* everything after the options: NAME=VALUE words then the command */
	char **argv;
	int argc;
};

void sh_options_init(struct sh_options *o);
void sh_options_free(struct sh_options *o);

/* Parse argv (argv[0] is the program).  Errors: exit_code SH_EXIT_USAGE. */
int sh_options_parse(struct sh_options *o, int argc, char **argv, struct sh_err *e);

void sh_options_help(FILE *f);

#endif
