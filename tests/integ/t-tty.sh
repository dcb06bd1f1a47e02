#!/bin/sh
# Terminals (issue "Terminals", threats.md TERM-01..04): safehouse is run on a
# pseudo-terminal we own (tests/helpers/ptydrive.py plays the user and the
# terminal emulator).  Raw mode, window size, Ctrl-C, Ctrl-Z and fg work
# inside; colours reach the terminal, clipboard writes and reports do not;
# TIOCSTI fails; the terminal is restored and nothing inside holds it after.
. "$(dirname "$0")/lib.sh"
S=$SAFEHOUSE
H=$T/home; W=$T/work; mkdir -p "$H" "$W"
export HOME=$H; unset XDG_CONFIG_HOME SAFEHOUSE_WORKDIR SAFEHOUSE_ADD_DIRS SAFEHOUSE_ADD_DIRS_RO \
	SAFEHOUSE_TRUST_WORKDIR_CONFIG SAFEHOUSE_ENV_PASS SAFEHOUSE_PROFILES_DIR
cd "$W" || exit 1
W=$(pwd -P)
cp "$PROBE" "$W/probe"
n=$$
if ! command -v python3 >/dev/null 2>&1; then
	skip "terminal tests" "no python3 to drive a pty"
	exit 0
fi
gone() { ! pgrep -f -- "$1" >/dev/null 2>&1; }

# drive [--size RxC] STEP... -- CMD...: $OUT has EXIT=/HOLDERS=/ICANON= lines,
# $PTY what the terminal received, control characters shown by cat -v (^[ is ESC)
drive() {
	run python3 "$SH_ROOT/tests/helpers/ptydrive.py" --out "$T/pty.out" "$@"
	PTY=$(cat -v "$T/pty.out")
	ERR="$ERR
# terminal: $(printf '%s' "$PTY" | tail -c 400)"
}
clean() { has "$OUT" "HOLDERS=0" && has "$OUT" "ICANON=1"; }

# --- raw mode, initial size, input
drive --size 30x100 'expect=ready' 'send=x' 'expect=got\[x\]' -- "$S" -- sh -c \
	'stty size; stty raw -echo; stty -a | grep -o -- "-icanon"; echo ready; c=$(dd bs=1 count=1 2>/dev/null); stty sane; echo "got[$c]"'
check "the window size is the terminal's (30 100)" 'has "$PTY" "30 100"'
check "raw mode inside: -icanon, one key arrives without Enter" 'has "$OUT" "EXIT=0" && has "$PTY" "-icanon" && has "$PTY" "got[x]"'
check "the terminal is restored (ICANON) and nobody holds it after" 'clean'

# --- window resize: SIGWINCH inside with the new size
drive 'expect=ready' 'resize=40x132' 'expect=size=40 132' -- "$S" -- sh -c \
	'trap "echo size=\$(stty size); exit 7" WINCH; echo ready; while :; do sleep 0.05; done'
check "window resize reaches the inner program (SIGWINCH, stty size 40 132)" 'has "$OUT" "EXIT=7" && has "$PTY" "size=40 132"'

# --- Ctrl-C
drive 'expect=ready' 'sleep=0.2' 'send=\x03' -- "$S" -- sh -c 'echo ready; exec sleep 30'
check "Ctrl-C interrupts the inner foreground program (130)" 'has "$OUT" "EXIT=130" && clean'
drive 'expect=ready' 'sleep=0.2' 'send=\x03' 'expect=got-INT' -- "$S" -- sh -c \
	'trap "echo got-INT; exit 42" INT; echo ready; while :; do sleep 0.05; done'
check "Ctrl-C reaches a trap inside" 'has "$OUT" "EXIT=42"'

# --- job control in an inner interactive shell: Ctrl-Z, jobs, fg
if [ -x /bin/bash ] || [ -x /usr/bin/bash ]; then
	drive --timeout 8 'expect=PROMPT' 'send=sleep 100\r' 'sleep=0.4' 'send=\x1a' 'expect=Stopped' \
		'expect=PROMPT' 'send=jobs\r' 'expect=\[1\]\+ +Stopped +sleep 100' 'send=fg\r' \
		'expect=sleep 100' 'sleep=0.3' 'send=\x03' 'expect=PROMPT' 'send=echo fg-ok-$((6*7))\r' \
		'expect=fg-ok-42' 'send=exit\r' -- "$S" -- PS1='PROMPT> ' bash --norc --noprofile -i
	check "Ctrl-Z stops a job in an inner bash -i, jobs lists it, fg resumes it, Ctrl-C ends it" \
		'has "$OUT" "EXIT=0" && has "$PTY" "fg-ok-42" && clean'
