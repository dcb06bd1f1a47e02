# Documentation and completions against the real binary:
#  - every long option --help prints is in safehouse.1 and in each shell
#    completion, and every option safehouse.1 documents is one --help prints;
#  - the --enable values the completions offer are the optional-integration
#    profiles plus the built-in features, and the binary accepts each;
#  - the manual page renders without warnings;
#  - the README's set-up section is exactly "make demo" and "make test".
. "$(dirname "$0")/lib.sh"

MAN=$SH_ROOT/safehouse.1
README=$SH_ROOT/README.md
BASHC=$SH_ROOT/completions/safehouse.bash
ZSHC=$SH_ROOT/completions/_safehouse
FISHC=$SH_ROOT/completions/safehouse.fish
BUILTIN_FEATURES="all-agents wide-read network"

# words LIST: one word per line, sorted, unique
words() { printf '%s\n' $1 | sed '/^$/d' | sort -u; }
# missing A B: the words of A that are not in B, space-separated
missing() {
	words "$1" >"$T/.a"
	words "$2" >"$T/.b"
	comm -23 "$T/.a" "$T/.b" | tr '\n' ' ' | sed 's/ $//'
}
# long OPT FILE: FILE mentions the long option OPT as a whole word.  roff
# writes "\-\-name"; fish writes "-l name".
long_in() {
	sed 's/\\-/-/g' "$2" | grep -q -E -e "$1([^a-z0-9-]|\$)" && return 0
	grep -q -E -e "-l ${1#--}([^a-z0-9-]|\$)" "$2"
}

# ---- (a) options: --help <-> safehouse.1 <-> completions ----

run "$SAFEHOUSE" --help
HELP_OPTS=$(printf '%s\n' "$OUT" | grep -o -E -e '--[a-z][a-z0-9-]*' | sort -u)
check "--help exits 0 and lists long options" '[ "$RC" = 0 ] && [ -n "$HELP_OPTS" ]'

