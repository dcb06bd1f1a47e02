#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "policy/assemble.h"
#include "policy/net.h"
#include "profile/profile.h"

static char *word(char **argv)
{
	int argc = 0;
	while (argv[argc])
		argc++;
	return sh_agent_word(argv, argc);
}

TEST(agent_word_rules)
{
	char *a[] = { "FOO=1", "/usr/local/bin/Codex", "exec", NULL };
	char *b[] = { "npx", "-y", "@openai/codex@0.5.0", NULL };
	char *c[] = { "uvx", "aider-chat==0.8", NULL };
	char *d[] = { "pipx", "run", "aider-chat", NULL };
	char *e[] = { "A=1", NULL };
	char *w;
	CHECK_STR((w = word(a)), "codex");
	free(w);
	CHECK_STR((w = word(b)), "codex");
	free(w);
	CHECK_STR((w = word(c)), "aider-chat");
	free(w);
	CHECK_STR((w = word(d)), "aider-chat");
	free(w);
	CHECK(word(e) == NULL);
}

/* A tiny in-memory catalogue. */
static const char t_base[] = "(version 1)\n(deny default)\n";
static const char t_sys[] = "(allow file-read* (subpath \"/usr\"))\n";
static const char t_dock[] = ";; $$require=55-integrations-optional/keychain.sb$$\n"
			     "(allow file-read* (literal \"/run/docker.sock\"))\n";
static const char t_key[] = "(allow file-read* (home-subpath \"/.keys\"))\n";
static const char t_mac[] = ";; $$target=macos$$\n(allow file-read* (literal \"/mac\"))\n";
static const char t_codex[] = ";; $$command=codex,codex-cli$$\n"
			      ";; $$exec-env-default=CODEX_X=1$$\n"
			      "(allow file-read* file-write* (home-subpath \"/.codex\"))\n"
			      "(allow network-outbound (remote domain \"api.openai.com:443\"))\n";
static const char t_claude[] = ";; $$command=claude$$\n(allow file-read* (home-subpath \"/.claude\"))\n";

static struct sh_embedded t_items[] = {
	{ "00-base/base.sb", t_base, sizeof(t_base) - 1 },
	{ "10-system-runtime/sys.sb", t_sys, sizeof(t_sys) - 1 },
	{ "55-integrations-optional/docker.sb", t_dock, sizeof(t_dock) - 1 },
	{ "55-integrations-optional/keychain.sb", t_key, sizeof(t_key) - 1 },
	{ "55-integrations-optional/maconly.sb", t_mac, sizeof(t_mac) - 1 },
	{ "60-agents/claude-code.sb", t_claude, sizeof(t_claude) - 1 },
	{ "60-agents/codex.sb", t_codex, sizeof(t_codex) - 1 },
};

static void t_catalog(struct sh_catalog *c)
{
	memset(c, 0, sizeof(*c));
	c->items = t_items;
	c->n = sizeof(t_items) / sizeof(t_items[0]);
	c->meta = NULL;
	sh_catalog_index(c);
}

static size_t index_of(const struct sh_assembly *a, const char *name)
{
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->src[i].name, name) == 0)
			return i;
	return (size_t)-1;
}

TEST(features_validation_lists_valid_names)
{
	struct sh_catalog c;
	struct sh_strv f = { 0 };
	struct sh_err e = { 0 };
	t_catalog(&c);
	CHECK_INT(sh_features_parse(&c, "linux", "Docker, keychain", "--enable", &f, &e), ==, 0);
	CHECK_INT(f.n, ==, 2);
	CHECK_STR(f.v[0], "docker");
	CHECK_INT(sh_features_parse(&c, "linux", "nope", "--enable", &f, &e), ==, -1);
	CHECK_CONTAINS(e.msg, "unknown feature 'nope'");
	CHECK_CONTAINS(e.msg, "all-agents, docker, keychain");
	/* macOS-only feature is not valid on linux */
	CHECK_INT(sh_features_parse(&c, "linux", "maconly", "--enable", &f, &e), ==, -1);
	sh_strv_free(&f);
	sh_catalog_meta_free(&c);
}

