#include "fixture_plan.h"

#include <sys/stat.h>
#include <unistd.h>

#include "util/str.h"

void t_plan_add_root_entry(struct sh_plan *p, const char *path)
{
	char buf[256];
	struct stat st;
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);

	if (n > 0) {
		buf[n] = '\0';
		sh_plan_add_mount(p, SH_MNT_SYMLINK, path, false, false, NULL)->target = sh_xstrdup(buf);
	} else if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		sh_plan_add_mount(p, SH_MNT_BIND, path, false, true, NULL);
		sh_plan_add_ll(p, path, SH_ACC_READ | SH_ACC_EXEC);
	}
}

void t_plan_base_view(struct sh_plan *p, enum sh_net_mode net)
{
	const unsigned rx = SH_ACC_READ | SH_ACC_EXEC, rw = SH_ACC_READ | SH_ACC_WRITE;

	sh_plan_init(p);
	p->use_userns = true;
	p->net = net;
	sh_plan_add_mount(p, SH_MNT_BIND, "/usr", false, true, NULL);
	sh_plan_add_ll(p, "/usr", rx);
	t_plan_add_root_entry(p, "/bin");
	t_plan_add_root_entry(p, "/sbin");
	t_plan_add_root_entry(p, "/lib");
	t_plan_add_root_entry(p, "/lib64");
	sh_plan_add_mount(p, SH_MNT_PROC, "/proc", false, true, NULL);
	sh_plan_add_ll(p, "/proc", rw);
	sh_plan_add_mount(p, SH_MNT_DEV, "/dev", false, true, NULL);
	sh_plan_add_ll(p, "/dev", rw);
	sh_plan_add_mount(p, SH_MNT_TMPFS, "/tmp", false, true, NULL);
	sh_plan_add_ll(p, "/tmp", rw | SH_ACC_EXEC);
	sh_plan_add_ll(p, "/", SH_ACC_READ);
}
