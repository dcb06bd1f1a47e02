# fish completion for safehouse.  Installed to share/fish/vendor_completions.d.
#
# Options are completed only before the command (the first non-option word or
# the word after a standalone --); from there on the command's own completion
# takes over, as for sudo or env.

# The --enable values: the file names in profiles/55-integrations-optional,
# then the built-in features.  The list is static (the binary has no way to
# print it); tests/integ/t-docs.sh fails when it drifts from the profiles.
set -l __safehouse_features chromium clipboard cloud-credentials docker gpu keychain kubectl playwright podman process-control shell-init ssh wayland x11 all-agents wide-read network

# Options whose value may be the next word.  --env is not one: alone it means
# "the whole environment".
set -g __safehouse_value_opts --add-dirs --add-dirs-ro --workdir --enable --append-profile --env-pass --output --target --profiles-dir --sandbox --network --allow-domains --deny-domains --network-log --publish --audit --max-procs --max-memory

# Where the cursor is: "options" (no command yet), "why" (the why command's
# own arguments), "doctor", or "command" (the sandboxed command's words).
function __safehouse_state
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l state options
    set -l skip 0
    for t in $tokens
        if test $skip = 1
            set skip 0
        else if test "$t" = --
            echo command
            return
        else if contains -- $t $__safehouse_value_opts
            set skip 1
        else if string match -q -- '-*' $t
            # an option, or --opt=value
        else if test $state = options
            switch $t
                case why doctor
                    set state $t
                case '*'
                    echo command
                    return
            end
        end
    end
    echo $state
end

function __safehouse_in_options
    contains -- (__safehouse_state) options why
end

function __safehouse_at_first_word
    test (__safehouse_state) = options
end

function __safehouse_in_why
    test (__safehouse_state) = why
end

function __safehouse_in_command
    test (__safehouse_state) = command
end

# Complete the sandboxed command: the words after the last --, or after
# safehouse's options; NAME=VALUE words before it set its environment.
function __safehouse_complete_command
    set -l tokens (commandline -opc)
    set -l rest
    set -l n (contains -i -- -- $tokens)
    if test -n "$n"
        set rest $tokens[(math $n + 1)..-1]
    else
        set -e tokens[1]
        set -l skip 0
        set -l i 0
        for t in $tokens
            set i (math $i + 1)
            if test $skip = 1
                set skip 0
            else if contains -- $t $__safehouse_value_opts
                set skip 1
            else if not string match -q -- '-*' $t
                set rest $tokens[$i..-1]
                break
            end
        end
    end
    while set -q rest[1]; and string match -qr '^[A-Za-z_][A-Za-z0-9_]*=' -- $rest[1]
        set -e rest[1]
    end
    if not set -q rest[1]
        __fish_complete_command
    else
        complete -C (string join ' ' -- (string escape -- $rest) (commandline -ct))
    end
end

complete -c safehouse -f

complete -c safehouse -n __safehouse_at_first_word -a why -d 'Show the decision for a path and the deciding rule'
complete -c safehouse -n __safehouse_at_first_word -a doctor -d 'Check kernel features and the mode that will be used'
complete -c safehouse -n __safehouse_at_first_word -a '(__fish_complete_command)'
complete -c safehouse -n __safehouse_in_command -a '(__safehouse_complete_command)'

complete -c safehouse -n __safehouse_in_why -l write -d 'Ask whether the path may be written'
complete -c safehouse -n __safehouse_in_why -l exec -d 'Ask whether the path may be executed'
complete -c safehouse -n __safehouse_in_why -F

set -l o __safehouse_in_options
complete -c safehouse -n $o -s h -l help -d 'Print a summary of the options and exit'
complete -c safehouse -n $o -s V -l version -d 'Print the version and exit'
complete -c safehouse -n $o -l add-dirs -r -F -d 'Grant read/write access (colon-separated)'
complete -c safehouse -n $o -l add-dirs-ro -r -F -d 'Grant read-only access (colon-separated)'
complete -c safehouse -n $o -l workdir -x -a '(__fish_complete_directories)' -d 'Main read/write directory (empty: none)'
complete -c safehouse -n $o -l enable -x -a "(__fish_append , $__safehouse_features)" -d 'Enable optional integrations'
complete -c safehouse -n $o -l append-profile -r -F -d 'Append a profile after the generated policy'
complete -c safehouse -n $o -l trust-workdir-config -d 'Load <workdir>/.safehouse this time'
complete -c safehouse -n $o -l always-trust-workdir-config -d 'Remember (or =false forget) trust in this workdir'
complete -c safehouse -n $o -l allow-workdir-config-writes -d 'Leave <workdir>/.safehouse writable'
complete -c safehouse -n $o -l allow-profile-writes -d 'Leave appended profiles writable'
complete -c safehouse -n $o -l allow-agent-config-writes -d 'Let the agent rewrite its hooks and settings'
complete -c safehouse -n $o -l env -d 'Pass the host environment; --env=FILE adds a dotenv file'
complete -c safehouse -n $o -l env-pass -x -a '(__fish_append , (set -n -x))' -d 'Copy the named host variables'
complete -c safehouse -n $o -l output -r -F -d 'Write the policy to a file'
complete -c safehouse -n $o -l stdout -d 'Print the policy and exit'
complete -c safehouse -n $o -l explain -d 'Print every decision to stderr'
complete -c safehouse -n $o -l target -x -a 'linux macos' -d 'Render the policy for this system'
complete -c safehouse -n $o -l profiles-dir -x -a '(__fish_complete_directories)' -d 'Read profiles from this directory'
complete -c safehouse -n $o -l print-plan -d 'Print the Linux enforcement plan and exit'
complete -c safehouse -n $o -l sandbox -x -a 'read-only workspace-write danger-full-access' -d 'Sandbox policy'
complete -c safehouse -n $o -l network -x -a 'none filtered full' -d 'Network mode'
complete -c safehouse -n $o -l allow-domains -x -d 'Filtered mode: also allow these destinations'
complete -c safehouse -n $o -l deny-domains -x -d 'Filtered mode: refuse these destinations'
complete -c safehouse -n $o -l allow-private-network -d 'Filtered mode: allow private and loopback addresses'
complete -c safehouse -n $o -l network-log -r -F -d 'Filtered mode: log every proxy decision'
complete -c safehouse -n $o -l publish -x -a 'auto 1455' -d 'Make a loopback listener inside reachable on the host'
complete -c safehouse -n $o -l audit -x -a 'off warn strict' -d 'Post-session audit'
complete -c safehouse -n $o -l max-procs -x -d 'Process limit'
complete -c safehouse -n $o -l max-memory -x -d 'Memory limit (e.g. 2G)'
