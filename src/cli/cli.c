/* The command line: parse -> resolve context -> assemble -> compile -> act.
 * This is the one place that turns errors into exit statuses. */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/context.h"
#include "cli/explain.h"
#include "cli/options.h"
#include "cli/run.h"
#include "policy/assemble.h"
#include "profile/profile.h"
#include "render/macos.h"
#include "util/fdio.h"
#include "util/path.h"
#include "util/tpoint.h"
#ifdef __APPLE__
#include "macos/exec.h"
#endif

static int compile_assembly(const struct sh_context *c, const struct sh_assembly *a,
			    struct sh_policy *p, struct sh_err *e)
{
	struct sh_profile_ctx *pc = sh_profile_ctx_new(c->home, c->workdir, c->target);
	int rc = 0;

	sh_policy_init(p);
	for (size_t i = 0; i < a->n && rc == 0; i++)
		rc = sh_profile_compile(pc, a->src[i].name, a->src[i].text, a->src[i].len, p, e);
	sh_profile_ctx_free(pc);
	return rc;
}

/* Absolute form of a user-given path for `why`: canonical if it exists,
 * else canonical parent + name, else lexical. */
static char *why_path(const struct sh_context *c, const char *given)
{
	char *x = sh_path_expand_tilde(given, c->home), *abs, *canon = NULL, *parent;
	struct sh_err ignored;

	abs = x[0] == '/' ? sh_xstrdup(x) : sh_path_join(c->cwd, x);
	free(x);
	if (sh_path_canon(abs, &canon, &ignored) == 0) {
		free(abs);
		return canon;
	}
	parent = sh_path_parent(abs);
	if (sh_path_canon(parent, &canon, &ignored) == 0) {
		const char *base = strrchr(abs, '/') + 1;
		char *r = sh_path_join(canon, base);
		free(canon);
		free(parent);
		free(abs);
		return r;
	}
	free(parent);
	return abs;
}

static int do_why(const struct sh_context *c, const struct sh_policy *p)
{
	static const char *const ops[] = { "file-read-data", "file-write-data", "process-exec" };
	const char *op = ops[c->opt->why_op];
	char *path = why_path(c, c->opt->why_path);
	struct sh_verdict v = sh_policy_check(p, op, path);

	printf("%s: %s %s\n", v.action == SH_ALLOW ? "allow" : "deny", op, path);
	printf("  decided by: ");
	sh_explain_origin(stdout, p, v.rule);
	if (v.rule)
		printf(" (%s %s%s)", v.rule->action == SH_ALLOW ? "allow" : "deny",
		       v.rule->nops ? v.rule->ops[0] : "", v.rule->nops > 1 ? " ..." : "");
	putchar('\n');
	free(path);
	return SH_EXIT_OK;
}

/* Write the rendered policy to --output or a fresh temp file; *path_out owned. */
static int write_policy(const char *text, const char *output, char **path_out, struct sh_err *e)
{
	int fd;
	char *path;

	if (output) {
		path = sh_xstrdup(output);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	} else {
		const char *tmp = getenv("TMPDIR");
		path = sh_xasprintf("%s/safehouse-policy.XXXXXX.sb", tmp && *tmp ? tmp : "/tmp");
		fd = mkostemps(path, 3, O_CLOEXEC);
	}
	if (fd < 0) {
		sh_fail(e, SH_EXIT_USAGE, errno, "cannot create policy file '%s'", path);
		free(path);
		return -1;
	}
	if (sh_write_all(fd, text, strlen(text)) < 0 || close(fd) < 0) {
		sh_fail(e, SH_EXIT_USAGE, errno, "cannot write policy file '%s'", path);
		free(path);
		return -1;
	}
	*path_out = path;
	return 0;
}

static const char *run_mode(const struct sh_options *o)
{
	if (o->cmd == SH_CMD_WHY)
		return "why (evaluate one path, never run)";
	if (o->to_stdout)
		return "print policy to stdout (never run)";
	if (o->print_plan)
		return "print enforcement plan (never run)";
	if (o->argc == 0)
		return o->output ? "write policy to --output, no command" : "write policy to a temp file, no command";
	return o->output ? "write policy to --output and run the command" : "run the command sandboxed";
}

/* The policy text for the target: concatenated sources for Linux, a
 * complete sandbox-exec policy for macOS (render/macos.h).  NULL on error. */
static char *render_policy(const struct sh_context *c, const struct sh_assembly *a,
			   const struct sh_policy *p, struct sh_err *e)
{
	struct sh_macos_render_in mi = { a, c->home, c->workdir, SH_NETMODE_NONE, 0 };
	char *text = NULL;

	if (strcmp(c->target, "macos") != 0)
		return sh_assembly_render(a, c->target);
	/* The proxy port stays 0 until the filtering proxy exists (docs/macos.md). */
	mi.net = sh_macos_net_mode(p);
	return sh_macos_render(&mi, &text, e) < 0 ? NULL : text;
}