TEST(assembly_layer_order_and_closure)
{
	struct sh_catalog c;
	struct sh_strv f = { 0 };
	struct sh_assembly a;
	struct sh_err e = { 0 };
	char *argv[] = { "codex", NULL };
	struct sh_grant g = { "/data", false, true, "--add-dirs-ro" };
	struct sh_appended ap = { "/o.sb", "(deny file-read* (literal \"/usr/x\"))\n", 36, "--append-profile" };
	struct sh_assemble_in in = { 0 };

	t_catalog(&c);
	sh_strv_push(&f, "docker");
	in.cat = &c;
	in.target = "linux";
	in.home = "/home/u";
	in.workdir = "/w";
	in.argv = argv;
	in.argc = 1;
	in.features = &f;
	in.grants = &g;
	in.ngrants = 1;
	in.appended = &ap;
	in.nappended = 1;
	CHECK_INT(sh_assemble(&in, &a, &e), ==, 0);
	CHECK_STR(a.agent, "60-agents/codex.sb");
	CHECK(a.features_implied.n == 1 && strcmp(a.features_implied.v[0], "keychain") == 0);
	size_t defs = index_of(&a, "<generated: definitions>"), base = index_of(&a, "00-base/base.sb"),
	       sys = index_of(&a, "10-system-runtime/sys.sb"), trav = index_of(&a, "<generated: traversal>"),
	       dock = index_of(&a, "55-integrations-optional/docker.sb"),
	       codex = index_of(&a, "60-agents/codex.sb"), grants = index_of(&a, "<generated: grants>"),
	       wd = index_of(&a, "<generated: workdir>"), app = index_of(&a, "/o.sb"),
	       prot = index_of(&a, "<generated: profile protections>"),
	       fin = index_of(&a, "<generated: workdir config protection>");
	CHECK(defs < base && base < sys && sys < trav && trav < dock && dock < codex && codex < grants &&
	      grants < wd && wd < app && app < prot && prot < fin && fin == a.n - 1);
	CHECK(index_of(&a, "60-agents/claude-code.sb") == (size_t)-1);
	CHECK(index_of(&a, "55-integrations-optional/maconly.sb") == (size_t)-1);
	CHECK(a.env_defaults.n == 1 && strcmp(a.env_defaults.v[0], "CODEX_X=1") == 0);

	/* Compile it and ask the evaluator: later rules win. */
	struct sh_policy p;
	struct sh_profile_ctx *pc = sh_profile_ctx_new("/home/u", "/w", "linux");
	sh_policy_init(&p);
	for (size_t i = 0; i < a.n; i++)
		CHECK_INT(sh_profile_compile(pc, a.src[i].name, a.src[i].text, a.src[i].len, &p, &e), ==, 0);
	CHECK_INT(sh_policy_check(&p, "file-read-data", "/usr/bin/ls").action, ==, SH_ALLOW);
	CHECK_INT(sh_policy_check(&p, "file-read-data", "/usr/x").action, ==, SH_DENY);
	CHECK_INT(sh_policy_check(&p, "file-write-data", "/w/.safehouse").action, ==, SH_DENY);
	CHECK_INT(sh_policy_check(&p, "file-write-data", "/w/src/a.c").action, ==, SH_ALLOW);
	CHECK_INT(sh_policy_check(&p, "file-write-data", "/o.sb").action, ==, SH_DENY);
	CHECK_INT(sh_policy_check(&p, "file-read-data", "/data/x").action, ==, SH_ALLOW);
	CHECK_INT(sh_policy_check(&p, "file-write-data", "/data/x").action, ==, SH_DENY);
	CHECK_INT(sh_policy_check(&p, "file-read-metadata", "/home").action, ==, SH_ALLOW);
	CHECK_INT(sh_policy_check(&p, "file-read-data", "/home/u/.ssh/id_rsa").action, ==, SH_DENY);
	CHECK(!sh_policy_full_network(&p, NULL));
	struct sh_strv doms = { 0 };
	sh_policy_domains(&p, &doms);
	CHECK(doms.n == 1 && strcmp(doms.v[0], "api.openai.com:443") == 0);
	sh_strv_free(&doms);
	sh_profile_ctx_free(pc);
	sh_policy_free(&p);
	sh_assembly_free(&a);
	sh_strv_free(&f);
	sh_catalog_meta_free(&c);
}

