/* Own pty + I/O relay. */
#include "enforce/pty.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "enforce/harden.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

/* Settings and window size of the real terminal onto the pty (fd: the
 * slave, or the master, whose TCSETS/TIOCSWINSZ act on the slave). */
static void configure(const struct sh_term *t, int fd)
{
	/* The inner line discipline behaves like the user's terminal (erase
	 * character, IUTF8, ...); ignore failure: defaults are fine. */
	if (t->have_initial)
		(void)tcsetattr(fd, TCSANOW, &t->initial);
	sh_term_sync_winsize(t);
}

int sh_term_setup(struct sh_term *t, bool allocate, struct sh_err *e)
{
	memset(t, 0, sizeof(*t));
	sh_ttyf_init(&t->filter);
	t->master = t->slave = t->in_fd = t->out_fd = t->size_fd = -1;
	for (int i = 0; i < 3; i++)
		t->is_tty[i] = isatty(i) == 1;
	if (!t->is_tty[0] && !t->is_tty[1] && !t->is_tty[2])
		return 0;

	t->in_fd = t->is_tty[0] ? 0 : -1;
	t->out_fd = t->is_tty[1] || !t->is_tty[2] ? 1 : 2;
	t->size_fd = t->is_tty[0] ? 0 : t->is_tty[1] ? 1 : 2;
	t->have_initial = tcgetattr(t->size_fd, &t->initial) == 0;
	if (!allocate) {
		t->active = true;
		return 0;
	}

	t->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (t->master < 0)
		return sh_fail(e, SH_EXIT_SETUP, errno, "pty: cannot allocate a pseudo-terminal");
	if (grantpt(t->master) < 0 || unlockpt(t->master) < 0) {
		sh_fail(e, SH_EXIT_SETUP, errno, "pty: cannot unlock the pseudo-terminal");
		goto fail;
	}
	/* TIOCGPTPEER (4.13) opens the slave without a path lookup. */
	t->slave = ioctl(t->master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (t->slave < 0) {
		char name[128];
		if (ptsname_r(t->master, name, sizeof(name)) != 0) {
			sh_fail(e, SH_EXIT_SETUP, errno, "pty: cannot name the pseudo-terminal");
			goto fail;
		}
		t->slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (t->slave < 0) {
			sh_fail(e, SH_EXIT_SETUP, errno, "pty: cannot open '%s'", name);
			goto fail;
		}
	}
	int fl = fcntl(t->master, F_GETFL);
	if (fl < 0 || fcntl(t->master, F_SETFL, fl | O_NONBLOCK) < 0) {
		sh_fail(e, SH_EXIT_SETUP, errno, "pty: cannot make the master non-blocking");
		goto fail;
	}
	t->active = true;
	configure(t, t->slave);
	return 0;
fail:
	sh_closep(&t->slave);
	sh_closep(&t->master);
	return -1;
}

int sh_term_adopt(struct sh_term *t, int master, struct sh_err *e)
{
	int fl = fcntl(master, F_GETFL);
	t->master = master;
	if (fl < 0 || fcntl(master, F_SETFL, fl | O_NONBLOCK) < 0)
		return sh_fail(e, SH_EXIT_SETUP, errno, "pty: cannot make the master non-blocking");
	configure(t, master);
	return 0;
}

int sh_term_open_pair(const char *ptmx, int *master, int *slave)
{
	int m = open(ptmx, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0)
		return -1;
	int unlock = 0;
	int s = -1;
	if (ioctl(m, TIOCSPTLCK, &unlock) == 0)
		s = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s < 0) {
		int err = errno;
		close(m);
		return errno = err, -1;
	}
	*master = m;
	*slave = s;
	return 0;
}

/* May we change the terminal's settings and read from it without being
 * stopped?  Yes when we are in its foreground process group, or when it is
 * not our controlling terminal at all (no job control applies). */
static bool in_foreground(int fd)
{
	pid_t pg = tcgetpgrp(fd);
	return pg < 0 || pg == getpgrp();
}

