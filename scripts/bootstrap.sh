#!/bin/sh
# bootstrap.sh [--list] [build|test|all]: install the Debian packages mmaplock
# needs (--list: print them instead).
#   build  what building and running the tool and the library need (make, make demo)
#   test   build's packages plus what the tests and benchmarks use (make check, make bench):
#          sanitizer runtimes, trace-cmd, perf, bpftrace, tmux, jq, Prometheus, Chromium,
#          openssl (test certificates)
#   all    the same as test (the default; .ci/run)
# Idempotent and quiet when everything is already there; works as root or
# through sudo.
set -eu

BUILD_PKGS="build-essential cmake pkg-config
      libtracefs-dev libtraceevent-dev libtracecmd-dev libzstd-dev
      clang libbpf-dev bpftool
      systemtap-sdt-dev libmicrohttpd-dev libncurses-dev
      libyaml-dev libgnutls28-dev libcrypt-dev"
TEST_PKGS="libclang-rt-14-dev trace-cmd linux-perf bpftrace tmux
      python3 python3-yaml jq time prometheus chromium openssl"

list=0
if [ "${1:-}" = "--list" ]; then
	list=1
	shift
fi
case "${1:-all}" in
build)		PKGS=$BUILD_PKGS ;;
test|all)	PKGS="$BUILD_PKGS $TEST_PKGS" ;;
*)		echo "usage: bootstrap.sh [--list] [build|test|all]" >&2; exit 2 ;;
esac
if [ $list -eq 1 ]; then
	echo $PKGS
	exit 0
fi

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