TEST(assembly_all_agents_and_no_workdir)
{
	struct sh_catalog c;
	struct sh_strv f = { 0 };
	struct sh_assembly a;
	struct sh_err e = { 0 };
	struct sh_assemble_in in = { 0 };

	t_catalog(&c);
	sh_strv_push(&f, "all-agents");
	in.cat = &c;
	in.target = "linux";
	in.home = "/home/u";
	in.features = &f;
	CHECK_INT(sh_assemble(&in, &a, &e), ==, 0);
	CHECK(index_of(&a, "60-agents/codex.sb") != (size_t)-1);
	CHECK(index_of(&a, "60-agents/claude-code.sb") != (size_t)-1);
	CHECK(index_of(&a, "<generated: workdir>") == (size_t)-1);
	CHECK(index_of(&a, "<generated: workdir config protection>") == (size_t)-1);
	sh_assembly_free(&a);
	sh_strv_free(&f);
	sh_catalog_meta_free(&c);
}

TEST(network_full_decision)
{
	struct sh_policy p;
	struct sh_profile_ctx *pc = sh_profile_ctx_new("/h", "/w", "linux");
	struct sh_err e = { 0 };
	const char *src = "(deny default)\n(allow network-outbound (remote ip \"localhost:*\"))\n";
	const char *full = "(allow network-outbound)\n";
	const char *back = "(deny network*)\n";
	sh_policy_init(&p);
	CHECK_INT(sh_profile_compile(pc, "a", src, strlen(src), &p, &e), ==, 0);
	CHECK(!sh_policy_full_network(&p, NULL));
	CHECK_INT(sh_profile_compile(pc, "b", full, strlen(full), &p, &e), ==, 0);
	CHECK(sh_policy_full_network(&p, NULL));
	CHECK_INT(sh_profile_compile(pc, "c", back, strlen(back), &p, &e), ==, 0);
	CHECK(!sh_policy_full_network(&p, NULL));
	sh_policy_free(&p);
	sh_profile_ctx_free(pc);
}

TEST(git_protection_regex_escapes_the_workdir)
{
	struct sh_catalog c;
	struct sh_strv f = { 0 };
	struct sh_assembly a;
	struct sh_err e = { 0 };
	struct sh_assemble_in in = { 0 };
	struct sh_policy p;
	const char *w = "/w/a+b(\"c)\\d.e";
	struct sh_profile_ctx *pc = sh_profile_ctx_new("/home/u", w, "linux");

	t_catalog(&c);
	in.cat = &c;
	in.target = "linux";
	in.home = "/home/u";
	in.workdir = w;
	in.features = &f;
	CHECK_INT(sh_assemble(&in, &a, &e), ==, 0);
	sh_policy_init(&p);
	for (size_t i = 0; i < a.n; i++)
		CHECK_INT(sh_profile_compile(pc, a.src[i].name, a.src[i].text, a.src[i].len, &p, &e), ==, 0);
	CHECK_INT(sh_policy_check(&p, "file-write-data", "/w/a+b(\"c)\\d.e/sub/.git/hooks/x").action, ==,
		  SH_DENY);
	CHECK_INT(sh_policy_check(&p, "file-write-data", "/w/a+b(\"c)\\d.e/sub/.git/config").action, ==,
		  SH_DENY);
	CHECK_INT(sh_policy_check(&p, "file-write-data", "/w/a+b(\"c)\\d.e/sub/.git/objects/x").action,
		  ==, SH_ALLOW);
	CHECK_INT(sh_policy_check(&p, "file-write-data", "/w/aab(\"c)\\dxe/sub/.git/hooks/x").action, ==,
		  SH_DENY); /* not under the workdir at all: default deny, not a regex accident */
	CHECK_INT(sh_policy_check(&p, "file-write-data", "/w/a+b(\"c)\\d.e/src/main.c").action, ==,
		  SH_ALLOW);
	sh_profile_ctx_free(pc);
	sh_policy_free(&p);
	sh_assembly_free(&a);
	sh_catalog_meta_free(&c);
}

