#!/usr/bin/env python3
"""Where the CPU time a session adds to a command goes, layer by layer.

  bench/attrib.py [-n RUNS] [--build DIR] [--freq HZ] -- CMD [ARG...]

Runs bench/paired.py --copies (CMD inside one session and outside, run by
run, each side its own copy of CMD's executable) under a system-wide
`perf record` of cpu-clock samples, then splits the samples by command name
and counts, for each side, the samples in:
  - seccomp: the kernel's filter entry and the filter program itself;
  - landlock: the path checks Landlock's hooks make;
  - kernel, other: every other kernel function;
  - user space: the command's own code and its libraries.
Each line gives both counts and the difference as a share of the outside
total, so the lines add up to the CPU overhead of the whole session.  The
10 kernel functions whose counts grew most follow.

Needs perf (linux-perf / linux-tools) and the right to sample system-wide
(root, or kernel.perf_event_paranoid <= 0).  Run it in CMD's workdir, as
paired.py.  Used for the git status figures in the README (Benchmarks)."""
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Kernel functions by layer.  Landlock's filesystem checks are static
# functions of security/landlock/fs.c, named here; the seccomp filter
# program, JIT-compiled, has no symbol: its samples fall in the module
# area (0xffffffffc...).
LAYERS = [
    ("seccomp", re.compile(r"seccomp|secure_computing|^syscall_trace_enter$|^0xffffffffc")),
    ("landlock", re.compile(r"landlock|^find_rule$|^is_access_to_paths_allowed$|"
                            r"^hook_file_open$|^unmask_layers$|^may_refer$")),
]


def layer(dso, sym):
    if dso != "[kernel.kallsyms]" and not sym.startswith("0xffffffff"):
        return "user space"
    for name, rx in LAYERS:
        if rx.search(sym):
            return name
    return "kernel, other"


def main(argv):
    runs, build, freq, i = "200", os.path.join(ROOT, "build"), "10000", 0
    while i < len(argv) and argv[i] != "--":
        if argv[i] in ("-n", "--build", "--freq") and i + 1 < len(argv):
            if argv[i] == "-n":
                runs = argv[i + 1]
            elif argv[i] == "--build":
                build = os.path.abspath(argv[i + 1])
            else:
                freq = argv[i + 1]
            i += 2
            continue
        sys.exit("usage: attrib.py [-n RUNS] [--build DIR] [--freq HZ] -- CMD [ARG...]")
    cmd = argv[i + 1:]
    if not cmd:
        sys.exit("usage: attrib.py [-n RUNS] [--build DIR] [--freq HZ] -- CMD [ARG...]")
    if not shutil.which("perf"):
        sys.exit("attrib.py: perf is not installed (Debian: apt-get install linux-perf)")
    tmp = tempfile.mkdtemp(prefix="sh-attrib.")
    try:
        data = os.path.join(tmp, "perf.data")
        rec = subprocess.run(["perf", "record", "-q", "-a", "-e", "cpu-clock", "-F", freq,
                              "-o", data, "--", sys.executable,
                              os.path.join(ROOT, "bench", "paired.py"), "-n", runs,
                              "--build", build, "--copies", "--", *cmd])
        if rec.returncode != 0:
            sys.exit("attrib.py: the measured run failed (perf record: status %d)" %
                     rec.returncode)
        rep = subprocess.run(["perf", "report", "-i", data, "--sort", "comm,dso,sym", "-n",
                              "--stdio"], capture_output=True, text=True)
        if rep.returncode != 0:
            sys.exit("attrib.py: perf report failed: %s" % rep.stderr.strip())
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    # "  12.34%   5678  comm  dso  [k] symbol"
    row = re.compile(r"^\s*[\d.]+%\s+(\d+)\s+(\S+)\s+(\S+)\s+\[[^\]]*\]\s+(.+?)\s*$")
    count = {"pb-out": {}, "pb-safehouse": {}}
    syms = {"pb-out": {}, "pb-safehouse": {}}
    for line in rep.stdout.splitlines():
        m = row.match(line)
        if not m or m.group(2) not in count:
            continue
        n, side, dso, sym = int(m.group(1)), m.group(2), m.group(3), m.group(4)
        key = layer(dso, sym)
        count[side][key] = count[side].get(key, 0) + n
        if key != "user space":
            syms[side][sym] = syms[side].get(sym, 0) + n
    out_total = sum(count["pb-out"].values())
    in_total = sum(count["pb-safehouse"].values())
    if out_total == 0 or in_total == 0:
        sys.exit("attrib.py: no samples of the command on one side (is perf allowed to "
                 "sample system-wide?)")
    print("\nCPU samples of the command, inside vs outside (share of the outside total):")
    print("%-16s %10s %10s %9s" % ("", "outside", "inside", "added"))
    for key in ("seccomp", "landlock", "kernel, other", "user space"):
        o, n = count["pb-out"].get(key, 0), count["pb-safehouse"].get(key, 0)
        print("%-16s %10d %10d %+8.2f%%" % (key, o, n, 100.0 * (n - o) / out_total))
    print("%-16s %10d %10d %+8.2f%%" % ("all", out_total, in_total,
                                         100.0 * (in_total - out_total) / out_total))
    grown = sorted(((syms["pb-safehouse"].get(s, 0) - syms["pb-out"].get(s, 0), s)
                    for s in set(syms["pb-out"]) | set(syms["pb-safehouse"])), reverse=True)
    print("\nkernel functions that grew most:")
    for d, s in grown[:10]:
        print("  %+7d  %-40s %s" % (d, s, layer("[kernel.kallsyms]", s)))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in ("-h", "--help"):
        print(__doc__)
        sys.exit(0)
    main(sys.argv[1:])
