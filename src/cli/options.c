/* Option parsing in Agent Safehouse's style: options until the first
 * non-option word or a standalone "--"; value flags take "--flag=value" or
 * "--flag value"; everything after is passed through verbatim. */
#include "cli/options.h"

#include <stdio.h>

#include <stdlib.h>
#include <string.h>

#include "cli/publish.h"
#include "config/wdconfig.h"
#include "util/size.h"

enum arg_kind {
	ARG_NONE,     /* --flag */
	ARG_REQUIRED, /* --flag=V or --flag V */
	ARG_OPTIONAL, /* --flag or --flag=V (never takes the next word) */
};

struct optdef {
	const char *name;
	enum arg_kind arg;
	int (*set)(struct sh_options *o, const char *val, struct sh_err *e);
	const char *metavar;
	const char *help;
};

/* Optional BOOL of --flag[=BOOL]: absent means true. */
static int parse_bool_val(const char *flag, const char *v, int *out, struct sh_err *e)
{
	bool b = true;
	char what[64];

	snprintf(what, sizeof(what), "--%s", flag);
	if (v && sh_parse_bool(v, &b, what, e) < 0)
		return -1;
	*out = b;
	return 0;
}

static int check_path_value(const char *flag, const char *v, struct sh_err *e)
{
	if (sh_has_ctl(v))
		return sh_fail(e, SH_EXIT_USAGE, 0, "--%s: path contains control characters", flag);
	return 0;
}

static int set_add_dirs(struct sh_options *o, const char *v, struct sh_err *e)
{
	if (check_path_value("add-dirs", v, e) < 0)
		return -1;
	sh_strv_push(&o->add_dirs, v);
	return 0;
}

static int set_add_dirs_ro(struct sh_options *o, const char *v, struct sh_err *e)
{
	if (check_path_value("add-dirs-ro", v, e) < 0)
		return -1;
	sh_strv_push(&o->add_dirs_ro, v);
	return 0;
}

static int set_workdir(struct sh_options *o, const char *v, struct sh_err *e)
{
	if (check_path_value("workdir", v, e) < 0)
		return -1;
	free(o->workdir);
	o->workdir = sh_xstrdup(v);
	return 0;
}

static int set_enable(struct sh_options *o, const char *v, struct sh_err *e)
{
	(void)e;
	sh_strv_push(&o->enable, v);
	return 0;
}

static int set_append_profile(struct sh_options *o, const char *v, struct sh_err *e)
{
	if (!*v)
		return sh_fail(e, SH_EXIT_USAGE, 0, "--append-profile: empty file name");
	if (check_path_value("append-profile", v, e) < 0)
		return -1;
	sh_strv_push(&o->append_profiles, v);
	return 0;
}

static int set_trust(struct sh_options *o, const char *v, struct sh_err *e)
{
	return parse_bool_val("trust-workdir-config", v, &o->trust_workdir_config, e);
}

static int set_always_trust(struct sh_options *o, const char *v, struct sh_err *e)
{
	return parse_bool_val("always-trust-workdir-config", v, &o->always_trust_workdir_config, e);
}

static int set_allow_wd_writes(struct sh_options *o, const char *v, struct sh_err *e)
{
	(void)v;
	(void)e;
	o->allow_workdir_config_writes = true;
	return 0;
}

static int set_allow_profile_writes(struct sh_options *o, const char *v, struct sh_err *e)
{
	(void)v;
	(void)e;
	o->allow_profile_writes = true;
	return 0;
}

static int set_allow_agent_writes(struct sh_options *o, const char *v, struct sh_err *e)
{
	(void)v;
	(void)e;
	o->allow_agent_config_writes = true;
	return 0;
}

static int set_env(struct sh_options *o, const char *v, struct sh_err *e)
{
	if (o->env_given)
		return sh_fail(e, SH_EXIT_USAGE, 0, "--env given more than once");
	o->env_given = true;
	if (!v) {
		o->env_mode = SH_ENV_FULL;
		return 0;
	}
	if (!*v)
		return sh_fail(e, SH_EXIT_USAGE, 0, "--env=: empty file name");
	if (check_path_value("env", v, e) < 0)
		return -1;
	o->env_mode = SH_ENV_FILE;
	o->env_file = sh_xstrdup(v);
	return 0;
}

