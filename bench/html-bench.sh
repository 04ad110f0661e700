#!/bin/sh
# bench/html-bench.sh BUILD [FILE...]: the HTML page's cost (issue 14).
#
# For each FILE (default: synthetic traces of 1 M and 10 M events written by
# BUILD/bench/gen-trace), prints: `mmaplock report --html` wall time and peak
# RSS (/usr/bin/time), the page's size, and, when chromium is installed, the
# time its script took to draw (the page's own #render-ms) and the wall time
# of a headless chromium loading it and dumping the DOM (start-up included).
# A recording from `mmaplock record -o x.mml -- mmaplock stress -d 5` can be
# given as FILE.
set -eu
build=${1:-build}
[ $# -gt 0 ] && shift
M="$build/mmaplock"
[ -x "$M" ] || { echo "html-bench: $M: not built" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "html-bench: /usr/bin/time missing" >&2; exit 1; }
tmp=$(mktemp -d /tmp/mml-hbench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM
if [ $# -eq 0 ]; then
	"$build/bench/gen-trace" "$tmp/1m.mml" 1000000 2 >&2
	"$build/bench/gen-trace" "$tmp/10m.mml" 10000000 2 >&2
	set -- "$tmp/1m.mml" "$tmp/10m.mml"
fi
C=$(command -v chromium || command -v chromium-browser || true)
for f in "$@"; do
	/usr/bin/time -f "%e %M" -o "$tmp/time" "$M" report --html "$tmp/p.html" "$f" >/dev/null
	read -r secs rss <"$tmp/time"
	size=$(wc -c <"$tmp/p.html")
	line="$(basename "$f"): report --html ${secs} s, ${rss} KB peak RSS; page ${size} bytes"
	if [ -n "$C" ]; then
		t0=$(date +%s%N)
		timeout 120 "$C" --headless --no-sandbox --disable-gpu --dump-dom \
			"file://$tmp/p.html" >"$tmp/dom" 2>/dev/null
		t1=$(date +%s%N)
		ms=$(sed -n 's/.*id="render-ms">\([0-9]*\)<.*/\1/p' "$tmp/dom")
		line="$line; script ${ms:-?} ms; chromium load+dump $(( (t1 - t0) / 1000000 )) ms"
	fi
	echo "$line"
done