TEST(agent_word_index_and_insert_args)
{
	char *a1[] = { "A=1", "codex", "exec", NULL };
	char *a2[] = { "npx", "-y", "@openai/codex", "exec", NULL };
	int idx = -1;
	char *w = sh_agent_word_at(a1, 3, &idx);
	CHECK_STR(w, "codex");
	CHECK_INT(idx, ==, 1);
	free(w);
	w = sh_agent_word_at(a2, 4, &idx);
	CHECK_STR(w, "codex");
	CHECK_INT(idx, ==, 2);
	free(w);
}

/* safehouse's own configuration directories are denied for writing after
 * every grant and the workdir, even when those cover them. */
TEST(assemble_config_dirs_never_writable)
{
	struct sh_catalog c;
	struct sh_strv f = { 0 };
	struct sh_assembly a;
	struct sh_err e = { 0 };
	char *argv[] = { "codex", NULL };
	struct sh_grant g = { "/etc", true, true, "--add-dirs" };
	struct sh_assemble_in in = { 0 };

	t_catalog(&c);
	in.cat = &c;
	in.target = "linux";
	in.home = "/home/u";
	in.workdir = "/home/u/.config";
	in.argv = argv;
	in.argc = 1;
	in.features = &f;
	in.grants = &g;
	in.ngrants = 1;
	in.config_dirs[0] = "/home/u/.config/safehouse";
	in.config_dirs[1] = "/etc/safehouse";
	in.profiles_dir = "/home/u/.config/prof";
	CHECK_INT(sh_assemble(&in, &a, &e), ==, 0);
	size_t wd = index_of(&a, "<generated: workdir>"),
	       cfg = index_of(&a, "<generated: safehouse config protection>");
	CHECK(cfg != (size_t)-1 && wd < cfg);

	struct sh_policy p;
	struct sh_profile_ctx *pc = sh_profile_ctx_new("/home/u", "/home/u/.config", "linux");
	sh_policy_init(&p);
	for (size_t i = 0; i < a.n; i++)
		CHECK_INT(sh_profile_compile(pc, a.src[i].name, a.src[i].text, a.src[i].len, &p, &e), ==, 0);
	CHECK_INT(sh_policy_check(&p, "file-write-data", "/home/u/.config/safehouse/config").action, ==,
		  SH_DENY);
	CHECK_INT(sh_policy_check(&p, "file-write-create", "/home/u/.config/safehouse/trusted-workdirs")
			  .action, ==, SH_DENY);
	CHECK_INT(sh_policy_check(&p, "file-write-data", "/etc/safehouse/requirements").action, ==,
		  SH_DENY);
	CHECK_INT(sh_policy_check(&p, "file-write-data", "/home/u/.config/other").action, ==, SH_ALLOW);
	CHECK_INT(sh_policy_check(&p, "file-write-data", "/etc/hosts").action, ==, SH_ALLOW);
	CHECK_INT(sh_policy_check(&p, "file-write-data", "/home/u/.config/prof/x.sb").action, ==,
		  SH_DENY);
	sh_policy_free(&p);
	sh_assembly_free(&a);

	/* --allow-profile-writes lifts it for the profiles directory only */
	in.allow_profile_writes = true;
	CHECK_INT(sh_assemble(&in, &a, &e), ==, 0);
	sh_policy_init(&p);
	for (size_t i = 0; i < a.n; i++)
		CHECK_INT(sh_profile_compile(pc, a.src[i].name, a.src[i].text, a.src[i].len, &p, &e), ==, 0);
	CHECK_INT(sh_policy_check(&p, "file-write-data", "/home/u/.config/prof/x.sb").action, ==,
		  SH_ALLOW);
	CHECK_INT(sh_policy_check(&p, "file-write-data", "/home/u/.config/safehouse/config").action, ==,
		  SH_DENY);
	sh_profile_ctx_free(pc);
	sh_policy_free(&p);
	sh_assembly_free(&a);
	sh_catalog_meta_free(&c);
}