static int set_env_pass(struct sh_options *o, const char *v, struct sh_err *e)
{
	(void)e;
	sh_strv_push(&o->env_pass, v);
	return 0;
}

static int set_output(struct sh_options *o, const char *v, struct sh_err *e)
{
	if (!*v)
		return sh_fail(e, SH_EXIT_USAGE, 0, "--output: empty file name");
	if (check_path_value("output", v, e) < 0)
		return -1;
	free(o->output);
	o->output = sh_xstrdup(v);
	return 0;
}

static int set_stdout(struct sh_options *o, const char *v, struct sh_err *e)
{
	(void)v;
	(void)e;
	o->to_stdout = true;
	return 0;
}

static int set_explain(struct sh_options *o, const char *v, struct sh_err *e)
{
	(void)v;
	(void)e;
	o->explain = true;
	return 0;
}

static int set_print_plan(struct sh_options *o, const char *v, struct sh_err *e)
{
	(void)v;
	(void)e;
	o->print_plan = true;
	return 0;
}

static int set_target(struct sh_options *o, const char *v, struct sh_err *e)
{
	if (strcmp(v, "linux") != 0 && strcmp(v, "macos") != 0)
		return sh_fail(e, SH_EXIT_USAGE, 0,
			       "--target: unknown target '%s' (expected linux or macos)", v);
	free(o->target);
	o->target = sh_xstrdup(v);
	return 0;
}

static int set_profiles_dir(struct sh_options *o, const char *v, struct sh_err *e)
{
	if (!*v)
		return sh_fail(e, SH_EXIT_USAGE, 0, "--profiles-dir: empty directory name");
	if (check_path_value("profiles-dir", v, e) < 0)
		return -1;
	free(o->profiles_dir);
	o->profiles_dir = sh_xstrdup(v);
	return 0;
}

static int set_sandbox(struct sh_options *o, const char *v, struct sh_err *e)
{
	if (strcmp(v, "read-only") != 0 && strcmp(v, "workspace-write") != 0 &&
	    strcmp(v, "danger-full-access") != 0)
		return sh_fail(e, SH_EXIT_USAGE, 0, "--sandbox: unknown policy '%s' (expected "
			       "read-only, workspace-write or danger-full-access)", v);
	free(o->sandbox);
	o->sandbox = sh_xstrdup(v);
	return 0;
}

static int set_network(struct sh_options *o, const char *v, struct sh_err *e)
{
	if (strcmp(v, "none") != 0 && strcmp(v, "full") != 0 && strcmp(v, "filtered") != 0)
		return sh_fail(e, SH_EXIT_USAGE, 0, "--network: unknown mode '%s' (expected none, "
			       "filtered or full)", v);
	free(o->network);
	o->network = sh_xstrdup(v);
	return 0;
}

static int set_allow_domains(struct sh_options *o, const char *v, struct sh_err *e)
{
	if (!*v || sh_has_ctl(v))
		return sh_fail(e, SH_EXIT_USAGE, 0, "--allow-domains: expected a comma list of "
			       "destinations (a.com,*.b.com,c.com:8443)");
	sh_strv_push(&o->allow_domains, v);
	return 0;
}

static int set_deny_domains(struct sh_options *o, const char *v, struct sh_err *e)
{
	if (!*v || sh_has_ctl(v))
		return sh_fail(e, SH_EXIT_USAGE, 0, "--deny-domains: expected a comma list of "
			       "destinations (a.com,*.b.com,c.com:8443)");
	sh_strv_push(&o->deny_domains, v);
	return 0;
}

static int set_allow_private(struct sh_options *o, const char *v, struct sh_err *e)
{
	(void)v;
	(void)e;
	o->allow_private_network = true;
	return 0;
}

static int set_network_log(struct sh_options *o, const char *v, struct sh_err *e)
{
	if (!*v)
		return sh_fail(e, SH_EXIT_USAGE, 0, "--network-log: empty file name");
	if (check_path_value("network-log", v, e) < 0)
		return -1;
	free(o->network_log);
	o->network_log = sh_xstrdup(v);
	return 0;
}

static int set_publish(struct sh_options *o, const char *v, struct sh_err *e)
{
	struct sh_pubspec s = { 0 };
	int rc = sh_publish_parse(v, "--publish", false, &s, e);

	sh_pubspec_free(&s);
	if (rc == 0)
		sh_strv_push(&o->publish, v);
	return rc;
}

