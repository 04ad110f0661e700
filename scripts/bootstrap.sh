#!/bin/sh
# bootstrap.sh: install every Debian package that mmaplock's build, tests and
# benchmarks need. Idempotent and quiet when everything is already there;
# works as root or through sudo. Used by the Makefile and by .ci/run.
set -eu

PKGS="build-essential cmake pkg-config clang libclang-rt-14-dev
      libtracefs-dev libtraceevent-dev libtracecmd-dev libzstd-dev trace-cmd
      systemtap-sdt-dev linux-perf bpftrace tmux libmicrohttpd-dev
      libncurses-dev python3 jq time prometheus chromium"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
	SUDO=""
elif command -v sudo >/dev/null 2>&1; then
	SUDO="sudo"
else
	echo "bootstrap: need root or sudo to install:$missing" >&2
	exit 1
fi

echo "bootstrap: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
