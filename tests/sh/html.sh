#!/bin/sh
# html.sh: `mmaplock report --html` on tests/fixtures/blame.txt: the page
# holds the summary rows, a wait and a hold histogram per memcg (log-scale
# counts, p50/p99/p99.9/max marked) and the blame matrix (? -> /victim,
# 125 us over 5 waits); it fetches nothing (no URL, no src=, a
# Content-Security-Policy that forbids every request). On
# tests/fixtures/html-worst.txt (5 s; one 500 ms wait of victim[700] at
# t = 4 s while hog[600] held the lock for write), the page's data (the
# JSON in #mml-data) has the wait in the heatmap cell of 4 s and 500 ms,
# first among the longest waits, with a window that contains it and names
# hog[600] as the holder. Headless Chromium (Debian's chromium,
# scripts/bootstrap.sh) loads the pages with no console message (a request
# the policy blocks is one) and runs the script: the heatmap, the time
# series, the windows and the histograms are in the DOM, the first window
# contains the longest wait's start and shows the holder; screenshots are
# saved ($MMAPLOCK_BUILD/html-report.png, html-test.png). Group levels:
# the page offers memcg and process (html-worst.txt: its five processes),
# container/pod when memcg paths are containers' (html-worst.txt with
# kubepods and docker paths and a pods directory: shop/cart-1/<12 hex>,
# docker:<12 hex>), each level at most 20 groups with their own charts plus
# "other" (a made-up trace of 30 memcgs: 20 of 30 and an "other"), and every
# group of the list has its time chart when chosen. The window of the
# longest wait zooms: the wheel and a drag narrow its visible range inside
# the window, its button gives the whole window back. Without chromium
# that part is skipped (exit 77 when all else passed). Bad use: exit 2,
# one line. An output that is the input or a trace is refused; a page that
# cannot be written whole leaves the previous file intact and no temporary.
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
# --html -: the page on stdout (as export -o -), no file named '-'
(cd "$T" && "$M" report --html - "$F/blame.txt" >"$T/stdout.html") || bad "report --html -: exit $?"
cmp -s "$T/stdout.html" "$H" || bad "--html -: stdout is not the page: $(head -c 200 "$T/stdout.html")"
[ -e "$T/-" ] && bad "--html -: wrote a file named '-'"
grep -q '^<tr><td>/victim</td><td>2</td><td>2</td><td>1</td><td>[0-9]*</td><td>103.000</td>.*<td>128.000</td>' "$H" || bad "summary row /victim"
grep -q '^<tr><td>/other</td><td>1</td><td>0</td><td>0</td><td>[0-9]*</td><td>5.000</td>' "$H" || bad "summary row /other"
[ "$(grep -c '<figcaption>wait: ' "$H")" -eq 2 ] && [ "$(grep -c '<figcaption>hold: ' "$H")" -eq 2 ] || bad "histograms"
grep -q 'stroke-dasharray="3,2"><title>wait p99: ' "$H" || bad "histogram: no p99 mark"
grep -q '<div class="hgroup" data-g="1" id="hist-1"><h3>/other</h3>' "$H" || bad "histogram of /other"
grep -q '^<tr><td>?</td><td>/victim</td><td>125.000</td><td>5</td></tr>$' "$H" || bad "blame matrix"
grep -q '^<tr><td>writer\[300\]</td><td>72.000</td><td>72.000</td><td>0.000</td><td>2</td></tr>$' "$H" || bad "blame holder"
grep -qiE 'https?:|<link|src=|url\(' "$H" && bad "the page refers to something outside itself"
grep -q "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; " "$H" ||
	bad "no Content-Security-Policy"

# the page's data on html-worst.txt: the 500 ms wait at t = 4 s
W="$T/w.html"
"$M" report --html "$W" "$F/html-worst.txt" >/dev/null || bad "html-worst --html: exit $?"
"$M" report --html "$T/w3.html" --html-worst 3 "$F/html-worst.txt" >/dev/null || bad "--html-worst 3"
python3 - "$W" "$T/w3.html" <<'EOF' || bad "html-worst: the page's data"
import json, sys
def data(path):
    page = open(path).read()
    start = page.index('<script type="application/json" id="mml-data">') + 46
    return json.loads(page[start:page.index("</script>", start)])
d = data(sys.argv[1])
ok = True
def check(c, what):
    global ok
    if not c:
        print("html.sh: FAIL: data: " + what)
        ok = False