else
	skip "job control" "no bash"
fi

# --- what reaches the terminal emulator (TERM-03)
drive -- "$S" -- sh -c 'printf "\033[31mRED\033[0m|\033]0;my-title\007|A\033]52;c;ZWNobyBwd25lZA==\007B|C\033[21tD|E\033P\$qm\033\\\\F|G\033]50;#+1\007H|\033[?1049h\033[?2004h|\302\233X|caf\303\251\n"'
check "colours, titles, alt screen and bracketed paste reach the terminal" \
	'has "$PTY" "^[[31mRED^[[0m|" && has "$PTY" "^[]0;my-title^G|" && has "$PTY" "^[[?1049h^[[?2004h|"'
check "OSC 52 (clipboard) does not reach the terminal" 'has "$PTY" "|AB|" && hasnt "$PTY" "52;"'
check "CSI 21 t (title report), DCS (DECRQSS), OSC 50 (font) do not" \
	'has "$PTY" "|CD|" && has "$PTY" "|EF|" && has "$PTY" "|GH|" && hasnt "$PTY" "21t" && hasnt "$PTY" "50;"'
check "C1 controls (UTF-8 encoded CSI) are dropped, other UTF-8 passes" \
	'has "$PTY" "|X|" && has "$PTY" "caf"'
# the same across arbitrary write boundaries: one byte per write
drive -- "$S" -- sh -c 'for c in a "\033" "]" 5 2 ";" c ";" Q Q "\007" b "\033" "[" 3 2 m c; do printf "$c"; sleep 0.01; done; echo'
check "a sequence split over many writes is still filtered" 'has "$PTY" "ab^[[32mc" && hasnt "$PTY" "QQ"'

# --- input injection (TERM-01)
drive -- "$S" -- sh -c './probe syscall tiocsti 0; ./probe syscall tiocsti-high 0; tty; exit 0'
check "TIOCSTI on the terminal inside fails with EPERM (also with high bits set)" \
	'[ "$(printf "%s" "$PTY" | grep -c EPERM)" -eq 2 ] && has "$PTY" "/dev/pts/"'

# --- nothing keeps the terminal after the session (TERM-04)
drive 'expect=started' -- "$S" -- sh -c \
	"(setsid sh -c 'exec sleep 8$n.1' <&0 &); (sleep 8$n.2 </dev/tty >/dev/tty &); cat </dev/tty >/dev/null & echo started; exit 3"
check "background readers inside are gone when the session ends, nobody holds the terminal" \
	'has "$OUT" "EXIT=3" && clean && gone "sleep 8$n\\.[12]"'
# the terminal hangs up while the command runs: everything inside ends
drive 'expect=ready' 'hup' -- "$S" -- sh -c "echo ready; sleep 9$n.1 & exec sleep 9$n.2"
check "hang-up of the terminal ends the session (SIGHUP) and everything inside" \
	'has "$OUT" "EXIT=129" && gone "sleep 9$n\\.[12]"'
for p in $(pgrep -f "sleep [89]$n\." 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done

# --- a launcher started in the background of a shell is not stopped (SIGTTOU)
drive -- sh -c "timeout 5 '$S' -- echo from-background; echo rc=\$?"
check "timeout safehouse ... from an interactive shell: runs, output shown, not stopped" \
	'has "$PTY" "from-background" && has "$PTY" "rc=0"'

# --- modes a program set in the terminal and did not reset (killed, or on
# purpose: the alternate screen, a hidden cursor) are put back at the end
drive -- "$S" -- sh -c "printf '\033[?1049h\033[?25lhidden'; kill -9 \$\$"
check "a terminal left in the alternate screen with a hidden cursor is put back after the session" \
	'has "$PTY" "hidden" && after=${PTY##*hidden} && has "$after" "^[[?1049l" && has "$after" "^[[?25h"'