int sh_term_raw(struct sh_term *t, struct sh_err *e)
{
	struct termios raw;

	if (!t->active || t->in_fd < 0 || t->raw)
		return 0;
	t->in_paused = !in_foreground(t->in_fd);
	if (t->in_paused)
		return 0;
	if (tcgetattr(t->in_fd, &t->saved) < 0)
		return sh_fail(e, SH_EXIT_SETUP, errno, "pty: cannot read the terminal settings");
	raw = t->saved;
	cfmakeraw(&raw);
	if (tcsetattr(t->in_fd, TCSADRAIN, &raw) < 0)
		return sh_fail(e, SH_EXIT_SETUP, errno, "pty: cannot switch the terminal to raw mode");
	t->raw = true;
	return 0;
}

/* Modes a program inside may have set in the terminal, which outlive it
 * when it dies without resetting them (killed, or on purpose: a hidden
 * cursor, black on black, a keyboard protocol that makes Enter send
 * something else): put back at the end of the session.  Each is a no-op
 * when not set.  Not the scroll region (resetting it moves the cursor). */
static const char term_reset[] =
	"\033[?1049l"                                      /* main screen */
	"\033[?1000l\033[?1002l\033[?1003l\033[?1005l\033[?1006l\033[?1015l" /* mouse */
	"\033[?1004l"                                      /* focus events */
	"\033[?1l\033>"                                    /* cursor keys, keypad */
	"\033[<u\033[>4m"                                  /* kitty keys, modifyOtherKeys */
	"\033(B\017"                                       /* ASCII character set */
	"\033[0m\033]104\007\033]110\007\033]111\007\033]112\007" /* colours */
	"\033[?25h";                                       /* cursor shown */

void sh_term_restore(struct sh_term *t)
{
	sigset_t ttou, old;

	if (!t->raw)
		return;
	/* blocked, SIGTTOU cannot stop us should we be in the background now */
	sigemptyset(&ttou);
	sigaddset(&ttou, SIGTTOU);
	sigprocmask(SIG_BLOCK, &ttou, &old);
	if (t->filter.touched && t->out_fd >= 0 && isatty(t->out_fd))
		(void)sh_write_all(t->out_fd, term_reset, sizeof(term_reset) - 1);
	while (tcsetattr(t->in_fd, TCSADRAIN, &t->saved) < 0 && errno == EINTR)
		;
	sigprocmask(SIG_SETMASK, &old, NULL);
	t->raw = false;
}

void sh_term_sync_winsize(const struct sh_term *t)
{
	struct winsize ws;
	if (t->master >= 0 && t->size_fd >= 0 && ioctl(t->size_fd, TIOCGWINSZ, &ws) == 0)
		(void)ioctl(t->master, TIOCSWINSZ, &ws);
}

int sh_term_attach(const struct sh_term *t)
{
	int ctty = -1;

	if (!t->active)
		return 0;
	for (int i = 0; i < 3; i++) {
		if (!t->is_tty[i])
			continue;
		if (dup2(t->slave, i) < 0)
			return -1;
		if (ctty < 0)
			ctty = i;
	}
	if (t->slave > 2)
		close(t->slave);
	if (ioctl(ctty, TIOCSCTTY, 0) < 0)
		return -1;
	return 0;
}

void sh_term_close_slave(struct sh_term *t)
{
	sh_closep(&t->slave);
}

enum { P_IN, P_MASTER, P_OUT };