static int set_audit(struct sh_options *o, const char *v, struct sh_err *e)
{
	if (strcmp(v, "off") != 0 && strcmp(v, "warn") != 0 && strcmp(v, "strict") != 0)
		return sh_fail(e, SH_EXIT_USAGE, 0, "--audit: unknown mode '%s' (expected off, warn "
			       "or strict)", v);
	free(o->audit);
	o->audit = sh_xstrdup(v);
	return 0;
}

static int set_max_procs(struct sh_options *o, const char *v, struct sh_err *e)
{
	char *end = NULL;
	long n = strtol(v, &end, 10);
	if (!*v || *end || n < 1 || n > 1000000)
		return sh_fail(e, SH_EXIT_USAGE, 0, "--max-procs: expected a number of processes "
			       "(1 to 1000000), got '%s'", v);
	free(o->max_procs);
	o->max_procs = sh_xstrdup(v);
	return 0;
}

static int set_max_memory(struct sh_options *o, const char *v, struct sh_err *e)
{
	uint64_t b;
	if (sh_parse_size(v, &b, "--max-memory", e) < 0)
		return -1;
	free(o->max_memory);
	o->max_memory = sh_xstrdup(v);
	return 0;
}

static int set_help(struct sh_options *o, const char *v, struct sh_err *e)
{
	(void)v;
	(void)e;
	o->help = true;
	return 0;
}

static int set_version(struct sh_options *o, const char *v, struct sh_err *e)
{
	(void)v;
	(void)e;
	o->version = true;
	return 0;
}

static const struct optdef optdefs[] = {
	{ "add-dirs", ARG_REQUIRED, set_add_dirs, "P1:P2",
	  "read/write grants (colon list; ~ expanded; must exist; repeatable)" },
	{ "add-dirs-ro", ARG_REQUIRED, set_add_dirs_ro, "P1:P2", "read-only grants, same rules" },
	{ "workdir", ARG_REQUIRED, set_workdir, "DIR",
	  "main read/write directory (default: current directory); --workdir= disables it" },
	{ "enable", ARG_REQUIRED, set_enable, "A,B",
	  "enable optional integrations (comma list, repeatable)" },
	{ "append-profile", ARG_REQUIRED, set_append_profile, "FILE",
	  "append a profile after everything generated (repeatable)" },
	{ "trust-workdir-config", ARG_OPTIONAL, set_trust, "BOOL",
	  "load <workdir>/.safehouse this time" },
	{ "always-trust-workdir-config", ARG_OPTIONAL, set_always_trust, "BOOL",
	  "add the workdir to (=false: remove it from) the trusted-workdirs file" },
	{ "allow-workdir-config-writes", ARG_NONE, set_allow_wd_writes, NULL,
	  "do not write-protect <workdir>/.safehouse" },
	{ "allow-profile-writes", ARG_NONE, set_allow_profile_writes, NULL,
	  "do not write-protect appended profiles and --profiles-dir" },
	{ "allow-agent-config-writes", ARG_NONE, set_allow_agent_writes, NULL,
	  "let the agent rewrite its own hooks, MCP and permission settings" },
	{ "env", ARG_OPTIONAL, set_env, "FILE",
	  "pass the full host environment; =FILE: sanitized environment plus FILE (dotenv)" },
	{ "env-pass", ARG_REQUIRED, set_env_pass, "A,B",
	  "copy the named host variables into the sanitized environment" },
	{ "output", ARG_REQUIRED, set_output, "PATH", "write the policy to PATH" },
	{ "stdout", ARG_NONE, set_stdout, NULL, "print the policy and exit" },
	{ "explain", ARG_NONE, set_explain, NULL, "explain every decision on stderr" },
	{ "print-plan", ARG_NONE, set_print_plan, NULL,
	  "print the Linux enforcement plan and exit" },
	{ "target", ARG_REQUIRED, set_target, "linux|macos",
	  "render the policy for this target (with --stdout / --output)" },
	{ "profiles-dir", ARG_REQUIRED, set_profiles_dir, "DIR",
	  "use profiles from DIR instead of the built-in ones" },
	{ "sandbox", ARG_REQUIRED, set_sandbox, "POLICY",
	  "read-only, workspace-write (default) or danger-full-access" },
	{ "network", ARG_REQUIRED, set_network, "MODE",
	  "none, filtered (egress through the built-in proxy) or full; default: filtered "
	  "when the profiles declare destinations, else none" },
	{ "allow-domains", ARG_REQUIRED, set_allow_domains, "A,B",
	  "filtered mode: also allow these destinations (a.com, *.b.com, c.com:8443; repeatable)" },
	{ "deny-domains", ARG_REQUIRED, set_deny_domains, "A,B",
	  "filtered mode: refuse these destinations (deny wins; repeatable)" },
	{ "allow-private-network", ARG_NONE, set_allow_private, NULL,
	  "filtered mode: allowed names may resolve to loopback/private addresses" },
	{ "network-log", ARG_REQUIRED, set_network_log, "FILE",
	  "filtered mode: append every proxy decision to FILE" },
	{ "publish", ARG_REQUIRED, set_publish, "PORT[:PORT]",
	  "make a loopback listener inside reachable on the host's 127.0.0.1 (PORT, "
	  "HOST:SANDBOX or auto; comma list, repeatable)" },
	{ "audit", ARG_REQUIRED, set_audit, "MODE",
	  "after the session, report planted persistence files: off, warn (default), strict" },
	{ "max-procs", ARG_REQUIRED, set_max_procs, "N",
	  "at most N processes in the session (cgroup, else RLIMIT_NPROC)" },
	{ "max-memory", ARG_REQUIRED, set_max_memory, "SIZE",
	  "memory limit, e.g. 2G (cgroup, else RLIMIT_AS)" },
	{ "help", ARG_NONE, set_help, NULL, "show this help and exit" },
	{ "version", ARG_NONE, set_version, NULL, "show the version and exit" },
};

