/* The socket factory behind port publishing (safehouse(1) --publish;
 * docs/network.md "Port publishing").  Linux-only.
 *
 * A socket belongs to the network namespace it was created in, for good.
 * The sandbox's namespace is owned by its user namespace, which an
 * unprivileged launcher outside cannot enter.  So init, which lives in it,
 * creates fresh unconnected TCP sockets on request and passes them out
 * (SCM_RIGHTS over a SOCK_SEQPACKET pair); the forwarder on the host side
 * connects each one to the sandbox's 127.0.0.1:PORT (or [::1]:PORT) and
 * relays a host client's connection through it.
 *
 * Direction of trust: the sandbox only ever hands sockets out; nothing of
 * the host's (no host socket, no host address) is passed in.  The forwarder
 * checks every socket it receives before it connects it: TCP, unconnected,
 * and in the sandbox's network namespace (compared with the namespace init
 * reported at start) -- never the host's, where 127.0.0.1 would be the
 * host's own loopback services (threats.md NET-08). */
#ifndef SH_SOCKFACTORY_H
#define SH_SOCKFACTORY_H

#include <stdbool.h>

#include "util/err.h"

/* What init hands to the launcher once, at start (-1: absent). */
struct sh_sockfactory_fds {
	int chan;  /* the forwarder's end of the request channel */
	int tcp4;  /* /proc/net/tcp of the sandbox's namespace (auto publishing) */
	int tcp6;  /* /proc/net/tcp6, or -1 without IPv6 */
	int netns; /* /proc/self/ns/net of init: identifies the sandbox's namespace */
};

/* Init, inside the new network namespace (after lo is up): create the
 * channel, open the /proc files and the namespace, send them over sync (one
 * message) and keep only its own end, returned non-blocking and O_CLOEXEC. */
int sh_sockfactory_open(int sync, struct sh_err *e);

/* Init: answer every request waiting on fd (never blocks).  Returns -1
 * when the channel is closed (the forwarder is gone), else 0. */
int sh_sockfactory_serve(int fd);

/* Launcher: receive what sh_sockfactory_open sent.  0, or -1 (EOF: init
 * failed before sending, and its status record says why). */
int sh_sockfactory_recv(int sync, struct sh_sockfactory_fds *out);
void sh_sockfactory_fds_close(struct sh_sockfactory_fds *f);

/* Forwarder: ask for one socket of family AF_INET or AF_INET6.  0 or -1. */
int sh_sockfactory_request(int chan, int family);
/* Forwarder: take one answer.  Returns the socket (family in *family), -2
 * for an answer without a socket (*family set: init could not create one),
 * or -1 (errno; EAGAIN: nothing waiting; 0 errno: the channel closed). */
int sh_sockfactory_take(int chan, int *family);

/* Forwarder: the identity (device, inode) of a network namespace fd. */
struct sh_netns_id {
	unsigned long long dev, ino;
};
int sh_netns_id_of(int nsfd, struct sh_netns_id *id);
/* Forwarder: is fd a fresh TCP socket of `family` in namespace *want?  When
 * not, *why says what is wrong.  Fail closed: any check that cannot be
 * made is a "no". */
bool sh_sockfactory_check(int fd, int family, const struct sh_netns_id *want, const char **why);

#endif
