# bash completion for nfvctl                                   -*- shell-script -*-
# Source it (or install it as /usr/share/bash-completion/completions/nfvctl).

_nfvctl_domains()
{
	local sock=$1 all=$2
	# nfvctl list --name prints one name per line; ask nfvd, quietly
	nfvctl ${sock:+-c "$sock"} list --name $all 2>/dev/null
}

_nfvctl()
{
	local cur prev words cword
	_init_completion 2>/dev/null || {
		cur=${COMP_WORDS[COMP_CWORD]}
		prev=${COMP_WORDS[COMP_CWORD-1]}
		words=("${COMP_WORDS[@]}")
		cword=$COMP_CWORD
	}
	local cmds="list define undefine start shutdown destroy reboot dominfo dumpxml edit
		console domiflist domifstat domblklist vcpuinfo vcpupin autostart switch help"
	local sock="" i cmd="" cmdpos=0

	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		-c|--connect) sock=${words[i+1]}; i=$((i + 1)) ;;
		-*) ;;
		*) cmd=${words[i]}; cmdpos=$i; break ;;
		esac
	done
	if [[ $prev == -c || $prev == --connect ]]; then
		COMPREPLY=($(compgen -f -- "$cur"))
		return
	fi
	if [[ -z $cmd ]]; then
		COMPREPLY=($(compgen -W "$cmds -c --connect --help" -- "$cur"))
		return
	fi
	local argn=$((cword - cmdpos))
	case $cmd in
	list)
		COMPREPLY=($(compgen -W "--all --name" -- "$cur")) ;;
	define)
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--drop-unsupported --file" -- "$cur"))
		else
			COMPREPLY=($(compgen -f -X '!*.xml' -- "$cur") $(compgen -d -- "$cur"))
		fi ;;
	start|undefine|autostart)
		if ((argn == 1)); then
			COMPREPLY=($(compgen -W "$(_nfvctl_domains "$sock" --all)" -- "$cur"))
		elif [[ $cmd == autostart ]]; then
			COMPREPLY=($(compgen -W "--disable" -- "$cur"))
		fi ;;
	shutdown|destroy|reboot|console|vcpuinfo|domifstat|vcpupin)
		if ((argn == 1)); then
			COMPREPLY=($(compgen -W "$(_nfvctl_domains "$sock")" -- "$cur"))
		elif ((argn == 2)) && [[ $cmd == domifstat ]]; then
			local ifs
			ifs=$(nfvctl ${sock:+-c "$sock"} domiflist "${words[cmdpos+1]}" 2>/dev/null |
				awk 'NR > 2 && NF { print $1 }')
			COMPREPLY=($(compgen -W "$ifs" -- "$cur"))
		fi ;;
	dominfo|dumpxml|edit|domiflist|domblklist)
		if ((argn == 1)); then
			COMPREPLY=($(compgen -W "$(_nfvctl_domains "$sock" --all)" -- "$cur"))
		elif [[ $cmd == dumpxml ]]; then
			COMPREPLY=($(compgen -W "--inactive" -- "$cur"))
		fi ;;
	switch)
		((argn == 1)) && COMPREPLY=($(compgen -W "port-list fdb stats" -- "$cur")) ;;
	esac
}
complete -F _nfvctl nfvctl
