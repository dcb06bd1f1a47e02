#!/usr/bin/env python3
"""ptydrive: run a command on a fresh pseudo-terminal and drive it like a user.

    ptydrive.py [--out FILE] [--size ROWSxCOLS] [--timeout SECS] STEP... -- CMD [ARGS...]

The command gets the pty slave as stdin/stdout/stderr and as its controlling
terminal (new session), so it is the foreground process group, as in a
terminal emulator.  Steps run in order:

    expect=REGEX    wait until the output since the last match matches REGEX
                    (bytes decoded as latin-1; Python re syntax)
    send=TEXT       write TEXT to the master (backslash escapes: \\x03, \\r, ...)
    resize=RxC      set the window size on the pty (the kernel sends SIGWINCH)
    sleep=SECS
    hup             close the master (the terminal hangs up)

Then it waits for the command to exit and prints, on stdout:
    EXIT=N             the command's status (128+N when killed by signal N)
    HOLDERS=N          processes other than this one that still have the pty
                       slave open, after the command exited (TERM-04)
    ICANON=0|1         the slave's ICANON flag after the exit (terminal restored?)
--out FILE receives every byte read from the master (what a terminal emulator
would have interpreted).  Exit 0, or 124 on a timeout (the command is killed;
the output so far is still written).
"""
import fcntl
import os
import re
import select
import signal
import struct
import sys
import termios
import time


def usage(msg):
    sys.stderr.write("ptydrive: %s\n" % msg)
    sys.exit(2)


def holders(slave_name):
    """Pids (not ours) with an fd open on slave_name."""
    try:
        st = os.stat(slave_name)
    except OSError:
        return []
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        d = "/proc/%s/fd" % pid
        try:
            fds = os.listdir(d)
        except OSError:
            continue
        for fd in fds:
            try:
                s = os.stat("%s/%s" % (d, fd))
            except OSError:
                continue
            if s.st_rdev == st.st_rdev and (s.st_mode & 0o170000) == 0o020000:
                found.append(int(pid))
                break
    return found


def main():
    args = sys.argv[1:]
    out_path, size, timeout = None, (24, 80), 10.0
    while args and args[0].startswith("--") and args[0] != "--":
        opt = args.pop(0)
        if not args:
            usage("missing value for " + opt)
        val = args.pop(0)
        if opt == "--out":
            out_path = val
        elif opt == "--size":
            r, c = val.split("x")
            size = (int(r), int(c))
        elif opt == "--timeout":
            timeout = float(val)
        else:
            usage("unknown option " + opt)
    if "--" not in args:
        usage("missing -- CMD")
    i = args.index("--")
    steps, cmd = args[:i], args[i + 1:]
    if not cmd:
        usage("missing CMD")

    master, slave = os.openpty()
    slave_name = os.ttyname(slave)
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[0], size[1], 0, 0))
    pid = os.fork()
    if pid == 0:
        try:
            os.close(master)
            os.setsid()
            fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
            for fd in (0, 1, 2):
                os.dup2(slave, fd)
            if slave > 2:
                os.close(slave)
            for s in (signal.SIGINT, signal.SIGQUIT, signal.SIGPIPE, signal.SIGTERM, signal.SIGHUP):
                signal.signal(s, signal.SIG_DFL)
            os.execvp(cmd[0], cmd)
        except OSError as e:
            os.write(2, ("ptydrive: %s: %s\n" % (cmd[0], e)).encode())
        os._exit(127)
    os.close(slave)
    os.set_blocking(master, False)

    data = bytearray()
    pos = 0
    status = None
    master_open = True

    def pump(wait):
        """Read what is there (waiting up to `wait` seconds); reap the child."""
        nonlocal status
        if master_open:
            r, _, _ = select.select([master], [], [], wait)
            if r:
                try:
                    chunk = os.read(master, 65536)
                    data.extend(chunk)
                except (BlockingIOError, InterruptedError):
                    pass
                except OSError:  # EIO: no slave open any more
                    time.sleep(wait)
        else:
            time.sleep(wait)
        if status is None:
            p, st = os.waitpid(pid, os.WNOHANG)
            if p == pid:
                status = os.waitstatus_to_exitcode(st)

    def finish(code, note=None):
        if out_path:
            with open(out_path, "wb") as f:
                f.write(bytes(data))
        if note:
            print(note)
            print("OUTPUT-TAIL=%r" % bytes(data[-400:]))
        sys.stdout.flush()
        sys.exit(code)

    def timed_out(what):
        if status is None:
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except OSError:
                pass
        finish(124, "TIMEOUT at %s" % what)

    for step in steps:
        key, _, val = step.partition("=")
        if key == "expect":
            rx = re.compile(val.encode("latin-1"), re.S)
            deadline = time.monotonic() + timeout
            while True:
                m = rx.search(bytes(data), pos)
                if m:
                    pos = m.end()
                    break
                if time.monotonic() > deadline:
                    timed_out(step)
                if status is not None and master_open:
                    # the command is gone: read what is left, then give up
                    pump(0.05)
                    if not rx.search(bytes(data), pos):
                        m2 = None
                        for _ in range(20):
                            pump(0.02)
                            m2 = rx.search(bytes(data), pos)
                            if m2:
                                break
                        if not m2:
                            timed_out(step + " (command exited)")
                    continue
                pump(0.05)
        elif key == "send":
            b = val.encode("latin-1").decode("unicode_escape").encode("latin-1")
            while b:
                try:
                    n = os.write(master, b)
                    b = b[n:]
                except BlockingIOError:
                    pump(0.01)
        elif key == "resize":
            r, c = val.split("x")
            fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", int(r), int(c), 0, 0))
        elif key == "sleep":
            end = time.monotonic() + float(val)
            while time.monotonic() < end:
                pump(min(0.05, max(0.0, end - time.monotonic())))
        elif key == "hup":
            os.close(master)
            master_open = False
        else:
            usage("unknown step " + step)

    deadline = time.monotonic() + timeout
    while status is None:
        if time.monotonic() > deadline:
            timed_out("exit")
        pump(0.05)
    for _ in range(5):  # whatever the relay wrote last
        if not master_open:
            break
        pump(0.01)
    print("EXIT=%d" % (status if status >= 0 else 128 - status))
    print("HOLDERS=%d" % len(holders(slave_name)))
    icanon = "?"
    try:
        fd = os.open(slave_name, os.O_RDWR | os.O_NOCTTY)
        icanon = "1" if termios.tcgetattr(fd)[3] & termios.ICANON else "0"
        os.close(fd)
    except OSError:
        pass
    print("ICANON=%s" % icanon)
    finish(0)


if __name__ == "__main__":
    main()
