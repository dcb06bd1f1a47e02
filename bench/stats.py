#!/usr/bin/env python3
"""Helpers for bench/run.sh: generate the workloads, read hyperfine's JSON,
print the report and write it between the README markers.

  stats.py gen-c DIR NFILES       a C project: NFILES .c files and a Makefile
  stats.py gen-repo DIR NFILES    a committed git repository of NFILES files
  stats.py report --sh BIN --notes FILE --work JSONDIR --readme README \\
                  USER=startup.json...
"""
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys

RATIO_TARGET = 0.5   # safehouse overhead / bwrap overhead
WORK_TARGET = 3.0    # % overhead of a workload inside


def gen_c(d, n):
    n = int(n)
    os.makedirs(os.path.join(d, "src"), exist_ok=True)
    os.makedirs(os.path.join(d, "include"), exist_ok=True)
    with open(os.path.join(d, "include", "common.h"), "w") as h:
        h.write("#include <stddef.h>\n#include <stdint.h>\n#include <string.h>\n"
                "#include <stdio.h>\n#include <stdlib.h>\n")
        for i in range(n):
            h.write("uint64_t mod%d_run(const char *s, size_t n);\n" % i)
    for i in range(n):
        with open(os.path.join(d, "src", "mod%d.c" % i), "w") as f:
            f.write('#include "common.h"\n\n')
            f.write("struct st%d { uint64_t a[16]; char name[32]; };\n\n" % i)
            for k in range(8):
                f.write(
                    "static uint64_t f%d_%d(struct st%d *s, const char *p, size_t n)\n{\n"
                    "\tuint64_t h = %du;\n"
                    "\tfor (size_t i = 0; i < n; i++) {\n"
                    "\t\th = (h ^ (unsigned char)p[i]) * 1099511628211u;\n"
                    "\t\ts->a[i %% 16] += h >> %d;\n"
                    "\t\tif (h %% %d == 0)\n"
                    "\t\t\tsnprintf(s->name, sizeof(s->name), \"%%llu\", (unsigned long long)h);\n"
                    "\t}\n\treturn h + s->a[%d];\n}\n\n" % (i, k, i, 1469598103 + k, k % 7, 13 + k, k))
            f.write("uint64_t mod%d_run(const char *s, size_t n)\n{\n"
                    "\tstruct st%d st;\n\tuint64_t r = 0;\n\tmemset(&st, 0, sizeof(st));\n" % (i, i))
            for k in range(8):
                f.write("\tr += f%d_%d(&st, s, n);\n" % (i, k))
            f.write("\treturn r;\n}\n")
    with open(os.path.join(d, "src", "main.c"), "w") as f:
        f.write('#include "common.h"\n\nint main(int argc, char **argv)\n{\n'
                '\tuint64_t r = 0;\n\tconst char *s = argc > 1 ? argv[1] : "x";\n')
        for i in range(n):
            f.write("\tr += mod%d_run(s, strlen(s));\n" % i)
        f.write('\tprintf("%llu\\n", (unsigned long long)r);\n\treturn 0;\n}\n')
    with open(os.path.join(d, "Makefile"), "w") as f:
        f.write("CC ?= cc\nCFLAGS ?= -O2 -Wall\nSRC := $(wildcard src/*.c)\n"
                "OBJ := $(SRC:src/%.c=obj/%.o)\n\n"
                "app: $(OBJ)\n\t$(CC) $(OBJ) -o $@\n\n"
                "obj/%.o: src/%.c include/common.h\n\t@mkdir -p obj\n"
                "\t$(CC) $(CFLAGS) -Iinclude -c $< -o $@\n\n"
                "clean:\n\trm -rf obj app\n\n.PHONY: clean\n")


