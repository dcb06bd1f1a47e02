/* The launcher's helper processes (the network proxy, the publish
 * forwarder): each runs until its stop pipe gets a byte or EOF. */
#ifndef SH_UTIL_CHILD_H
#define SH_UTIL_CHILD_H

#include <sys/types.h>

/* Tell the helper to stop (one byte, then close the pipe) and reap it.
 * Either may be -1 already; both are -1 afterwards. */
void sh_helper_stop(pid_t *pid, int *stop_w);

#endif