void sh_term_poll_prepare(const struct sh_term *t, struct pollfd *p)
{
	for (int i = 0; i < SH_TERM_NPOLL; i++)
		p[i] = (struct pollfd){ .fd = -1 };
	if (!t->active)
		return;
	if (t->in_fd >= 0 && !t->in_eof && !t->in_paused && t->inlen == 0)
		p[P_IN] = (struct pollfd){ .fd = t->in_fd, .events = POLLIN };
	short ev = 0;
	if (!t->master_eof && t->outlen == 0)
		ev |= POLLIN;
	if (!t->master_eof && t->inlen > 0)
		ev |= POLLOUT;
	if (ev)
		p[P_MASTER] = (struct pollfd){ .fd = t->master, .events = ev };
	if (t->outlen > 0)
		p[P_OUT] = (struct pollfd){ .fd = t->out_fd, .events = POLLOUT };
}

static bool transient(int err)
{
	return err == EINTR || err == EAGAIN || err == EWOULDBLOCK;
}

static void flush_out(struct sh_term *t)
{
	ssize_t n = write(t->out_fd, t->outbuf + t->outoff, t->outlen - t->outoff);
	if (n < 0 && transient(errno))
		return;
	if (n <= 0) { /* EPIPE, EIO: nobody reads our output any more; discard */
		t->out_broken = true;
		t->outlen = t->outoff = 0;
		return;
	}
	t->outoff += (size_t)n;
	if (t->outoff == t->outlen)
		t->outlen = t->outoff = 0;
}

/* One read from the master, filtered into outbuf (which is empty).  The
 * filter may hold back the start of an unfinished sequence, so outlen can
 * stay 0 after a successful read.  false: nothing to read now (EAGAIN). */
static bool read_master(struct sh_term *t)
{
	char raw[sizeof(t->outbuf) - SH_TTYF_SEQ_MAX];
	ssize_t n = read(t->master, raw, sizeof(raw));
	if (n < 0 && transient(errno))
		return false;
	if (n <= 0) { /* EIO: every slave fd is closed */
		t->master_eof = true;
		sh_ttyf_finish(&t->filter); /* an unfinished sequence is discarded */
		return true;
	}
	if (!t->out_broken) {
		t->outlen = sh_ttyf_feed(&t->filter, raw, (size_t)n, t->outbuf);
		t->outoff = 0;
	}
	return true;
}

void sh_term_poll_handle(struct sh_term *t, const struct pollfd *p)
{
	if (!t->active)
		return;
	if (p[P_IN].fd >= 0 && p[P_IN].revents) {
		ssize_t n = read(t->in_fd, t->inbuf, sizeof(t->inbuf));
		if (n > 0) {
			t->inlen = (size_t)n;
			t->inoff = 0;
		} else if (n == 0 || !transient(errno)) {
			t->in_eof = true; /* the terminal hung up */
		}
	}
	if (p[P_MASTER].fd >= 0 && (p[P_MASTER].revents & POLLOUT)) {
		ssize_t n = write(t->master, t->inbuf + t->inoff, t->inlen - t->inoff);
		if (n > 0) {
			t->inoff += (size_t)n;
			if (t->inoff == t->inlen)
				t->inlen = t->inoff = 0;
		} else if (n < 0 && !transient(errno)) {
			t->inlen = t->inoff = 0;
		}
	}
	if (p[P_MASTER].fd >= 0 && (p[P_MASTER].revents & (POLLIN | POLLHUP | POLLERR)) &&
	    t->outlen == 0)
		read_master(t);
	if (p[P_OUT].fd >= 0 && p[P_OUT].revents)
		flush_out(t);
}

void sh_term_drain(struct sh_term *t)
{
	if (!t->active)
		return;
	for (int guard = 0; guard < 4096; guard++) {
		if (t->outlen > 0) {
			if (!t->out_broken &&
			    sh_write_all(t->out_fd, t->outbuf + t->outoff, t->outlen - t->outoff) < 0)
				t->out_broken = true;
			t->outlen = t->outoff = 0;
		}
		if (t->master_eof)
			break;
		if (!read_master(t))
			break; /* EAGAIN: a straggler still holds the slave; stop here */
	}
}

void sh_term_close(struct sh_term *t)
{
	sh_term_restore(t);
	sh_closep(&t->slave);
	sh_closep(&t->master);
	t->active = false;
}
