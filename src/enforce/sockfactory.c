/* The socket factory of port publishing: init's side, the launcher's and
 * the forwarder's checks.  Protocol, on a SOCK_SEQPACKET pair:
 *   forwarder -> init: one byte, '4' (AF_INET) or '6' (AF_INET6);
 *   init -> forwarder: the same byte with the socket attached, or 'e'/'E'
 *     (for '4'/'6') without one when socket() failed.
 * Answers come in request order; each carries its family, so a lost answer
 * (init never blocks: a full channel drops it) cannot hand a connection a
 * socket of the wrong family. */
#include "enforce/sockfactory.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "util/fdio.h"

#ifndef SIOCGSKNS
#define SIOCGSKNS 0x894C
#endif

#define SERVE_BURST 64 /* requests answered per wake-up; the rest at the next */
#define OPEN_NFDS SH_FDS_MAX

static int open_ro(const char *path)
{
	return open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
}

int sh_sockfactory_open(int sync, struct sh_err *e)
{
	int pair[2], fds[OPEN_NFDS];
	size_t n = 0;
	char have = 0;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
		return sh_fail(e, SH_EXIT_SETUP, errno, "publish: cannot create the socket channel");
	int flags = fcntl(pair[0], F_GETFL);
	if (flags < 0 || fcntl(pair[0], F_SETFL, flags | O_NONBLOCK) < 0) {
		sh_fail(e, SH_EXIT_SETUP, errno, "publish: cannot make the socket channel "
						 "non-blocking");
		goto fail;
	}
	/* Still the host's /proc (before the mount view): /proc/self is init,
	 * and its net/ files describe the namespace init lives in. */
	fds[n++] = pair[1];
	int ns = open_ro("/proc/self/ns/net");
	if (ns < 0) {
		sh_fail(e, SH_EXIT_SETUP, errno, "publish: cannot open the network namespace");
		goto fail;
	}
	fds[n++] = ns;
	int t4 = open_ro("/proc/self/net/tcp");
	if (t4 >= 0) {
		fds[n++] = t4;
		have |= 1;
	}
	int t6 = open_ro("/proc/self/net/tcp6"); /* absent without IPv6 */
	if (t6 >= 0) {
		fds[n++] = t6;
		have |= 2;
	}
	int rc = sh_send_fds(sync, (char)('0' + have), fds, n, 0);
	int saved = errno;
	for (size_t i = 0; i < n; i++)
		close(fds[i]);
	if (rc < 0) {
		close(pair[0]);
		return sh_fail(e, SH_EXIT_SETUP, saved, "publish: cannot pass the socket channel to "
							"the launcher");
	}
	return pair[0];
fail:
	for (size_t i = 0; i < n; i++)
		close(fds[i]);
	if (n == 0)
		close(pair[1]);
	close(pair[0]);
	return -1;
}

int sh_sockfactory_recv(int sync, struct sh_sockfactory_fds *out)
{
	int fds[OPEN_NFDS];
	char have = 0;
	int n = sh_recv_fds(sync, &have, fds, OPEN_NFDS, 0);
	int want;

	out->chan = out->tcp4 = out->tcp6 = out->netns = -1;
	if (n < 0)
		return -1;
	have = (char)(have - '0');
	want = 2 + !!(have & 1) + !!(have & 2);
	if (have < 0 || have > 3 || n != want) {
		for (int i = 0; i < n; i++)
			close(fds[i]);
		errno = EPROTO;
		return -1;
	}
	out->chan = fds[0];
	out->netns = fds[1];
	int k = 2;
	if (have & 1)
		out->tcp4 = fds[k++];
	if (have & 2)
		out->tcp6 = fds[k++];
	return 0;
}

void sh_sockfactory_fds_close(struct sh_sockfactory_fds *f)
{
	int *all[] = { &f->chan, &f->tcp4, &f->tcp6, &f->netns };
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (*all[i] >= 0) {
			close(*all[i]);
			*all[i] = -1;
		}
}

int sh_sockfactory_serve(int fd)
{
	for (int i = 0; i < SERVE_BURST; i++) {
		char req;
		ssize_t n = recv(fd, &req, 1, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			return -1;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
		int family = req == '4' ? AF_INET : req == '6' ? AF_INET6 : -1;
		if (family < 0)
			continue; /* not a request: nothing to answer */
		int s = socket(family, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
		if (s < 0) {
			(void)sh_send_fds(fd, req == '4' ? 'e' : 'E', NULL, 0, MSG_DONTWAIT);
			continue;
		}
		/* EAGAIN: the forwarder is not reading; it times the
		 * connection out.  Never block pid 1. */
		(void)sh_send_fds(fd, req, &s, 1, MSG_DONTWAIT);
		close(s);
	}
	return 0;
}

int sh_sockfactory_request(int chan, int family)
{
	char req = family == AF_INET6 ? '6' : '4';
	return sh_send_fds(chan, req, NULL, 0, MSG_DONTWAIT);
}

int sh_sockfactory_take(int chan, int *family)
{
	int fd = -1;
	char byte = 0;
	int n = sh_recv_fds(chan, &byte, &fd, 1, MSG_DONTWAIT);

	if (n < 0)
		return -1;
	switch (byte) {
	case '4':
	case 'e':
		*family = AF_INET;
		break;
	case '6':
	case 'E':
		*family = AF_INET6;
		break;
	default:
		if (n == 1)
			close(fd);
		errno = EPROTO;
		return -1;
	}
	bool with = byte == '4' || byte == '6';
	if (with != (n == 1)) {
		if (n == 1)
			close(fd);
		errno = EPROTO;
		return -1;
	}
	return with ? fd : -2;
}

int sh_netns_id_of(int nsfd, struct sh_netns_id *id)
{
	struct stat st;
	if (fstat(nsfd, &st) < 0)
		return -1;
	id->dev = (unsigned long long)st.st_dev;
	id->ino = (unsigned long long)st.st_ino;
	return 0;
}

bool sh_sockfactory_check(int fd, int family, const struct sh_netns_id *want, const char **why)
{
	int v;
	socklen_t len = sizeof(v);
	struct sockaddr_storage ss;
	struct sh_netns_id got;

	*why = "not a socket";
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &len) < 0 || v != family) {
		*why = "not a socket of the requested family";
		return false;
	}
	len = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len) < 0 || v != SOCK_STREAM) {
		*why = "not a stream socket";
		return false;
	}
	len = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &v, &len) < 0 || v != IPPROTO_TCP) {
		*why = "not a TCP socket";
		return false;
	}
	len = sizeof(ss);
	if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0 || errno != ENOTCONN) {
		*why = "already connected";
		return false;
	}
	/* The namespace the socket belongs to (needs CAP_NET_ADMIN over it:
	 * the launcher's user owns the sandbox's user namespace). */
	int ns = ioctl(fd, SIOCGSKNS);
	if (ns < 0) {
		*why = "its network namespace cannot be checked";
		return false;
	}
	int rc = sh_netns_id_of(ns, &got);
	close(ns);
	if (rc < 0 || got.dev != want->dev || got.ino != want->ino) {
		*why = "not in the sandbox's network namespace";
		return false;
	}
	*why = NULL;
	return true;
}
