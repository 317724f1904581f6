#!/usr/bin/env bash
# require.sh COMMAND:PACKAGE ... — make sure each command the tests need is on PATH.
# On Debian or Ubuntu a missing one is installed from its Debian package with apt-get
# (as root, or through sudo); elsewhere the script stops with one line naming it.
set -euo pipefail

# Debian installs daemons such as nginx in /usr/sbin, which a non-root user's PATH lacks.
PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

missing_cmds=()
missing_pkgs=()
for spec in "$@"; do
	cmd=${spec%%:*}
	pkg=${spec#*:}
	if ! command -v "$cmd" >/dev/null 2>&1; then
		missing_cmds+=("$cmd")
		missing_pkgs+=("$pkg")
	fi
done
[ ${#missing_cmds[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
	echo "rolegate: the tests need ${missing_cmds[*]}; install ${missing_pkgs[*]} and run make test again" >&2
	exit 1
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
	if ! command -v sudo >/dev/null 2>&1; then
		echo "rolegate: the tests need ${missing_cmds[*]}; run: apt-get install -y ${missing_pkgs[*]} (as root)" >&2
		exit 1
	fi
	sudo="sudo"
fi

echo "rolegate: installing ${missing_pkgs[*]} for the tests" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
$sudo apt-get install -y -qq --no-install-recommends "${missing_pkgs[@]}" >/dev/null
for cmd in "${missing_cmds[@]}"; do
	if ! command -v "$cmd" >/dev/null 2>&1; then
		echo "rolegate: installed ${missing_pkgs[*]} but $cmd is still not on PATH" >&2
		exit 1
	fi
done