w = d["worst"][0]
check(len(d["worst"]) == 10, "10 worst waits by default")
check(w["task"] == "victim[700]" and w["start"] == 4000000000 and w["dur"] == 500000000, "worst[0] is the 500 ms wait at 4 s")
check(w["holder"] and w["holder"]["task"] == "hog[600]" and w["holder"]["write"] == 1, "its holder is hog[600] (write)")
check(w["w0"] <= w["start"] < w["w1"], "its window contains its start")
check(any(v[0] == 600 and v[2] == 1 for v in w["iv"]), "its window has hog's hold")
check(d["duration"] == 5000000000, "5 s")
# the heatmap cell of 4 s and 500 ms: one wait in it
col = (4000000000 - d["t0"]) // d["width"]
row = max(i for i, lo in enumerate(d["rows"]) if lo <= 500000000)
cells = d["all"]["wait"]
hit = [cells[i + 2] for i in range(0, len(cells), 3) if cells[i] == col and cells[i + 1] == row]
check(hit == [1], "heatmap: the wait in column %d (4 s) row %d (500 ms): %s" % (col, row, hit))
check(d["t0"] + col * d["width"] <= 4000000000 < d["t0"] + (col + 1) * d["width"], "column of 4 s")
slow = [i for i, g in enumerate(d["groups"]) if g["name"] == "/slow"]
check(slow and w["group"] == slow[0], "the wait's group is /slow")
lv = {l["by"]: l for l in d["levels"]}
check(sorted(lv) == ["memcg", "process"] and d["levels"][d["level"]]["by"] == "memcg", "levels memcg and process, the report's memcg")
mslow = [i for i, g in enumerate(lv["memcg"]["g"]) if g["name"] == "/slow"]
check(mslow and w["lg"][d["levels"].index(lv["memcg"])] == mslow[0] and lv["memcg"]["g"][mslow[0]]["grid"], "the wait's memcg /slow has its grid")
procs = sorted(g["name"] for g in lv["process"]["g"])
check(procs == ["hog[600]", "reader[701]", "victim[700]", "worker2[802]", "worker[801]"], "process level: %s" % procs)
check(all(g["grid"] for l in d["levels"] for g in l["g"]), "every group of every level has a grid")
check(len(data(sys.argv[2])["worst"]) == 3, "--html-worst 3")
sys.exit(0 if ok else 1)
EOF

# bad use: one line, exit 2
for args in "--html $T/x.html --json $F/blame.txt" "--html /nonexistent/dir/x.html $F/blame.txt" "--html" \
	"--html-worst 3 $F/blame.txt" "--html $T/x.html --html-worst 0 $F/blame.txt" \
	"--html $T/x.html --html-worst 101 $F/blame.txt"; do
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
	[ $fail -eq 0 ] && exit 77
	exit $fail
fi
"$M" report --html "$T/big.html" "$F/tracecmd-real.txt" >/dev/null || bad "tracecmd-real --html"
# container-shaped memcg paths: a kubepods container (named from a pods
# directory) and a docker one, for /busy and /slow of html-worst.txt
UID1=6f1c2b9e-0c1d-4f5a-9b2e-3a4b5c6d7e8f
ID1=4f9d0c8e7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d
ID2=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
mkdir -p "$T/pods/shop_cart-1_$UID1"
sed -e "s|memcg_path=/busy|memcg_path=/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod$(echo $UID1 | tr - _).slice/cri-containerd-$ID1.scope|" \
	-e "s|memcg_path=/slow|memcg_path=/docker/$ID2|" "$F/html-worst.txt" >"$T/ctr.txt"
"$M" report --html "$T/ctr.html" --pods-dir "$T/pods" "$T/ctr.txt" >/dev/null || bad "container paths --html"
# 30 memcgs, one task each: more groups than a level keeps
i=1
while [ $i -le 30 ]; do
	printf '  w-%d [000] ...1 %d.000000: mmap_lock_start_locking: mm=%016x memcg_path=/g%d write=true\n' $((1000 + i)) $((100 + i)) $i $i
	printf '  w-%d [000] ...1 %d.0000%02d: mmap_lock_acquire_returned: mm=%016x memcg_path=/g%d write=true success=true\n' $((1000 + i)) $((100 + i)) $i $i $i
	printf '  w-%d [000] ...1 %d.000100: mmap_lock_released: mm=%016x memcg_path=/g%d write=true\n' $((1000 + i)) $((100 + i)) $i $i
	i=$((i + 1))
