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
