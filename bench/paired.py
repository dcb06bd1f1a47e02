#!/usr/bin/env python3
"""Time one command inside and outside the sandbox, run by run.

  bench/paired.py [-n RUNS] [--build DIR] [LABEL=SAFEHOUSE[,VAR=VALUE...] ...] -- CMD [ARG...]

Each LABEL=SAFEHOUSE starts one session (SAFEHOUSE -- runner CMD...) that
stays open; an "out" runner runs CMD outside.  Then, RUNS times, every runner
runs CMD once, in a random order each time, so that each inside run has an
outside run next to it in time (drift on a shared machine cancels out far
better than in rounds of many runs).  Prints, per label, the overhead of its
median over the outside median with a bootstrap 95% interval.  VAR=VALUE
pairs are set in that launcher's environment.  Run it in the directory the
command works in (its workdir).  Default: one label, BUILD/safehouse.

Used to measure git status inside a session layer by layer (README,
Benchmarks); `make bench` reports the figures of record."""
import os
import random
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


def main(argv):
    runs, build, labels = 300, os.path.join(ROOT, "build"), []
    i = 0
    while i < len(argv) and argv[i] != "--":
        a = argv[i]
        if a == "-n":
            runs = int(argv[i + 1])
            i += 2
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
    procs = {"out": subprocess.Popen([runner] + cmd, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)}
    for spec in labels:
        label, rest = spec.split("=", 1)
        parts = rest.split(",")
        env = dict(os.environ)
        for kv in parts[1:]:
            k, v = kv.split("=", 1)
            env[k] = v
        # the runner lives outside the workdir: granted read-only
        procs[label] = subprocess.Popen(
            [parts[0], "--add-dirs-ro=" + os.path.dirname(runner), "--", runner] + cmd,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)

    def once(name):
        p = procs[name]
        p.stdin.write("x\n")
        p.stdin.flush()
        line = p.stdout.readline().split()
        if len(line) != 2 or line[1] != "0":
            sys.exit("paired.py: %s: the command failed (%s)" % (name, " ".join(line) or "EOF"))
        return int(line[0]) / 1e6

    names = list(procs)
    for _ in range(3):  # warm-up
        for n in names:
            once(n)
    res = {n: [] for n in names}
    for _ in range(runs):
        random.shuffle(names)
        for n in names:
            res[n].append(once(n))
    for p in procs.values():
        p.stdin.close()
        p.wait()
    out = res["out"]
    print("outside: median %.2f ms over %d runs" % (statistics.median(out), runs))
    for name in procs:
        if name == "out":
            continue
        ins = res[name]
        boot = []
        for _ in range(400):
            idx = [random.randrange(runs) for _ in range(runs)]
            boot.append(statistics.median([ins[k] for k in idx]) /
                        statistics.median([out[k] for k in idx]))
        boot.sort()
        print("%-20s median %.2f ms, overhead %+.2f%% [95%%: %+.2f, %+.2f]" % (
            name, statistics.median(ins), (statistics.median(ins) / statistics.median(out) - 1) * 100,
            (boot[10] - 1) * 100, (boot[389] - 1) * 100))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in ("-h", "--help"):
        print(__doc__)
        sys.exit(0)
    main(sys.argv[1:])