done >"$T/many.txt"
"$M" report --html "$T/many.html" "$T/many.txt" >/dev/null || bad "30 memcgs --html"
grep -q '(here: memcg 20 of 30, process 20 of 30)' "$T/many.html" || bad "many.html: the bound not said in the page"
"$M" report --html "$T/st.html" "$F/stacks-trigger.txt" >/dev/null || bad "stacks-trigger --html"
for p in r big w st; do
	timeout 120 "$C" --headless --no-sandbox --disable-gpu --enable-logging=stderr --v=0 \
		--dump-dom "file://$T/$p.html" >"$T/$p.dom" 2>"$T/$p.log"
	grep CONSOLE "$T/$p.log" && bad "$p.html: console messages"
	grep -q 'Blame: who held the lock' "$T/$p.dom" || bad "$p.html: not rendered"
	grep -q '<body data-rendered="1">' "$T/$p.dom" || bad "$p.html: the script did not finish"
	for id in heatmap timeseries-svg worst-list hist-0; do
		grep -q "id=\"$id\"" "$T/$p.dom" || bad "$p.html: no #$id"
	done
	# the window of the longest wait contains its start
	s=$(sed -n 's/.*<div class="worst" id="worst-1" data-start="\([0-9]*\)".*/\1/p' "$T/$p.dom")
	w0=$(sed -n 's/.*<svg class="window" id="window-1" data-w0="\(-*[0-9]*\)".*/\1/p' "$T/$p.dom")
	w1=$(sed -n 's/.*<svg class="window" id="window-1" data-w0="-*[0-9]*" data-w1="\([0-9]*\)".*/\1/p' "$T/$p.dom")
	[ -n "$s" ] && [ -n "$w0" ] && [ -n "$w1" ] && [ "$w0" -le "$s" ] && [ "$s" -lt "$w1" ] ||
		bad "$p.html: window-1 [$w0, $w1) does not hold the longest wait's start $s"
done
grep -q 'id="flame-svg"' "$T/st.dom" || bad "st.html: no flame graph"
grep -q '<h3>#1 victim\[700\] waited <b>500.00 ms</b> for read at 4.000000 s</h3>' "$T/w.dom" ||
	bad "w.html: the first of the longest waits"
grep -q 'Holder: <span class="holder">hog\[600\]</span> (write' "$T/w.dom" || bad "w.html: the holder"
sed -n '/id="window-1"/,/<\/svg>/p' "$T/w.dom" | grep -q 'class="holder-name" font-weight="bold">hog\[600\] (holder)</text>' ||
	bad "w.html: window-1 does not name the holder"
# interaction: a click on the second group's button filters the longest
# waits to /busy; "show on the heatmap" zooms the time axis
sed 's|</body>|<script>document.querySelector("#groups button[data-g=\\"1\\"]").click();document.querySelector("#worst-list .zoomto").click();</script></body>|' \
	"$T/w.html" >"$T/click.html"
timeout 120 "$C" --headless --no-sandbox --disable-gpu --enable-logging=stderr --v=0 \
	--dump-dom "file://$T/click.html" >"$T/click.dom" 2>"$T/click.log"