if [ -n "$HELP_OPTS" ]; then
	for f in "$MAN" "$BASHC" "$ZSHC" "$FISHC"; do
		miss=""
		for o in $HELP_OPTS; do
			long_in "$o" "$f" || miss="$miss $o"
		done
		name=${f#"$SH_ROOT"/}
		if [ -z "$miss" ]; then ok "every option --help lists is in $name"
		else not_ok "every option --help lists is in $name"; echo "#   missing:$miss"; fi
	done

	# The tag lines of safehouse.1's OPTIONS section (the line after .TP).
	MAN_OPTS=$(awk '
		/^\.SH / { inopt = ($2 == "OPTIONS"); next }
		inopt && /^\.TP/ { tag = 1; next }
		inopt && tag && !/^\.\\"/ { print; tag = 0 }
	' "$MAN" | sed 's/\\-/-/g' | grep -o -E -e '--[a-z][a-z0-9-]*' | sort -u)
	miss=$(missing "$MAN_OPTS" "$HELP_OPTS")
	if [ -n "$MAN_OPTS" ] && [ -z "$miss" ]; then
		ok "every option in safehouse.1's OPTIONS is one --help lists"
	else
		not_ok "every option in safehouse.1's OPTIONS is one --help lists"
		echo "#   documented but not in --help: ${miss:-(no options found in OPTIONS)}"
	fi
else
	not_ok "options cross-check (no options from --help)"
fi

# ---- (b) --enable values ----

# The optional-integration profiles that apply to Linux: common ones and the
# Linux overrides, minus those whose $$target=...$$ excludes linux.
PROFILE_FEATURES=""
for p in "$SH_ROOT"/profiles/55-integrations-optional/*.sb \
	"$SH_ROOT"/profiles/linux/55-integrations-optional/*.sb; do
	[ -f "$p" ] || continue
	tgt=$(grep -o -E '\$\$target=[^$]*\$\$' "$p" | head -n 1 | sed 's/^\$\$target=//; s/\$\$$//')
	if [ -n "$tgt" ]; then
		case ",$tgt," in *,linux,*) ;; *) continue ;; esac
	fi
	n=${p##*/}
	PROFILE_FEATURES="$PROFILE_FEATURES ${n%.sb}"
done
EXPECTED=$(words "$PROFILE_FEATURES $BUILTIN_FEATURES" | tr '\n' ' ')

BASH_FEATURES=$(sed -n "s/^_safehouse_features='\(.*\)'\$/\1/p" "$BASHC")
ZSH_FEATURES=$(awk '/^ *f=\(/ { on = 1; next } on && /^ *\)/ { on = 0 } on' "$ZSHC" |
	sed "s/'//g; s/\[[^]]*\]//g")
FISH_FEATURES=$(sed -n 's/^set -l __safehouse_features //p' "$FISHC")

cmp_features() { # NAME LIST
	extra=$(missing "$2" "$EXPECTED")
	lack=$(missing "$EXPECTED" "$2")
	if [ -n "$2" ] && [ -z "$extra" ] && [ -z "$lack" ]; then
		ok "$1 --enable values match profiles/55-integrations-optional + $BUILTIN_FEATURES"
	else
		not_ok "$1 --enable values match profiles/55-integrations-optional + $BUILTIN_FEATURES"
		echo "#   completion only: ${extra:-none}; missing from completion: ${lack:-none}"
	fi
}
cmp_features "bash completion's" "$BASH_FEATURES"
cmp_features "zsh completion's" "$ZSH_FEATURES"
cmp_features "fish completion's" "$FISH_FEATURES"

# The binary accepts each value the completion offers...
bad=""
for f in $BASH_FEATURES; do
	"$SAFEHOUSE" --workdir="$T" --enable="$f" --stdout -- true >/dev/null 2>"$T/.err" ||
		bad="$bad $f($(head -c 200 "$T/.err"))"
done
if [ -n "$BASH_FEATURES" ] && [ -z "$bad" ]; then ok "safehouse accepts every --enable value the completions offer"
else not_ok "safehouse accepts every --enable value the completions offer"; echo "#   rejected:$bad"; fi

# ...and names no valid value the completion lacks.
run "$SAFEHOUSE" --workdir="$T" --enable=no-such-feature-for-t-docs --stdout -- true
VALID=$(printf '%s\n' "$ERR" | sed -n 's/.*valid[^a-z0-9]*//p' | grep -o -E '[a-z0-9][a-z0-9-]*' | sort -u)
check "an unknown --enable value fails with status 1 and lists the valid ones" \
	'[ "$RC" = 1 ] && [ -n "$VALID" ]'
lack=$(missing "$VALID" "$BASH_FEATURES")
check "every feature the binary lists is completed (missing: ${lack:-none})" '[ -n "$VALID" ] && [ -z "$lack" ]'

# ---- the completions work ----

bash -n "$BASHC" 2>"$T/.err"
check "completions/safehouse.bash parses" '[ ! -s "$T/.err" ]'
# Drive the bash completion as readline would, words already split at '='.
BC_OUT=$(bash -c '
	. "$1"
	t() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=()
		_safehouse 2>/dev/null; printf "%s|" "${COMPREPLY[@]}"; echo; }
	t safehouse --enable = do
	t safehouse --enab
	t safehouse --target linu
	t safehouse -- FOO = 1 safehouse-no-such-cmd
' _ "$BASHC" 2>&1)
check "bash completion completes --enable= values, options and --target values" \
	'[ "$(printf "%s\n" "$BC_OUT" | sed -n 1p)" = "docker|" ] &&
	 [ "$(printf "%s\n" "$BC_OUT" | sed -n 2p)" = "--enable=|" ] &&
	 [ "$(printf "%s\n" "$BC_OUT" | sed -n 3p)" = "linux|" ] &&
	 [ "$(printf "%s\n" "$BC_OUT" | sed -n 4p)" = "|" ]'
if command -v zsh >/dev/null 2>&1; then
	zsh -n "$ZSHC" 2>"$T/.err"
	check "completions/_safehouse parses" '[ ! -s "$T/.err" ]'
else
	echo "# zsh not installed: completions/_safehouse not parsed"
fi
if command -v fish >/dev/null 2>&1; then
	fish -n "$FISHC" 2>"$T/.err"
	check "completions/safehouse.fish parses" '[ ! -s "$T/.err" ]'
else
	echo "# fish not installed: completions/safehouse.fish not parsed"
fi

# ---- (c) the manual page ----

miss=""
for s in NAME SYNOPSIS DESCRIPTION COMMANDS OPTIONS ENVIRONMENT FILES PROFILES "EXIT STATUS" \
	EXAMPLES "SEE ALSO"; do
	grep -q -x -e ".SH $s" -e ".SH \"$s\"" "$MAN" || miss="$miss [$s]"
done
check "safehouse.1 has every section (missing:${miss:- none})" '[ -z "$miss" ]'

run "$SAFEHOUSE" --version
VER=${OUT#safehouse }
check "safehouse.1's header names the version --version prints ($OUT)" \
	'[ "$RC" = 0 ] && [ -n "$VER" ] && [ "$VER" != "$OUT" ] &&
	 grep -q -F -e "\"safehouse $VER\"" "$MAN"'

if command -v man >/dev/null 2>&1; then
	MANWIDTH=80 LC_ALL=C.UTF-8 man --warnings -l "$MAN" >"$T/.out" 2>"$T/.err"
	RC=$?; OUT=$(head -c 300 "$T/.out"); ERR=$(cat "$T/.err")
	check "man renders safehouse.1 without warnings" \
		'[ "$RC" = 0 ] && [ -z "$ERR" ] && grep -q "safehouse why" "$T/.out"'
else
	skip "man renders safehouse.1 without warnings" "man is not installed"
fi
if command -v groff >/dev/null 2>&1; then
	run groff -man -Tutf8 -ww -z "$MAN"
	check "groff -ww reports nothing for safehouse.1" '[ "$RC" = 0 ] && [ -z "$ERR" ]'
fi

# ---- (d) README: the set-up section is exactly two commands ----

SETUP=$(awk '
	/^## / { insec = ($0 ~ /^## Set up on a fresh Debian\/Ubuntu machine/); next }
	insec && /^```/ { fence = !fence; next }
	insec && fence && NF && $1 !~ /^#/ { print }
' "$README")
check "README's set-up section has a code block" '[ -n "$SETUP" ]'
check "README's set-up commands are exactly \"make demo\" and \"make test\" (got: $(printf '%s' "$SETUP" | tr '\n' ';'))" \
	'[ "$SETUP" = "make demo
make test" ]'