def gen_repo(d, n):
    n = int(n)
    per = 100
    made = set()
    for i in range(n):
        sub = os.path.join(d, "d%03d" % (i // per), "s%d" % (i % 5))
        if sub not in made:
            os.makedirs(sub, exist_ok=True)
            made.add(sub)
        with open(os.path.join(sub, "f%05d.txt" % i), "w") as f:
            f.write("file %d\n" % i)
    env = dict(os.environ, GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="bench@example.invalid",
               GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="bench@example.invalid")
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"],
                ["git", "commit", "-q", "-m", "bench"], ["git", "status", "-s"]):
        subprocess.run(cmd, cwd=d, env=env, check=True, stdout=subprocess.DEVNULL)


def load(path):
    with open(path) as f:
        return json.load(f)["results"]


def median_ms(result):
    return statistics.median(result["times"]) * 1000.0


def startup_table(who, path):
    res = load(path)
    with open(path + ".names") as f:
        names = f.read().split()
    med = {names[i]: median_ms(r) for i, r in enumerate(res)}
    rounds = {names[i]: r.get("round_times") for i, r in enumerate(res)}
    bare = med["bare"]
    rows = []

    def paired(name, base):
        # median over the rounds of that round's ratio (drift cancels out)
        if not all(rounds.get(k) for k in (name, base, "bare")):
            return (med[name] - bare) / (med[base] - bare)
        rs = []
        for t, b, z in zip(rounds[name], rounds[base], rounds["bare"]):
            mt, mb, mz = statistics.median(t), statistics.median(b), statistics.median(z)
            if mb > mz:
                rs.append((mt - mz) / (mb - mz))
        return statistics.median(rs) if rs else (med[name] - bare) / (med[base] - bare)

    for name in names:
        over = med[name] - bare
        ratio = mini = ""
        if name.startswith("safehouse") and "bwrap" in med and med["bwrap"] > bare:
            r = paired(name, "bwrap")
            # the target is the default policy's; other rows are for reference
            ratio = "%.2f %s" % (r, ("PASS" if r <= RATIO_TARGET else "FAIL")
                                 if name == "safehouse" else "(reference)")
        if name.startswith("safehouse") and med.get("bwrap-minimal", 0) > bare:
            mini = "%.2f" % paired(name, "bwrap-minimal")
        rows.append((who, name, med[name], over if name != "bare" else None, ratio, mini))
    return rows


def work_rows(jdir):
    if not jdir:
        return []
    rows = []
    for label, prefix in (("make -j2, 150-file C project, one session per build", "make-"),
                          ("git status, 20k-file repository, inside one running session",
                           "gitsess-"),
                          ("git status, 20k-file repository, one session per command "
                           "(start-up and audit included)", "git-"),
                          ("tar -x of 5,000 small files, inside one running session (each "
                           "file created through the creation supervisor)", "untar-")):
        inside, outside = [], []
        rounds = {}  # round -> (inside times, outside times)
        for fn in sorted(os.listdir(jdir)):
            if not fn.startswith(prefix) or not fn.endswith(".json"):
                continue
            rnd = fn[:-5].rsplit("-", 1)[-1]
            pair = rounds.setdefault(rnd, ([], []))
            for r in load(os.path.join(jdir, fn)):
                # gitsess-in-N.json (untar-in-N) was measured by hyperfine inside the
                # sandbox; elsewhere the command line says which side it is
                ins = "-in-" in fn or ("-out-" not in fn and "safehouse" in r["command"])
                (inside if ins else outside).extend(r["times"])
                pair[0 if ins else 1].extend(r["times"])
        if not inside or not outside:
            continue
        mi, mo = statistics.median(inside) * 1000, statistics.median(outside) * 1000
        # Paired: each round's inside median over its outside median, then
        # the median of those ratios (drift between rounds cancels out).
        ratios = [statistics.median(i) / statistics.median(o)
                  for i, o in rounds.values() if i and o]
        pct = (statistics.median(ratios) - 1) * 100
        # The target is the workload's own run inside the sandbox; a whole
        # session per 30 ms command adds start-up and the audit: reference.
        verdict = ("(reference)" if prefix in ("git-", "untar-") else
                   "PASS" if pct <= WORK_TARGET else "FAIL")
        rows.append((label, mo, mi, pct, verdict, len(inside), len(ratios)))
    return rows


def machine():
    cpus = os.cpu_count() or 0
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return "%s, %d cores%s, Linux %s" % (platform.machine(), cpus,
                                          " (%s)" % model if model else "",
                                          platform.release())


def report(args):
    sh = notes = work = readme = ""
    pairs = []
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("--sh", "--notes", "--work", "--readme"):
            val = args[i + 1]
            if a == "--sh":
                sh = val
            elif a == "--notes":
                notes = val
            elif a == "--work":
                work = val
            else:
                readme = val
            i += 2
            continue
        pairs.append(a.split("=", 1))
        i += 1

    srows = []
    for who, path in pairs:
        srows.extend(startup_table(who, path))
    wrows = work_rows(work)
    notes_l = []
    if notes and os.path.exists(notes):
        with open(notes) as f:
            notes_l = [l.strip() for l in f if l.strip()]
    version = ""
    try:
        version = subprocess.run([sh, "--version"], capture_output=True, text=True).stdout.strip()
    except OSError:
        pass

    md = []
    md.append("Measured %s with `make bench` (%s; %s). 2 cores, shared, noisy — "
              "ratios from one run; absolute times drift between runs."
              % (datetime.date.today().isoformat(), version or "safehouse", machine()))
    md.append("")
    md.append("Start-up, `-- /bin/true`, median of the runs (hyperfine -N, in rounds (ten by default), the "
              "order of the commands reversed every other round); `safehouse` runs "
              "the default codex policy with `--network=none` (a copy of `/bin/true` named "
              "`codex`). Ratio = "
              "(safehouse − bare) / (bubblewrap − bare), the median over the rounds of each "
              "round's ratio; target ≤ %.1f. `bwrap` is given "
              "the agent-like view safehouse builds for the same workdir (the same binds, "
              "directories, symlinks and masks, from `--print-plan`); `bwrap-minimal` is "
              "a light view (system read-only, a few `/etc` files, private `/tmp` and "
              "`$HOME`, the project), for reference." % RATIO_TARGET)
    md.append("")
    md.append("| user | command | median ms | overhead ms | ratio to bwrap's overhead "
              "| ratio to bwrap-minimal's |")
    md.append("|---|---|---:|---:|---|---:|")
    for who, name, m, over, ratio, mini in srows:
        md.append("| %s | %s | %.2f | %s | %s | %s |"
                  % (who, name, m, "" if over is None else "%.2f" % over, ratio, mini))
    if wrows:
        md.append("")
        md.append("Workloads, inside vs outside; target ≤ %.0f%% overhead.  Rounds alternate "
                  "which side runs first; the overhead is the median over the rounds of each "
                  "round's inside median / outside median (paired, so drift between rounds "
                  "cancels out); the ms columns are the medians of all runs." % WORK_TARGET)
        md.append("")
        md.append("| workload | outside ms | inside ms | overhead | |")
        md.append("|---|---:|---:|---:|---|")
        for label, mo, mi, pct, verdict, n, nr in wrows:
            md.append("| %s (%d runs each, %d rounds) | %.1f | %.1f | %+.1f%% | %s |"
                      % (label, n, nr, mo, mi, pct, verdict))
    try:
        with open("/proc/loadavg") as f:
            notes_l.append("load average when the run ended: %s (other work on the machine "
                           "skews the workload figures most)" % " ".join(f.read().split()[:3]))
    except OSError:
        pass
    if notes_l:
        md.append("")
        for n in notes_l:
            md.append("- %s" % n)
    text = "\n".join(md) + "\n"
    print()
    print(text)
    if readme:
        with open(readme) as f:
            s = f.read()
        a, b = "<!-- bench:start -->", "<!-- bench:end -->"
        if a in s and b in s and s.index(a) < s.index(b):
            s = s[:s.index(a) + len(a)] + "\n" + text + s[s.index(b):]
            with open(readme + ".tmp", "w") as f:
                f.write(s)
            os.replace(readme + ".tmp", readme)
            print("bench: figures written to %s" % readme)
        else:
            print("bench: %s has no bench markers; not written" % readme, file=sys.stderr)
    return 0  # the figures are the result: a missed target does not fail make


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "gen-c":
        gen_c(*args)
    elif cmd == "gen-repo":
        gen_repo(*args)
    elif cmd == "report":
        return report(args)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
