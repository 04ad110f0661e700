#!/bin/sh
# bootstrap.sh: make demo installs only what building and running need (no
# Chromium, no Prometheus: they serve the tests), make check adds the rest, and
# make check keeps the build's chatter in a log.
set -eu
S=${MMAPLOCK_SRC:?}
fail() { echo "bootstrap: FAIL: $*"; exit 1; }

build=$(sh "$S/scripts/bootstrap.sh" --list build)
test=$(sh "$S/scripts/bootstrap.sh" --list test)
for p in chromium prometheus bpftrace linux-perf libclang-rt-14-dev; do
	case " $build " in *" $p "*) fail "the build set installs $p" ;; esac
	case " $test " in *" $p "*) ;; *) fail "the test set lacks $p" ;; esac
done
for p in $build; do
	case " $test " in *" $p "*) ;; *) fail "the test set lacks build package $p" ;; esac
done
sh "$S/scripts/bootstrap.sh" nonsense 2>/dev/null && fail "an unknown set was accepted"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
make -s -n -C "$S" demo BUILD="$tmp/b" >"$tmp/demo" 2>&1 || fail "make -n demo: $(cat "$tmp/demo")"
grep -q 'bootstrap.sh build' "$tmp/demo" || fail "make demo does not bootstrap the build set"
grep -q 'bootstrap.sh test' "$tmp/demo" && fail "make demo installs the test packages"
make -s -n -C "$S" check BUILD="$tmp/b" >"$tmp/check" 2>&1 || fail "make -n check: $(cat "$tmp/check")"
grep -q 'bootstrap.sh test' "$tmp/check" || fail "make check does not bootstrap the test set"
grep 'cmake --build' "$tmp/check" | grep -v 'check-build.log' && fail "make check builds without a log"
echo "bootstrap: ok"
