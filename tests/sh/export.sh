#!/bin/sh
# export.sh: `mmaplock export` on tests/fixtures/blame.txt (the overlaps of
# blame.sh): Chrome trace JSON parsed by python3's json with every slice,
# counter and track name checked; folded stacks and CSV compared line by
# line; a real capture exported to all three; bad input: one line, exit 2,
# no partial output left, an existing OUT intact after any failure (bad
# input, a failed write, SIGTERM); an output that is the input or a trace
# is refused.
set -u
. "$(dirname "$0")/lib.sh"
F=${MMAPLOCK_SRC:?}/tests/fixtures
need python3
scratch export

"$M" export "$F/blame.txt" --format chrome -o "$tmp/c.json" || bad "chrome: exit $?"
python3 - "$tmp/c.json" <<'PY' || bad "chrome JSON"
import json, sys
d = json.load(open(sys.argv[1]))
ev = d["traceEvents"]
X = [e for e in ev if e["ph"] == "X"]
C = [e for e in ev if e["ph"] == "C"]
Mt = {e["tid"]: e["args"]["name"] for e in ev if e["ph"] == "M" and e["name"] == "thread_name"}
# 6 waits (one failed), 5 holds, all with ns durations in us
assert len(X) == 11, len(X)
got = sorted((e["tid"], e["name"], round(e["ts"] * 1000), round(e["dur"] * 1000)) for e in X)
want = sorted([
  (300, "wait write 0xaaaa0000", 1000010000, 1000), (300, "hold write 0xaaaa0000", 1000011000, 50000),
  (400, "wait read 0xaaaa0000", 1000020000, 41000), (401, "wait read 0xaaaa0000", 1000030000, 31000),
  (401, "hold read 0xaaaa0000", 1000061000, 29000), (400, "hold read 0xaaaa0000", 1000061000, 39000),
  (402, "wait write 0xaaaa0000", 1000070000, 30000), (403, "failed write 0xaaaa0000", 1000105000, 3000),
  (402, "hold write 0xaaaa0000", 1000100000, 10000), (500, "wait read 0xbbbb0000", 1000200000, 5000),
  (500, "hold read 0xbbbb0000", 1000205000, 1000)])
assert got == want, (got, want)
assert all(e["args"]["memcg"] in ("/victim", "/other") and e["pid"] == e["tid"] for e in X)
# the waiters counter of mm a: 1, 0, 1, 2, 1, 0, 1, 0, 1, 0 (writer, victim, victim2, victim3, killed)
a = [e["args"]["waiters"] for e in C if e["name"] == "waiters 0xaaaa0000"]
assert a == [1, 0, 1, 2, 1, 0, 1, 0, 1, 0], a
assert max(a) == 2
assert Mt == {300: "writer[300]", 400: "victim[400]", 401: "victim2[401]", 402: "victim3[402]",
              403: "killed[403]", 500: "alone[500]"}, Mt
assert all(e["pid"] == 0 for e in C)
PY

"$M" export "$F/blame.txt" --format folded --weight wait -o "$tmp/f.txt" || bad "folded: exit $?"
cat >"$tmp/f.want" <<'EOT'
alone;/other;read;wait 5000
killed;/victim;write;wait 3000
victim2;/victim;read;wait 31000
victim3;/victim;write;wait 30000
victim;/victim;read;wait 41000
writer;/victim;write;wait 1000
EOT
cmp -s "$tmp/f.want" "$tmp/f.txt" || { bad "folded --weight wait"; diff "$tmp/f.want" "$tmp/f.txt"; }
"$M" export "$F/blame.txt" --format folded >"$tmp/f2.txt" || bad "folded to stdout: exit $?"
[ "$(wc -l <"$tmp/f2.txt")" -eq 11 ] && grep -qx 'writer;/victim;write;hold 50000' "$tmp/f2.txt" ||
	bad "folded both: $(cat "$tmp/f2.txt")"

"$M" export "$F/blame.txt" --format csv -o "$tmp/i.csv" || bad "csv: exit $?"
[ "$(wc -l <"$tmp/i.csv")" -eq 12 ] || bad "csv rows: $(wc -l <"$tmp/i.csv")"
head -1 "$tmp/i.csv" | grep -qx 'kind,tid,comm,mm,memcg,mode,start_ns,end_ns,dur_ns,contended,trylock,downgraded,non_owner' || bad "csv header"
grep -qx 'failed,403,killed,0xaaaa0000,/victim,write,1000105000,1000108000,3000,0,0,0,0' "$tmp/i.csv" || bad "csv failed row"
grep -qx 'wait,402,victim3,0xaaaa0000,/victim,write,1000070000,1000100000,30000,0,0,0,0' "$tmp/i.csv" || bad "csv wait row"

