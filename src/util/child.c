#include "util/child.h"

#include <errno.h>
#include <sys/wait.h>
#include <unistd.h>

void sh_helper_stop(pid_t *pid, int *stop_w)
{
	char c = 'q';

	if (*stop_w >= 0) {
		(void)!write(*stop_w, &c, 1); /* EPIPE: it is gone already */
		close(*stop_w);
		*stop_w = -1;
	}
	if (*pid > 0) {
		while (waitpid(*pid, NULL, 0) < 0 && errno == EINTR)
			;
		*pid = -1;
	}
}