grep CONSOLE "$T/click.log" && bad "click.html: console messages"
grep -q '<button data-g="1" class="on">/busy</button>' "$T/click.dom" || bad "click: /busy not chosen"
grep -q 'id="worst-[0-9]*".*victim\[700\] waited' "$T/click.dom" && bad "click: /slow's waits still listed"
grep -q 'id="worst-4" data-start="4750010000"' "$T/click.dom" || bad "click: /busy's longest wait not listed"
grep -q '<span id="heatmap-title">Wait latency over time, /busy: .*(zoomed: ' "$T/click.dom" || bad "click: no zoom"
# levels in the browser: choose a level by its name, then click every
# group's button: the names listed and those without a time chart go to
# the body's data-groups and data-nochart
lvscript='(function(){var s=document.getElementById("level"),o,i,b,names=[],none=[];
for(i=0;s&&i<s.options.length;i++)if(s.options[i].text.indexOf(LEVEL+" (")===0)s.value=s.options[i].value;
if(s)s.dispatchEvent(new Event("change",{bubbles:true}));
b=document.querySelectorAll("#groups button");
for(i=0;i<b.length;i++){b[i].click();names.push(b[i].textContent);
if(!document.getElementById("timeseries-svg")||b[i].className!=="on")none.push(b[i].textContent);}
if(s)document.body.dataset.level=s.options[s.selectedIndex].text;
document.body.dataset.groups=names.join("|");document.body.dataset.nochart=none.join("|");})();'
level_dom() { # PAGE LEVEL OUT: the page after choosing LEVEL and clicking every group
	{ sed '/<\/body>/,$d' "$1"; printf '<script>var LEVEL="%s";%s</script></body></html>\n' "$2" "$lvscript"; } >"$T/lv.html"
	timeout 120 "$C" --headless --no-sandbox --disable-gpu --enable-logging=stderr --v=0 \
		--dump-dom "file://$T/lv.html" >"$3" 2>"$T/lv.log"
	grep CONSOLE "$T/lv.log" && bad "$(basename "$1") at level $2: console messages"
	grep -q "data-level=\"$2 (" "$3" || bad "$(basename "$1"): no level $2"
	grep -q 'data-nochart=""' "$3" || bad "$(basename "$1") at level $2: groups without a time chart: $(grep -o 'data-nochart="[^"]*"' "$3")"
}
level_dom "$T/w.html" process "$T/lvp.dom"
grep -q 'data-groups="all|victim\[700\]|.*hog\[600\]' "$T/lvp.dom" || bad "w.html, process level: $(grep -o 'data-groups="[^"]*"' "$T/lvp.dom")"
level_dom "$T/ctr.html" container "$T/lvc.dom"
grep -q "data-groups=\"all|docker:0123456789ab|shop/cart-1/4f9d0c8e7a6b\"" "$T/lvc.dom" ||
	bad "ctr.html, container level: $(grep -o 'data-groups="[^"]*"' "$T/lvc.dom")"
level_dom "$T/many.html" memcg "$T/lvm.dom"
grep -q 'data-groups="all|/g30|/g29|.*|/g11|(10 other groups)"' "$T/lvm.dom" || bad "many.html, memcg level: $(grep -o 'data-groups="[^"]*"' "$T/lvm.dom")"
level_dom "$T/many.html" process "$T/lvm2.dom"
# the longest wait's window zooms: the wheel at its middle, then a drag
# across a third of it, then its "whole window" button; each visible range
# (data-v0, data-v1) into the body's data-zoom
zscript='(function(){var r=[],w,b;function s(){w=document.getElementById("window-1");b=w.getBoundingClientRect();r.push(w.dataset.v0,w.dataset.v1);}
s();w.dispatchEvent(new WheelEvent("wheel",{deltaY:-100,clientX:b.left+600,clientY:b.top+5,bubbles:true,cancelable:true}));
s();w.dispatchEvent(new MouseEvent("mousedown",{clientX:b.left+300,clientY:b.top+5,bubbles:true,cancelable:true}));
window.dispatchEvent(new MouseEvent("mouseup",{clientX:b.left+600,clientY:b.top+5,bubbles:true}));
s();document.querySelector("#worst-1 .wreset").click();s();document.body.dataset.zoom=r.join(",");})();'
{ sed '/<\/body>/,$d' "$T/w.html"; printf '<script>%s</script></body></html>\n' "$zscript"; } >"$T/zoom.html"
timeout 120 "$C" --headless --no-sandbox --disable-gpu --enable-logging=stderr --v=0 \
	--dump-dom "file://$T/zoom.html" >"$T/zoom.dom" 2>"$T/zoom.log"
grep CONSOLE "$T/zoom.log" && bad "zoom.html: console messages"
z=$(sed -n 's/.*data-zoom="\([^"]*\)".*/\1/p' "$T/zoom.dom")
w0=$(sed -n 's/.*<svg class="window" id="window-1" data-w0="\(-*[0-9]*\)".*/\1/p' "$T/zoom.dom")
w1=$(sed -n 's/.*<svg class="window" id="window-1" data-w0="-*[0-9]*" data-w1="\([0-9]*\)".*/\1/p' "$T/zoom.dom")
echo "$z,$w0,$w1" | awk -F, '{ for (i = 1; i <= 10; i++) if ($i !~ /^-?[0-9.e+]+$/) exit 1 }
	$1 != $9 || $2 != $10 { exit 1 }				# first the whole window
	!($9 <= $3 && $3 < $4 && $4 <= $10 && $4 - $3 < $2 - $1) { exit 1 }	# the wheel zooms in
	!($3 <= $5 && $5 < $6 && $6 <= $4 && $6 - $5 < $4 - $3) { exit 1 }	# the drag zooms further
	$7 != $9 || $8 != $10 { exit 1 }				# the button: whole again
	' || bad "window zoom: visible ranges $z in [$w0, $w1]"
timeout 120 "$C" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1300,1400 \
	--screenshot="$B/html-report.png" "file://$T/r.html" >/dev/null 2>&1
timeout 120 "$C" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1300,1600 \
	--screenshot="$B/html-test.png" "file://$T/w.html" >/dev/null 2>&1
[ -s "$B/html-report.png" ] && [ -s "$B/html-test.png" ] || bad "no screenshot"
[ $fail -eq 0 ] && echo "html.sh: ok (screenshots: $B/html-report.png, $B/html-test.png)"
exit $fail