# a real capture (trace-cmd report text with contention events): all three
for fmt in chrome folded csv; do
	"$M" export "$F/tracecmd-real.txt" --format $fmt -o "$tmp/real.$fmt" || bad "real $fmt: exit $?"
done
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert len(d['traceEvents']) > 100" "$tmp/real.chrome" || bad "real chrome JSON"
python3 - "$tmp/real.csv" "$tmp/real.folded" <<'PY' || bad "real csv / folded disagree"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert rows and all(int(r["end_ns"]) - int(r["start_ns"]) == int(r["dur_ns"]) >= 0 for r in rows)
tot = sum(int(r["dur_ns"]) for r in rows)
fold = sum(int(l.rsplit(" ", 1)[1]) for l in open(sys.argv[2]))
assert tot == fold, (tot, fold)
PY

# bad input and arguments: one line, exit 2, no output file left
printf 'not a trace\n\001\002\003\n' >"$tmp/junk"
for args in "$tmp/junk --format chrome -o $tmp/o1" "$tmp/missing --format csv -o $tmp/o2" \
	    "$F/blame.txt --format svg -o $tmp/o3" "$F/blame.txt -o $tmp/o4" \
	    "$F/blame.txt --format folded --weight x -o $tmp/o5" "$F/blame.txt --format csv -o /nonexistent/dir/x"; do
	# shellcheck disable=SC2086
	"$M" export $args >/dev/null 2>"$tmp/err"
	rc=$?
	[ $rc -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] || bad "export $args: exit $rc, $(cat "$tmp/err")"
done
for o in o1 o2 o3 o4 o5; do [ -e "$tmp/$o" ] && bad "$o left behind"; done

# an existing OUT survives every failed export as it was, with no temporary file
# beside it: bad input, a write that fails half way (file size limit), SIGTERM
# while the input is still coming (a FIFO)
mkdir "$tmp/k"
echo "previous output" >"$tmp/k/OUT"
intact() {	# what
	[ "$(cat "$tmp/k/OUT")" = "previous output" ] || bad "$1: OUT was lost or changed"
	[ "$(ls -A "$tmp/k")" = OUT ] || bad "$1: left $(ls -A "$tmp/k" | tr '\n' ' ')"
}
"$M" export "$tmp/junk" --format csv -o "$tmp/k/OUT" >/dev/null 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] || bad "bad input over OUT: exit $rc"
intact "bad input"
(ulimit -f 2; trap '' XFSZ; exec "$M" export "$F/tracecmd-real.txt" --format chrome -o "$tmp/k/OUT") \
	>/dev/null 2>"$tmp/err"; rc=$?
[ $rc -ne 0 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] || bad "write fails: exit $rc, $(cat "$tmp/err")"
intact "write fails"
mkfifo "$tmp/fifo"
"$M" export - --format csv -o "$tmp/k/OUT" <"$tmp/fifo" >/dev/null 2>&1 &
pid=$!
exec 3>"$tmp/fifo"
cat "$F/blame.txt" >&3
sleep 0.5
kill -TERM $pid
wait $pid; rc=$?
exec 3>&-
[ $rc -eq 143 ] || bad "SIGTERM: exit $rc (want 143: killed by it)"
intact "SIGTERM"

# an output that is the input, or a trace, is refused: one line, exit 2, untouched
cp "$F/blame.txt" "$tmp/k/in.txt"
"$M" export "$tmp/k/in.txt" --format csv -o "$tmp/k/in.txt" >/dev/null 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "is the input" "$tmp/err" ||
	bad "export X -o X: exit $rc, $(cat "$tmp/err")"
cmp -s "$tmp/k/in.txt" "$F/blame.txt" || bad "export X -o X wrote over its input"
{ printf MMLTRACE; cat "$F/mml-stacks.seed"; } >"$tmp/k/t.mml"
cp "$tmp/k/t.mml" "$tmp/t.copy"
"$M" export "$F/blame.txt" --format csv -o "$tmp/k/t.mml" >/dev/null 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "is a trace file" "$tmp/err" ||
	bad "export -o TRACE: exit $rc, $(cat "$tmp/err")"
cmp -s "$tmp/k/t.mml" "$tmp/t.copy" || bad "export -o TRACE wrote over the trace"
[ $fail -eq 0 ] && echo "export.sh: ok"
exit $fail
