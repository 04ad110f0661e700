#!/bin/sh
# html.sh: `mmaplock report --html` on tests/fixtures/blame.txt: the page
# holds the summary rows, a wait and a hold histogram per memcg, the
# timeline of the busiest mm (mm 0xaaaa0000: its 5 waits and 4 holds, one
# row per task) and the blame matrix (? -> /victim, 125 us over 5 waits);
# it fetches nothing (no URL, no script). Headless Chromium (Debian's
# chromium, scripts/bootstrap.sh) loads it with no console message and
# takes a screenshot ($MMAPLOCK_BUILD/html-report.png); without chromium
# that part is skipped with a line. Bad use: exit 2, one line. An output
# that is the input or a trace is refused; a page that cannot be written
# whole leaves the previous file intact and no temporary.
set -u
M=${MMAPLOCK:?MMAPLOCK: path of the mmaplock binary}
F=${MMAPLOCK_SRC:?}/tests/fixtures
B=${MMAPLOCK_BUILD:-.}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
bad() { echo "html.sh: FAIL: $*"; fail=1; }

"$M" report --html "$T/r.html" "$F/blame.txt" >"$T/out" || bad "report --html: exit $?"
grep -qx "mmaplock report: wrote $T/r.html" "$T/out" || bad "stdout: $(cat "$T/out")"
H="$T/r.html"
grep -q '^<tr><td>/victim</td><td>2</td><td>2</td><td>1</td><td>[0-9]*</td><td>103.000</td>.*<td>128.000</td>' "$H" || bad "summary row /victim"
grep -q '^<tr><td>/other</td><td>1</td><td>0</td><td>0</td><td>[0-9]*</td><td>5.000</td>' "$H" || bad "summary row /other"
[ "$(grep -c '<figcaption>wait: ' "$H")" -eq 2 ] && [ "$(grep -c '<figcaption>hold: ' "$H")" -eq 2 ] || bad "histograms"
grep -q 'mm 0xaaaa0000: the first 9 waits and holds\. ' "$H" || bad "timeline header"
tl=$(sed -n '/<h2>Timeline/,/<h2>Blame/p' "$H")
[ "$(echo "$tl" | grep -o '<rect ' | wc -l)" -eq 9 ] || bad "timeline: not 9 bars"
[ "$(echo "$tl" | grep -o '<title>wait ' | wc -l)" -eq 4 ] || bad "timeline: not 4 waits"
[ "$(echo "$tl" | grep -o '<title>failed write 3000 ns' | wc -l)" -eq 1 ] || bad "timeline: the failed wait"
[ "$(echo "$tl" | grep -o '<title>hold write 50000 ns' | wc -l)" -eq 1 ] || bad "timeline: writer's hold"
for t in 'writer\[300\]' 'victim\[400\]' 'victim2\[401\]' 'victim3\[402\]' 'killed\[403\]'; do
	echo "$tl" | grep -q ">$t</text>" || bad "timeline row $t"
done
grep -q '^<tr><td>?</td><td>/victim</td><td>125.000</td><td>5</td></tr>$' "$H" || bad "blame matrix"
grep -q '^<tr><td>writer\[300\]</td><td>72.000</td><td>72.000</td><td>0.000</td><td>2</td></tr>$' "$H" || bad "blame holder"
grep -qiE 'https?:|<script|<link|src=' "$H" && bad "the page refers to something outside itself"

# bad use: one line, exit 2
for args in "--html $T/x.html --json $F/blame.txt" "--html /nonexistent/dir/x.html $F/blame.txt" "--html"; do
	# shellcheck disable=SC2086
	"$M" report $args >/dev/null 2>"$T/err"
	rc=$?
	[ $rc -ne 0 ] && [ "$(wc -l <"$T/err")" -eq 1 ] || bad "report $args: exit $rc, $(cat "$T/err")"
done

# an output is never an input nor a trace: with mmaplock.data in the directory,
# `report --html stress.mml` (the trace taken as --html's value) must not write
# over stress.mml; nor `report X --html X`. One line, exit 2, the files intact.
mkdir "$T/d"
{ printf MMLTRACE; cat "$F/mml-stacks.seed"; } >"$T/d/stress.mml"
cp "$T/d/stress.mml" "$T/d/mmaplock.data"
cp "$T/d/stress.mml" "$T/stress.copy"
cp "$F/blame.txt" "$T/d/blame.txt"
case $M in /*) Mabs=$M ;; *) Mabs=$PWD/$M ;; esac
(cd "$T/d" && "$Mabs" report --html stress.mml) >/dev/null 2>"$T/err"; rc=$?
[ $rc -eq 2 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q "stress.mml: is a trace file" "$T/err" ||
	bad "report --html TRACE: exit $rc, $(cat "$T/err")"
cmp -s "$T/d/stress.mml" "$T/stress.copy" || bad "report --html TRACE wrote over the trace"
"$M" report "$T/d/blame.txt" --html "$T/d/blame.txt" >/dev/null 2>"$T/err"; rc=$?
[ $rc -eq 2 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q "is the input" "$T/err" ||
	bad "report X --html X: exit $rc, $(cat "$T/err")"
cmp -s "$T/d/blame.txt" "$F/blame.txt" || bad "report X --html X wrote over its input"
ln -s blame.txt "$T/d/link.txt"
"$M" report "$T/d/link.txt" --html "$T/d/blame.txt" >/dev/null 2>&1 && bad "report LINK --html ITS_TARGET: exit 0"
cmp -s "$T/d/blame.txt" "$F/blame.txt" || bad "report LINK --html ITS_TARGET wrote over its input"

# a page that cannot be written whole leaves the previous one as it was and no
# temporary file: the file size limit makes the write fail half way
echo "previous page" >"$T/d/keep.html"
(ulimit -f 2; trap '' XFSZ; exec "$M" report --html "$T/d/keep.html" "$F/tracecmd-real.txt") \
	>/dev/null 2>"$T/err"; rc=$?
[ $rc -ne 0 ] && [ "$(wc -l <"$T/err")" -eq 1 ] || bad "report --html, write fails: exit $rc, $(cat "$T/err")"
[ "$(cat "$T/d/keep.html")" = "previous page" ] || bad "report --html, write fails: the previous page is lost"
[ "$(ls -A "$T/d" | tr '\n' ' ')" = "blame.txt keep.html link.txt mmaplock.data stress.mml " ] ||
	bad "report --html, write fails: left $(ls -A "$T/d")"

C=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$C" ]; then
	echo "html.sh: chromium missing (scripts/bootstrap.sh installs it): browser check skipped"
	exit $fail
fi
"$M" report --html "$T/big.html" "$F/tracecmd-real.txt" >/dev/null || bad "tracecmd-real --html"
for p in r big; do
	timeout 120 "$C" --headless --no-sandbox --disable-gpu --enable-logging=stderr --v=0 \
		--dump-dom "file://$T/$p.html" >"$T/$p.dom" 2>"$T/$p.log"
	grep CONSOLE "$T/$p.log" && bad "$p.html: console messages"
	grep -q 'Blame: who held the lock' "$T/$p.dom" || bad "$p.html: not rendered"
done
timeout 120 "$C" --headless --no-sandbox --disable-gpu --window-size=1300,1400 \
	--screenshot="$B/html-report.png" "file://$T/r.html" >/dev/null 2>&1
[ -s "$B/html-report.png" ] || bad "no screenshot"
[ $fail -eq 0 ] && echo "html.sh: ok (screenshot: $B/html-report.png)"
exit $fail
