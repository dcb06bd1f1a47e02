/* The sandbox's own terminal (threats.md TERM-01..04).  Linux-only.
 *
 * When any of fds 0, 1, 2 is a terminal, the command gets a fresh pty
 * instead: each of those fds becomes the pty slave, the slave is the
 * controlling tty of the command's new session, and the launcher relays
 * bytes between the real terminal and the pty master.  So TIOCSTI inside
 * reaches only our pty, terminal queries are answered by our pty, and when
 * the session ends the master is closed: nothing inside can keep reading the
 * user's keyboard.  Fds that are not terminals (pipes, files) are passed
 * through untouched, so `safehouse cmd > out` stays byte-exact.
 *
 * Output relayed to the real terminal goes through the escape-sequence
 * filter (ttyfilter.h, TERM-03): no clipboard writes, title reports, DCS or
 * C1 controls reach the user's terminal emulator.  Input (the user's keys)
 * is relayed unchanged.
 *
 * The real terminal (stdin, when it is one) is switched to raw mode for the
 * duration; sh_term_restore() undoes it and is safe to call repeatedly. */
#ifndef SH_PTY_H
#define SH_PTY_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <termios.h>

#include "enforce/ttyfilter.h"
#include "util/err.h"

#define SH_TERM_NPOLL 3

struct sh_term {
	bool active;     /* a pty was allocated */
	int master;      /* launcher side, non-blocking, O_CLOEXEC */
	int slave;       /* handed to the child; the launcher closes its copy after the spawn */
	bool is_tty[3];  /* which of 0, 1, 2 were terminals (they get the slave) */
	int in_fd;       /* 0 if stdin is a terminal (keystrokes to relay), else -1 */
	int out_fd;      /* where pty output goes: 1, or 2 if only stderr is a terminal */
	int size_fd;     /* a real terminal to read the window size from */
	bool raw;        /* in_fd is in raw mode; saved holds the original settings */
	bool in_paused;  /* launcher not in the terminal's foreground process group:
			  * the terminal is neither switched to raw nor read */
	struct termios saved;
	bool have_initial; /* the terminal settings before raw mode, for the pty */
	struct termios initial;
	/* relay state */
	char inbuf[4096], outbuf[16384 + SH_TTYF_SEQ_MAX];
	struct sh_ttyf filter; /* master -> real terminal */
	size_t inlen, inoff, outlen, outoff;
	bool in_eof, master_eof, out_broken;
};

/* Decide, and allocate unless told not to: t->active is false (and nothing
 * is done) when none of 0, 1, 2 is a terminal.  With allocate, a pty of the
 * host's devpts is opened now and gets the terminal's settings and window
 * size.  Without, the master arrives later (sh_term_adopt): the sandbox's
 * init allocates it in the sandbox's own devpts, so that ttyname() inside
 * works (/dev/pts/0 there is really our pty). */
int sh_term_setup(struct sh_term *t, bool allocate, struct sh_err *e);
/* Launcher: take ownership of a master allocated inside, and give it the
 * terminal's settings and window size (via the master they apply to the
 * slave). */
int sh_term_adopt(struct sh_term *t, int master, struct sh_err *e);
/* Inside the view: open a new pty from ptmx (a devpts "ptmx" path).  0 and
 * *master, *slave (O_CLOEXEC, O_NOCTTY), or -1 with errno. */
int sh_term_open_pair(const char *ptmx, int *master, int *slave);
/* Switch stdin (if it is a terminal) to raw mode and relay it, if the
 * launcher is in the terminal's foreground process group.  Otherwise (a
 * background job: `timeout 60 safehouse ...`, `safehouse ... &`) the terminal
 * is left alone, since tcsetattr or read would stop the launcher (SIGTTOU,
 * SIGTTIN), and keystrokes are not relayed until a later call (on SIGCONT,
 * which `fg` sends) finds it in the foreground. */
int sh_term_raw(struct sh_term *t, struct sh_err *e);
/* Restore the terminal settings saved by sh_term_raw (never stops the
 * launcher, even from the background).  Idempotent. */
void sh_term_restore(struct sh_term *t);
/* Copy the real terminal's window size to the pty (the kernel then sends
 * SIGWINCH to the pty's foreground process group). */
void sh_term_sync_winsize(const struct sh_term *t);
/* In the child, after setsid(): put the slave on the fds that were
 * terminals and make it the controlling tty.  0, or -1 with errno. */
int sh_term_attach(const struct sh_term *t);
/* Launcher, after the spawn: close the slave so that the master sees EOF
 * when the last process inside closes it. */
void sh_term_close_slave(struct sh_term *t);

/* Relay: fill exactly SH_TERM_NPOLL entries (fd -1 when unused), poll, then
 * hand the same array back. */
void sh_term_poll_prepare(const struct sh_term *t, struct pollfd *p);
void sh_term_poll_handle(struct sh_term *t, const struct pollfd *p);
/* After the command exited: copy whatever output is left, without blocking
 * on the master. */
void sh_term_drain(struct sh_term *t);
/* Restore and close everything. */
void sh_term_close(struct sh_term *t);

#endif
