#!/bin/sh
# Optional integrations that hand a host socket to the session: the socket
# is reachable only with the integration enabled, only when it really is a
# socket, and its variable is passed only then (IPC-03, IPC-04).
. "$(dirname "$0")/lib.sh"
S=$SAFEHOUSE
H=$T/home; W=$T/work; R=$T/run
mkdir -p "$H/.ssh" "$W" "$R"
echo SECRET-KEY > "$H/.ssh/id_ed25519"
export HOME=$H; unset XDG_CONFIG_HOME SAFEHOUSE_WORKDIR DOCKER_HOST
cd "$W" || exit 1
cp "$PROBE" ./probe
# Host-side listeners, bounded in time, killed on exit.
/usr/bin/python3 - "$R/agent.sock" "$R/docker.sock" <<'PYE' &
import os, socket, sys, time, select
socks = []
for p in sys.argv[1:]:
    s = socket.socket(socket.AF_UNIX); s.bind(p); s.listen(8); socks.append(s)
end = time.time() + 60
while time.time() < end:
    r, _, _ = select.select(socks, [], [], 0.5)
    for s in r:
        c, _ = s.accept(); c.close()
PYE
LPID=$!
trap 'kill $LPID 2>/dev/null; chmod -R u+rwX "$T" 2>/dev/null; rm -rf "$T"' EXIT INT TERM
for i in 1 2 3 4 5 6 7 8 9 10; do [ -S "$R/docker.sock" ] && break; sleep 0.2; done

export SSH_AUTH_SOCK="$R/agent.sock"
run "$S" -- ./probe connect-unix "$R/agent.sock"
check "without --enable=ssh the agent socket is not in the view (ENOENT)" '[ $RC -eq 1 ] && [ "$OUT" = ENOENT ]'
run "$S" -- ./probe env SSH_AUTH_SOCK
check "without --enable=ssh SSH_AUTH_SOCK is not passed" '[ "$OUT" = UNSET ]'
run "$S" --enable=ssh -- ./probe connect-unix "$R/agent.sock"
check "--enable=ssh: the agent socket named by SSH_AUTH_SOCK is reachable" '[ $RC -eq 0 ]'
run "$S" --enable=ssh -- ./probe env SSH_AUTH_SOCK
check "--enable=ssh: SSH_AUTH_SOCK is passed" 'has "$OUT" "$R/agent.sock"'
run "$S" --enable=ssh -- ./probe read "$H/.ssh/id_ed25519"
check "--enable=ssh: private keys stay unreadable" '[ $RC -eq 1 ] && hasnt "$OUT" SECRET-KEY'
SSH_AUTH_SOCK="$H/.ssh/id_ed25519" run "$S" --enable=ssh -- ./probe read "$H/.ssh/id_ed25519"
check "a variable pointing at a file that is not a socket grants nothing" '[ $RC -eq 1 ] && hasnt "$OUT" SECRET-KEY'
unset SSH_AUTH_SOCK

run env DOCKER_HOST="unix://$R/docker.sock" "$S" -- ./probe connect-unix "$R/docker.sock"
check "without --enable=docker the docker socket is not in the view" '[ $RC -eq 1 ] && [ "$OUT" = ENOENT ]'
run env DOCKER_HOST="unix://$R/docker.sock" "$S" --enable=docker -- ./probe connect-unix "$R/docker.sock"
check "--enable=docker: the socket named by DOCKER_HOST is reachable" '[ $RC -eq 0 ]'
run env DOCKER_HOST="unix://$R/docker.sock" "$S" --enable=docker --explain --stdout -- true
check "--explain shows the socket grant and where it came from" 'has "$ERR" "$R/docker.sock" && has "$ERR" "DOCKER_HOST"'