void sh_options_init(struct sh_options *o)
{
	memset(o, 0, sizeof(*o));
	o->trust_workdir_config = -1;
	o->always_trust_workdir_config = -1;
}

void sh_options_free(struct sh_options *o)
{
	sh_strv_free(&o->add_dirs);
	sh_strv_free(&o->add_dirs_ro);
	sh_strv_free(&o->enable);
	sh_strv_free(&o->append_profiles);
	sh_strv_free(&o->env_pass);
	sh_strv_free(&o->allow_domains);
	sh_strv_free(&o->deny_domains);
	sh_strv_free(&o->publish);
	free(o->network_log);
	free(o->workdir);
	free(o->env_file);
	free(o->output);
	free(o->target);
	free(o->profiles_dir);
	free(o->sandbox);
	free(o->network);
	free(o->audit);
	free(o->max_procs);
	free(o->max_memory);
	free(o->why_path);
}

static const struct optdef *find_opt(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(optdefs) / sizeof(optdefs[0]); i++)
		if (strlen(optdefs[i].name) == len && strncmp(optdefs[i].name, name, len) == 0)
			return &optdefs[i];
	return NULL;
}

/* Parse one "--name[=value]" word at argv[*i]; may consume argv[*i + 1]. */
static int parse_long(struct sh_options *o, int argc, char **argv, int *i, struct sh_err *e)
{
	const char *word = argv[*i] + 2;
	const char *eq = strchr(word, '=');
	size_t len = eq ? (size_t)(eq - word) : strlen(word);
	const struct optdef *d = find_opt(word, len);
	const char *val = eq ? eq + 1 : NULL;

	if (!d)
		return sh_fail(e, SH_EXIT_USAGE, 0,
			       "unknown option '--%.*s' (command arguments go after '--', "
			       "e.g. safehouse -- CMD --flag)",
			       (int)len, word);
	switch (d->arg) {
	case ARG_NONE:
		if (val)
			return sh_fail(e, SH_EXIT_USAGE, 0, "--%s takes no value", d->name);
		break;
	case ARG_REQUIRED:
		if (!val) {
			if (*i + 1 >= argc)
				return sh_fail(e, SH_EXIT_USAGE, 0, "--%s needs a value (%s)",
					       d->name, d->metavar);
			val = argv[++*i];
		}
		break;
	case ARG_OPTIONAL:
		break;
	default:
		break;
	}
	return d->set(o, val, e);
}

static int parse_short(struct sh_options *o, const char *w, struct sh_err *e)
{
	if (strcmp(w, "-h") == 0)
		return set_help(o, NULL, e);
	if (strcmp(w, "-V") == 0)
		return set_version(o, NULL, e);
	return sh_fail(e, SH_EXIT_USAGE, 0,
		       "unknown option '%s' (command arguments go after '--')", w);
}