static int act(const struct sh_context *c, const struct sh_assembly *a, const struct sh_policy *p,
	       struct sh_err *e)
{
	const struct sh_options *o = c->opt;
	char *text, *path = NULL;
	int rc;

	if (o->cmd == SH_CMD_WHY)
		return do_why(c, p);
	if (o->print_plan)
		return sh_run_print_plan(c, a, p, e);
	/* A Linux run needs no policy text (rendering it is ~100 KB of copying
	 * on the start-up path); printing, writing or macOS do. */
	if (!o->to_stdout && !o->output && o->argc > 0 && strcmp(c->target, "macos") != 0)
		return sh_run_command(c, a, p, e);
	if (!(text = render_policy(c, a, p, e)))
		return -1;
	if (o->to_stdout) {
		fputs(text, stdout);
		free(text);
		return fflush(stdout) == 0 ? SH_EXIT_OK
					   : sh_fail(e, SH_EXIT_USAGE, errno, "cannot write to stdout");
	}
	if (o->output || o->argc == 0) {
		rc = write_policy(text, o->output, &path, e);
		if (rc == 0 && o->argc == 0)
			printf("%s\n", path);
		free(path);
		if (rc < 0 || o->argc == 0) {
			free(text);
			return rc < 0 ? -1 : SH_EXIT_OK;
		}
	}
	if (strcmp(c->target, "macos") == 0) {
#ifdef __APPLE__
		rc = sh_macos_run(c, a, text, e);
#else
		rc = sh_fail(e, SH_EXIT_USAGE, 0, "a --target=macos policy can only run on macOS; "
			     "use --stdout or --output here");
#endif
		free(text);
		return rc;
	}
	free(text); /* --output and a command */
	return sh_run_command(c, a, p, e);
}

static int main_flow(const struct sh_options *o, struct sh_err *e)
{
	struct sh_context c;
	struct sh_assembly a;
	struct sh_assemble_in in;
	struct sh_policy p;
	int rc;

#ifndef __APPLE__
	/* A command will run: the sandbox's init starts now, while the
	 * configuration is read and the plan computed (cli/run.c). */
	if (o->cmd == SH_CMD_RUN && !o->to_stdout && !o->print_plan && o->argc > 0 &&
	    (!o->target || strcmp(o->target, "linux") == 0))
		sh_run_prestart(o);
#endif
	SH_TP("M-prestart");
	if (sh_context_build(&c, o, e) < 0) {
		sh_context_free(&c);
		goto cancel;
	}
	SH_TP("M-context");
	sh_context_assemble_in(&c, &in);
	if (sh_assemble(&in, &a, e) < 0) {
		sh_context_free(&c);
		goto cancel;
	}
	SH_TP("M-assembled");
	/* Integrations name their sockets through variables ($$env-pass$$);
	 * granting those sockets changes the grants, so assemble once more. */
	if (sh_context_add_socket_grants(&c, &a.env_pass) > 0) {
		sh_assembly_free(&a);
		sh_context_assemble_in(&c, &in);
		if (sh_assemble(&in, &a, e) < 0) {
			sh_context_free(&c);
			goto cancel;
		}
	}
	rc = compile_assembly(&c, &a, &p, e);
	SH_TP("M-compiled");
	if (rc == 0)
		rc = sh_context_check_final(&c, &a, &p, e);
	if (rc == 0) {
		if (o->explain)
			sh_explain(stderr, &c, &a, &p, run_mode(o));
		rc = act(&c, &a, &p, e);
	}
	sh_policy_free(&p);
	sh_assembly_free(&a);
	sh_context_free(&c);
#ifndef __APPLE__
	sh_run_prestart_cancel(); /* a no-op when the run used it */
#endif
	return rc;
cancel:
#ifndef __APPLE__
	sh_run_prestart_cancel(); /* the early init must not outlive us */
#endif
	return -1;
}

int sh_cli_main(int argc, char **argv)
{
	struct sh_options o;
	struct sh_err e = { 0 };
	int rc;

	sh_options_init(&o);
	if (sh_options_parse(&o, argc, argv, &e) < 0) {
		sh_err_report(&e);
		sh_options_free(&o);
		return e.exit_code ? e.exit_code : SH_EXIT_USAGE;
	}
	if (o.help) {
		sh_options_help(stdout);
		rc = SH_EXIT_OK;
	} else if (o.version) {
		printf("safehouse %s\n", SH_VERSION);
		rc = SH_EXIT_OK;
	} else if (o.cmd == SH_CMD_DOCTOR)
		rc = sh_run_doctor(&e);
	else
		rc = main_flow(&o, &e);
	if (rc < 0) {
		sh_err_report(&e);
		rc = e.exit_code ? e.exit_code : SH_EXIT_USAGE;
	}
	sh_options_free(&o);
	return rc;
}
