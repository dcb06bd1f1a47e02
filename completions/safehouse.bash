# bash completion for safehouse                                -*- shell-script -*-
# Installed to share/bash-completion/completions/safehouse, or source it.
#
# Options are completed only before the command (the first non-option word or
# the word after a standalone --); from there on the command's own completion
# takes over, as for sudo or env.

# The --enable values: the file names in profiles/55-integrations-optional,
# then the built-in features.  The list is static (the binary has no way to
# print it); tests/integ/t-docs.sh fails when it drifts from the profiles.
_safehouse_features='chromium clipboard cloud-credentials docker gpu keychain kubectl playwright podman process-control shell-init ssh wayland x11 all-agents wide-read network'

# Options that take their value as the next word when written without '='.
# --env is not among them: alone it means "the whole environment".
_safehouse_value_opts=' --add-dirs --add-dirs-ro --workdir --enable --append-profile --env-pass --output --target --profiles-dir --sandbox --network --allow-domains --deny-domains --network-log --publish --audit --max-procs --max-memory '

_safehouse_options='--add-dirs= --add-dirs-ro= --workdir= --enable= --append-profile= --trust-workdir-config --trust-workdir-config= --always-trust-workdir-config --always-trust-workdir-config= --allow-workdir-config-writes --allow-profile-writes --allow-agent-config-writes --env --env= --env-pass= --output= --stdout --explain --target= --profiles-dir= --print-plan --sandbox= --network= --allow-domains= --deny-domains= --allow-private-network --network-log= --publish= --audit= --max-procs= --max-memory= --help --version'

# _safehouse_list SEP VALUE WORD...: complete the last SEP-separated item of
# VALUE from WORD..., keeping the items before it.
_safehouse_list() {
	local sep=$1 val=$2 head='' last w
	shift 2
	case $val in *"$sep"*) head=${val%"$sep"*}$sep ;; esac
	last=${val##*"$sep"}
	for w in "$@"; do
		# --enable names are case-insensitive; match the prefix the same way.
		[[ ${w,,} == "${last,,}"* ]] && printf '%s\n' "$head$w"
	done
}

# _safehouse_value OPT VALUE: print candidates for VALUE, the whole value.
# Runs in a subshell: the caller sets compopt.
_safehouse_value() {
	local opt=$1 val=$2 head='' last
	case $opt in
	--add-dirs | --add-dirs-ro)
		# colon-separated; each item a directory or a file
		case $val in *:*) head=${val%:*}: ;; esac
		last=${val##*:}
		compgen -f -- "$last" | while IFS= read -r last; do printf '%s\n' "$head$last"; done
		;;
	--workdir | --profiles-dir)
		compgen -d -- "$val"
		;;
	--append-profile | --env | --output)
		compgen -f -- "$val"
		;;
	--enable)
		# shellcheck disable=SC2086
		_safehouse_list , "$val" $_safehouse_features
		;;
	--env-pass)
		# shellcheck disable=SC2046
		_safehouse_list , "$val" $(compgen -e)
		;;
	--target) compgen -W 'linux macos' -- "$val" ;;
	--sandbox) compgen -W 'read-only workspace-write danger-full-access' -- "$val" ;;
	--network) compgen -W 'none filtered full' -- "$val" ;;
	--network-log) compgen -f -- "$val" ;;
	--publish) _safehouse_list , "$val" auto 1455 ;;
	--audit) compgen -W 'off warn strict' -- "$val" ;;
	--trust-workdir-config | --always-trust-workdir-config) compgen -W 'true false' -- "$val" ;;
	*) ;;
	esac
}

_safehouse() {
	local -a w=() at=()
	local i raw cur cword sub='' why_path='' cmd_at=-1 expect=0 opt='' val='' pfx='' c
	COMPREPLY=()

	# bash splits words at '=' and ':' (COMP_WORDBREAKS); join them back so
	# that "--add-dirs=/a:/b" is one word.  at[] maps back to COMP_WORDS.
	for ((i = 0; i <= COMP_CWORD; i++)); do
		raw=${COMP_WORDS[i]}
		if ((${#w[@]} > 0)) && [[ $raw == [=:] || ${COMP_WORDS[i - 1]} == [=:] ]]; then
			w[${#w[@]} - 1]+=$raw
		else
			w+=("$raw")
			at+=("$i")
		fi
	done
	cword=$((${#w[@]} - 1))
	cur=${w[cword]}
	# What readline will replace: the text after the last '=' or ':'.
	raw=${COMP_WORDS[COMP_CWORD]}
	[[ $raw == [=:] ]] && raw=

	for ((i = 1; i < cword; i++)); do
		c=${w[i]}
		if ((expect)); then expect=0; continue; fi
		if [[ $c == -- ]]; then cmd_at=$((i + 1)); break; fi
		if ((i == 1)) && [[ $c == why || $c == doctor ]]; then sub=$c; continue; fi
		if [[ $c == -* ]]; then
			[[ $_safehouse_value_opts == *" $c "* ]] && expect=1
			continue
		fi
		if [[ $sub == why && -z $why_path ]]; then why_path=$c; continue; fi
		cmd_at=$i
		break
	done

	if ((cmd_at >= 0)); then
		# NAME=VALUE words before the command are environment assignments.
		while ((cmd_at < cword)) && [[ ${w[cmd_at]} =~ ^[A-Za-z_][A-Za-z0-9_]*= ]]; do
			((cmd_at++))
		done
		if declare -F _command_offset >/dev/null; then
			_command_offset "${at[cmd_at]}"
		elif ((cmd_at == cword)); then
			mapfile -t COMPREPLY < <(compgen -c -- "$cur")
		else
			compopt -o filenames 2>/dev/null
			mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		fi
		return 0
	fi

	[[ $sub == doctor ]] && return 0

	if ((expect)); then
		opt=${w[cword - 1]} val=$cur
	elif [[ $cur == --*=* ]]; then
		opt=${cur%%=*} val=${cur#*=} pfx=$opt=
	elif [[ $cur == -* ]]; then
		c=$_safehouse_options
		[[ $sub == why ]] && c+=' --write --exec'
		mapfile -t COMPREPLY < <(compgen -W "$c" -- "$cur")
		if ((${#COMPREPLY[@]} == 1)) && [[ ${COMPREPLY[0]} == *= ]]; then
			compopt -o nospace 2>/dev/null
		fi
		return 0
	else
		if ((cword == 1)); then
			mapfile -t COMPREPLY < <(compgen -W 'why doctor' -- "$cur"; compgen -c -- "$cur")
		elif [[ $sub == why && -z $why_path ]]; then
			compopt -o filenames 2>/dev/null
			mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		elif declare -F _command_offset >/dev/null; then
			_command_offset "${at[cword]}"
		else
			mapfile -t COMPREPLY < <(compgen -c -- "$cur")
		fi
		return 0
	fi

	mapfile -t COMPREPLY < <(_safehouse_value "$opt" "$val")
	case $opt in
	--add-dirs | --add-dirs-ro | --workdir | --profiles-dir | --append-profile | --env | --output)
		compopt -o filenames 2>/dev/null ;;
	*) ;;
	esac
	# Hand readline only the part after its own word break.
	local drop=$((${#pfx} + ${#val} - ${#raw}))
	for i in "${!COMPREPLY[@]}"; do
		c=$pfx${COMPREPLY[i]}
		COMPREPLY[i]=${c:drop}
	done
	return 0
}
complete -F _safehouse safehouse
