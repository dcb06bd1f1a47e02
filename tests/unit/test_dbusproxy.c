#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/dbusproxy.h"
#include "harness.h"
#include "util/str.h"

TEST(dbus_unix_address_escapes)
{
	char *a = sh_dbus_unix_address("/run/user/1000/safehouse-dbus-Ab_9.x/bus");
	CHECK_STR(a, "unix:path=/run/user/1000/safehouse-dbus-Ab_9.x/bus");
	free(a);
	a = sh_dbus_unix_address("/tmp/a b,c;d=e%f");
	CHECK_STR(a, "unix:path=/tmp/a%20b%2cc%3bd%3de%25f");
	free(a);
	a = sh_dbus_unix_address("/t/\xc3\xa9");
	CHECK_STR(a, "unix:path=/t/%c3%a9");
	free(a);
}

/* A bound unix socket at dir/name, for the bus checks. */
static char *make_socket(const char *dir, const char *name, int *fd)
{
	struct sockaddr_un ua = { .sun_family = AF_UNIX };
	char *p = sh_xasprintf("%s/%s", dir, name);

	*fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	snprintf(ua.sun_path, sizeof(ua.sun_path), "%s", p);
	if (*fd < 0 || bind(*fd, (struct sockaddr *)&ua, sizeof(ua)) < 0) {
		free(p);
		return NULL;
	}
	return p;
}

TEST(dbus_session_bus_resolution)
{
	char tmpl[] = "/var/tmp/sh-dbus-unit.XXXXXX";
	char *dir = mkdtemp(tmpl), *addr, *why, *sock, *a2, *file;
	int fd = -1;

	CHECK(dir != NULL);
	if (!dir)
		return;
	sock = make_socket(dir, "b us", &fd);
	CHECK(sock != NULL);
	file = sh_xasprintf("%s/file", dir);
	close(open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0600));

	/* unset: $XDG_RUNTIME_DIR/bus, escaped */
	CHECK_INT(sh_dbus_session_bus(NULL, dir, &addr, &why), ==, 0);
	CHECK_CONTAINS(why, "no D-Bus session bus");
	CHECK_CONTAINS(why, "/bus is not a socket");
	free(why);
	CHECK_INT(sh_dbus_session_bus("", NULL, &addr, &why), ==, 0);
	CHECK_CONTAINS(why, "XDG_RUNTIME_DIR is not set");
	free(why);

	/* set: a unix:path= entry must be a socket; escapes are decoded */
	a2 = sh_dbus_unix_address(sock);
	CHECK_INT(sh_dbus_session_bus(a2, NULL, &addr, &why), ==, 1);
	CHECK_STR(addr, a2);
	free(addr);
	free(a2);
	a2 = sh_xasprintf("unix:guid=0123,path=%s", file);
	CHECK_INT(sh_dbus_session_bus(a2, NULL, &addr, &why), ==, 0);
	CHECK_CONTAINS(why, "which is not a socket");
	CHECK_CONTAINS(why, file);
	free(why);
	free(a2);
	/* the first usable entry counts; other transports are left to the proxy */
	a2 = sh_xasprintf("unix:path=%s;unix:abstract=/x", file);
	CHECK_INT(sh_dbus_session_bus(a2, NULL, &addr, &why), ==, 1);
	free(addr);
	free(a2);
	/* never something the proxy would read as an option, nor control bytes */
	CHECK_INT(sh_dbus_session_bus("--help", NULL, &addr, &why), ==, 0);
	CHECK_CONTAINS(why, "malformed");
	free(why);
	CHECK_INT(sh_dbus_session_bus("unix:path=/x\n", NULL, &addr, &why), ==, 0);
	free(why);
	CHECK_INT(sh_dbus_session_bus("unix:path=/x%00y", NULL, &addr, &why), ==, 0);
	free(why);

	if (fd >= 0)
		close(fd);
	if (sock)
		unlink(sock);
	unlink(file);
	rmdir(dir);
	free(sock);
	free(file);
}

TEST(dbus_filter_is_the_secret_service_only)
{
	const char *const *f = sh_dbus_filter_args();
	size_t n = 0;

	CHECK_STR(f[0], "--filter");
	for (; f[n]; n++) {
		/* only calls and broadcasts of org.freedesktop.secrets, and
		 * only below its object path: no --talk, --own or --see */
		if (n == 0)
			continue;
		CHECK(sh_str_starts(f[n], "--call=org.freedesktop.secrets=") ||
		      sh_str_starts(f[n], "--broadcast=org.freedesktop.secrets="));
		CHECK(sh_str_ends(f[n], "@/org/freedesktop/secrets/*"));
		CHECK(strstr(f[n], "=*@") == NULL);
	}
	CHECK_INT(n, >, 5);
}