/* "why" takes --write/--exec and one PATH among the ordinary options. */
static int parse_why_word(struct sh_options *o, const char *w, bool *used, struct sh_err *e)
{
	*used = true;
	if (strcmp(w, "--write") == 0)
		o->why_op = SH_WHY_WRITE;
	else if (strcmp(w, "--exec") == 0)
		o->why_op = SH_WHY_EXEC;
	else if (strcmp(w, "--read") == 0)
		o->why_op = SH_WHY_READ;
	else if (w[0] != '-' && !o->why_path) {
		if (sh_has_ctl(w))
			return sh_fail(e, SH_EXIT_USAGE, 0, "why: path contains control characters");
		o->why_path = sh_xstrdup(w);
	} else
		*used = false;
	return 0;
}

int sh_options_parse(struct sh_options *o, int argc, char **argv, struct sh_err *e)
{
	int i = 1;

	if (argc > 1 && strcmp(argv[1], "why") == 0) {
		o->cmd = SH_CMD_WHY;
		i = 2;
	} else if (argc > 1 && strcmp(argv[1], "doctor") == 0) {
		o->cmd = SH_CMD_DOCTOR;
		i = 2;
	}
	for (; i < argc; i++) {
		const char *w = argv[i];
		bool used = false;

		if (strcmp(w, "--") == 0) {
			i++;
			break;
		}
		if (o->cmd == SH_CMD_WHY && parse_why_word(o, w, &used, e) < 0)
			return -1;
		if (used)
			continue;
		if (w[0] != '-' || strcmp(w, "-") == 0)
			break;
		if (w[1] == '-') {
			if (parse_long(o, argc, argv, &i, e) < 0)
				return -1;
		} else if (parse_short(o, w, e) < 0)
			return -1;
	}
	o->argv = argv + i;
	o->argc = argc - i;
	if (o->cmd == SH_CMD_WHY && !o->why_path && !o->help)
		return sh_fail(e, SH_EXIT_USAGE, 0,
			       "why: missing PATH (usage: safehouse why [--write|--exec] PATH [-- CMD])");
	if (o->cmd == SH_CMD_DOCTOR && o->argc > 0)
		return sh_fail(e, SH_EXIT_USAGE, 0, "doctor takes no command");
	return sh_env_check_combo(o->env_mode, o->env_pass.n, e);
}

void sh_options_help(FILE *f)
{
	fputs("usage: safehouse [OPTIONS] [--] [NAME=VALUE...] COMMAND [ARGS...]\n"
	      "       safehouse [OPTIONS] --stdout [-- COMMAND...]\n"
	      "       safehouse why [--write|--exec] PATH [OPTIONS] [-- COMMAND...]\n"
	      "       safehouse doctor\n\n"
	      "Run COMMAND (a coding agent) in a deny-first sandbox: the workdir is writable,\n"
	      "system and toolchain paths are readable, the agent's own state is reachable,\n"
	      "everything else in $HOME is invisible.  Without a command, the policy is\n"
	      "written to a temporary file whose path is printed.\n\nOptions:\n",
	      f);
	for (size_t i = 0; i < sizeof(optdefs) / sizeof(optdefs[0]); i++) {
		const struct optdef *d = &optdefs[i];
		char left[64];
		if (d->arg == ARG_REQUIRED)
			snprintf(left, sizeof(left), "--%s=%s", d->name, d->metavar);
		else if (d->arg == ARG_OPTIONAL)
			snprintf(left, sizeof(left), "--%s[=%s]", d->name, d->metavar);
		else
			snprintf(left, sizeof(left), "--%s", d->name);
		fprintf(f, "  %-36s %s\n", left, d->help);
	}
	fputs("\nEnvironment: SAFEHOUSE_ADD_DIRS, SAFEHOUSE_ADD_DIRS_RO, SAFEHOUSE_WORKDIR\n"
	      "(set but empty disables the workdir), SAFEHOUSE_TRUST_WORKDIR_CONFIG,\n"
	      "SAFEHOUSE_ENV_PASS, SAFEHOUSE_PROFILES_DIR.\n"
	      "Exit status: the command's; 1 invalid usage; 65 profile error; 125 sandbox\n"
	      "setup failed; 126 not executable; 127 not found; 128+N killed by signal N.\n"
	      "See safehouse(1).\n",
	      f);
}
