#!/usr/bin/env python3
"""Time one command inside and outside the sandbox, run by run.

  bench/paired.py [-n RUNS] [--build DIR] [--copies] [LABEL=SAFEHOUSE[,VAR=VALUE...] ...]
                  -- CMD [ARG...]

Each LABEL=SAFEHOUSE starts one session (SAFEHOUSE -- runner CMD...) that
stays open; an "out" runner runs CMD outside.  Then, RUNS times, every runner
runs CMD once, in a random order each time, so that each inside run has an
outside run next to it in time (drift on a shared machine cancels out far
better than in rounds of many runs).  Prints, per label, the overhead of its
median over the outside median with a bootstrap 95% interval, for the
wall-clock time and for the CPU time (user + system, all the command's
threads; what the sandbox's layers add to the command's own work, without
the time it waits for the creation supervisor).  VAR=VALUE pairs are set in
that launcher's environment.  Run it in the directory the command works in
(its workdir).  Default: one label, BUILD/safehouse.

--copies runs each side's own copy of CMD's executable (BUILD/pb-out,
BUILD/pb-LABEL), so that a system-wide profile can tell the sides apart by
command name (bench/attrib.py).

Used to measure git status inside a session layer by layer (README,
Benchmarks); `make bench` reports the figures of record."""
import os
import random
import shutil
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def runner_path(build):
    exe = os.path.join(build, "bench-runner")
    src = os.path.join(ROOT, "bench", "runner.c")
    if not os.path.exists(exe) or os.path.getmtime(exe) < os.path.getmtime(src):
        subprocess.run(["cc", "-O2", "-std=gnu11", "-o", exe, src], check=True)
    return exe


def copy_of(exe, dest):
    """A private copy of the executable exe (found on PATH) at dest."""
    src = shutil.which(exe)
    if not src:
        sys.exit("paired.py: %s: not found on PATH" % exe)
    shutil.copy2(os.path.realpath(src), dest)
    return dest


def interval(ins, out, runs, key):
    """Median ratio of ins over out (per key) and a 95% bootstrap interval."""
    i = [key(r) for r in ins]
    o = [key(r) for r in out]
    boot = []
    for _ in range(400):
        idx = [random.randrange(runs) for _ in range(runs)]
        boot.append(statistics.median([i[k] for k in idx]) / statistics.median([o[k] for k in idx]))
    boot.sort()
    return statistics.median(i) / statistics.median(o) - 1, boot[10] - 1, boot[389] - 1


def measure(procs, runs):
    """RUNS runs of every runner, in a random order each time, after a
    warm-up: {name: [(wall ms, CPU ms), ...]}."""
    def once(name):
        p = procs[name]
        p.stdin.write("x\n")
        p.stdin.flush()
        line = p.stdout.readline().split()
        if len(line) != 3 or line[1] != "0":
            sys.exit("paired.py: %s: the command failed (%s)" % (name, " ".join(line) or "EOF"))
        return int(line[0]) / 1e6, int(line[2]) / 1e3

    names = list(procs)
    for _ in range(3):  # warm-up
        for n in names:
            once(n)
    res = {n: [] for n in names}
    for _ in range(runs):
        random.shuffle(names)
        for n in names:
            res[n].append(once(n))
    return res


def main(argv):
    runs, build, labels, copies = 300, os.path.join(ROOT, "build"), [], False
    i = 0
    while i < len(argv) and argv[i] != "--":
        a = argv[i]
        if a == "-n":
            runs = int(argv[i + 1])
            i += 2
            continue
        if a == "--copies":
            copies = True
            i += 1
            continue
        if a == "--build":
            build = os.path.abspath(argv[i + 1])
            i += 2
            continue
        if "=" not in a:
            sys.exit("paired.py: LABEL=SAFEHOUSE expected, got %r (see --help in the source)" % a)
        labels.append(a)
        i += 1
    cmd = argv[i + 1:] if i < len(argv) else []
    if not cmd:
        sys.exit("usage: paired.py [-n RUNS] [--build DIR] [LABEL=SAFEHOUSE[,VAR=V...]] -- CMD...")
    if not labels:
        labels = ["safehouse=" + os.path.join(build, "safehouse")]
    runner = runner_path(build)
    made, procs = [], {}

    def side(name):
        if not copies:
            return cmd
        made.append(copy_of(cmd[0], os.path.join(build, ("pb-" + name)[:15])))
        return [made[-1]] + cmd[1:]

    try:
        procs["out"] = subprocess.Popen([runner] + side("out"), stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)
        for spec in labels:
            label, rest = spec.split("=", 1)
            parts = rest.split(",")
            env = dict(os.environ)
            for kv in parts[1:]:
                k, v = kv.split("=", 1)
                env[k] = v
            # the runner lives outside the workdir: granted read-only
            procs[label] = subprocess.Popen(
                [parts[0], "--add-dirs-ro=" + os.path.dirname(runner), "--", runner] +
                side(label), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        res = measure(procs, runs)
    finally:
        for p in procs.values():
            try:
                p.stdin.close()
            except OSError:  # the runner is gone already
                pass
            p.wait()
        for f in made:
            os.unlink(f)
    out = res["out"]
    print("outside: median %.2f ms wall, %.2f ms CPU over %d runs" % (
        statistics.median(r[0] for r in out), statistics.median(r[1] for r in out), runs))
    for name in procs:
        if name == "out":
            continue
        ins = res[name]
        w = interval(ins, out, runs, lambda r: r[0])
        c = interval(ins, out, runs, lambda r: r[1])
        print("%-20s median %.2f ms, overhead %+.2f%% [95%%: %+.2f, %+.2f]; "
              "CPU %+.2f%% [%+.2f, %+.2f]" % (
                  name, statistics.median(r[0] for r in ins), w[0] * 100, w[1] * 100, w[2] * 100,
                  c[0] * 100, c[1] * 100, c[2] * 100))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in ("-h", "--help"):
        print(__doc__)
        sys.exit(0)
    main(sys.argv[1:])
