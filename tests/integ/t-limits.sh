#!/bin/sh
# --max-procs / --max-memory: a fork bomb or a memory hog inside is contained
# and the session ends cleanly.  As root the limits are a cgroup (v2 when
# delegated, else v1); as an ordinary user without a delegated cgroup they
# are rlimits (RLIMIT_NPROC counts the user's processes, RLIMIT_AS).
. "$(dirname "$0")/lib.sh"
S=$SAFEHOUSE
H=$T/home; W=$T/work
mkdir -p "$H" "$W"
export HOME=$H; unset XDG_CONFIG_HOME SAFEHOUSE_WORKDIR
cd "$W" || exit 1
PY=/usr/bin/python3  # the system one: a pyenv shim in the caller's home is not visible inside
[ -x "$PY" ] || { not_ok "/usr/bin/python3 is required for the limit tests"; exit 0; }

# A bounded fork bomb: every child sleeps, so nothing exits while it runs.
cat > bomb.py <<'PYE'
import os, sys, time
n = 0
try:
    for i in range(2000):
        pid = os.fork()
        if pid == 0:
            time.sleep(5)
            os._exit(0)
        n += 1
except OSError as e:
    print("forks", n, "errno", e.errno)
    sys.exit(0)
print("forks", n, "no error")
PYE
start=$(date +%s)
run "$S" --explain --max-procs=256 -- "$PY" bomb.py
end=$(date +%s)
check "a fork bomb under --max-procs=256 is stopped (EAGAIN)" '[ $RC -eq 0 ] && has "$OUT" "errno 11"'
n=$(printf '%s' "$OUT" | sed -n 's/^forks \([0-9]*\).*/\1/p')
check "no more than 256 processes were created (got ${n:-?})" '[ -n "$n" ] && [ "$n" -le 256 ]'
check "the session ended cleanly and promptly" '[ $((end - start)) -lt 30 ]'
check "--explain names the mechanism" 'has "$ERR" "limits: cgroup" || has "$ERR" "limits: rlimits"'
check "nothing from the bomb is left running" '! pgrep -f "$W/bomb.py" >/dev/null'
check "no cgroup is left behind" '! ls -d /sys/fs/cgroup/*/safehouse-* /sys/fs/cgroup/safehouse-* /sys/fs/cgroup/*/*/safehouse-* 2>/dev/null | grep -q .'

run "$S" --max-memory=64M -- "$PY" -c 'b = bytearray(400 * 1024 * 1024); print("allocated")'
check "a 400 MiB allocation under --max-memory=64M fails" '[ $RC -ne 0 ] && hasnt "$OUT" "allocated"'
run "$S" --max-memory=64M -- "$PY" -c 'b = bytearray(8 * 1024 * 1024); print("allocated")'
check "a small allocation under --max-memory=64M works" '[ $RC -eq 0 ] && has "$OUT" "allocated"'
run "$S" --max-procs=0 -- true
check "--max-procs=0 is refused" '[ $RC -eq 1 ]'
run "$S" --max-memory=lots -- true
check "--max-memory with a bad size is refused" '[ $RC -eq 1 ] && has "$ERR" "invalid size"'
