#!/bin/sh
# check.sh: `mmaplock check` on one hand-made fixture per finding
# (tests/fixtures/check-*.txt, ftrace text): the finding, its task, mm and
# timestamps in JSON, exit 1; the fixture of legal odd sequences (downgrade,
# non-owner release, failed trylock, consistent nesting) and a release at the
# start of a trace: exit 0; bad arguments and bad input: exit 2, one line.
set -u
. "$(dirname "$0")/lib.sh"
F=${MMAPLOCK_SRC:?}/tests/fixtures
need python3
scratch check

# one NAME EXPECTED-PYTHON-DICT [OPTIONS]: exactly one finding, with these fields
one() {
	name=$1 want=$2
	shift 2
	"$M" check --json "$@" "$F/check-$name.txt" >"$tmp/$name.json"
	rc=$?
	[ $rc -eq 1 ] || bad "$name: exit $rc, not 1"
	python3 - "$tmp/$name.json" "$want" <<'PY' || bad "$name: $(cat "$tmp/$name.json")"
import json, sys
d = json.load(open(sys.argv[1]))
want = eval(sys.argv[2])
assert d["findings_total"] == 1 and len(d["findings"]) == 1, d
f = d["findings"][0]
assert d["counts"][f["kind"]] == 1
for k, v in want.items():
    assert f[k] == v, (k, f[k], v)
PY
}
A='"0xaaaa0000"'
one release-without-acquire "{'kind': 'release_without_acquire', 'tid': 100, 'comm': 'killed', 'mm': $A, 'ts_ns': 1000020000, 'write': False}"
one double-release "{'kind': 'double_release', 'tid': 100, 'mm': $A, 'ts_ns': 1000040000, 'first_release_ns': 1000030000, 'write': True}"
one self-deadlock "{'kind': 'self_deadlock', 'tid': 100, 'mm': $A, 'ts_ns': 1000050000, 'held_since_ns': 1000011000, 'write': False}"
one write-after-read "{'kind': 'write_after_read', 'tid': 100, 'mm': $A, 'ts_ns': 1000060000, 'held_since_ns': 1000011000, 'write': True}"
one irq-context "{'kind': 'irq_context', 'tid': 100, 'mm': $A, 'ts_ns': 1000070000, 'context': 'hardirq'}"
one long-hold "{'kind': 'long_hold', 'tid': 100, 'mm': $A, 'ts_ns': 1016001000, 'held_since_ns': 1001001000, 'hold_ns': 15000000, 'write': True}" --max-hold 10
one order-inversion "{'kind': 'order_inversion', 'tid': 200, 'comm': 'two', 'mm': '0xbbbb0000', 'mm2': $A, 'ts_ns': 1000023000, 'write': False, 'tid2': 100, 'comm2': 'one', 'ts2_ns': 1000013000}"

# without --max-hold, holds are not checked; 4.9 ms catches both holds
"$M" check "$F/check-long-hold.txt" >/dev/null || bad "long-hold without --max-hold: exit $?"
"$M" check --max-hold 4.9 "$F/check-long-hold.txt" >"$tmp/lh"
[ $? -eq 1 ] && grep -q "long_hold 2$" "$tmp/lh" || bad "--max-hold 4.9: $(cat "$tmp/lh")"
# the text form names the task, its memcg, the mm it holds and the one it takes, and both times
"$M" check "$F/check-order-inversion.txt" >"$tmp/oi"
grep -q '^order_inversion: two\[200\] (/m) mm 0xbbbb0000 at 1.000023000 s: takes mm 0xaaaa0000 (read) while holding mm 0xbbbb0000; one\[100\] took mm 0xbbbb0000 while holding mm 0xaaaa0000 at 1.000013000 s$' "$tmp/oi" ||
	bad "order inversion text: $(cat "$tmp/oi")"

# check-clean also holds fork's nesting (a write lock inside a write hold,
# dup_mmap()) with the two mms later the other way round: legal in a kernel trace
for f in check-clean blame text-ftrace-id ftrace-real tracecmd-real; do
	"$M" check "$F/$f.txt" >"$tmp/out" 2>&1 || bad "$f: exit $?, $(cat "$tmp/out")"
done

# bad input: one line, exit 2
printf 'garbage\n\001\002\n' >"$tmp/junk"
for args in "$tmp/junk" "$tmp/missing" "--max-hold x $F/check-clean.txt" "--max-hold -1 $F/check-clean.txt" \
	    "--bogus $F/check-clean.txt" "$F/check-clean.txt $F/check-clean.txt"; do
	# shellcheck disable=SC2086
	"$M" check $args >/dev/null 2>"$tmp/err"
	rc=$?
	[ $rc -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] || bad "check $args: exit $rc, $(cat "$tmp/err")"
done
# an output that cannot be written (disk full): said in one line, exit 2
if [ -c /dev/full ]; then
	for args in "" "--json"; do
		# shellcheck disable=SC2086
		"$M" check $args "$F/check-double-release.txt" >/dev/full 2>"$tmp/err"
		rc=$?
		[ $rc -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "stdout: write error" "$tmp/err" ||
			bad "check $args >/dev/full: exit $rc, $(cat "$tmp/err")"
	done
fi
exit $fail
