#!/bin/sh
# mml-prefix.sh: every prefix of a real version 2 mmaplock file reads up to
# its last complete block. Real recordings: libmmaplock's recorder under
# bench-lock (every byte offset), and `mmaplock record -- mmaplock stress`
# when tracefs is there (every block boundary, one byte either side, and
# 300 offsets in between). For each prefix `mmaplock report --json`: no
# crash; exit 2 below the 64-byte header, 0 for the whole file, 3 for
# every other prefix (truncated); and exactly the events of the PACKED
# blocks that lie wholly inside the prefix.
set -u
. "$(dirname "$0")/lib.sh"
B=${MMAPLOCK_BUILD:?}
need python3
scratch prefix

MMAPLOCK_TRACE="$tmp/lib.mml" "$B/bench/bench-lock" uncontended --iters 300 >/dev/null ||
	{ echo "mml-prefix.sh: bench-lock failed"; exit 1; }
files="lib:all"
if have root tracefs; then
	"$M" record -o "$tmp/kern.mml" -- "$M" stress -d 0.3 -t 1 >/dev/null 2>"$tmp/rec.err" ||
		bad "record -- stress: $(cat "$tmp/rec.err")"
	files="$files kern:some"
else
	echo "$ME: $why: the kernel recording part skipped"
fi

# prefixes FILE all|some: lines "LENGTH EVENTS": the prefix lengths to try
# and the events of the PACKED blocks wholly inside each
prefixes() {
	python3 - "$1" "$2" <<'PY'
import struct, sys
b = open(sys.argv[1], "rb").read()
assert b[:8] == b"MMLTRACE" and struct.unpack_from("<H", b, 8)[0] == 2, "not a version 2 file"
ends, off, packed = [], 64, 0
while off + 16 <= len(b):
    magic, typ, flags, ln, h = struct.unpack_from("<IHHII", b, off)
    assert typ != 1, "a version 1 EVENTS block"
    count = struct.unpack_from("<I", b, off + 16)[0] if typ == 8 else 0
    packed += typ == 8
    off += 16 + ln
    ends.append((off, count))
assert off == len(b) and packed > 0, (off, len(b), packed)
if sys.argv[2] == "all":
    lens = range(0, len(b) + 1)
else:
    lens = {0, 63, 64, 65, len(b)}
    for e, c in ends:
        lens |= {e - 1, e, e + 1}
    lens |= {len(b) * i // 300 for i in range(300)}
for n in sorted(x for x in lens if x <= len(b)):
    print(n, sum(c for e, c in ends if e <= n))
PY
}

for fm in $files; do
	n=${fm%%:*} mode=${fm#*:}
	f="$tmp/$n.mml"
	[ -s "$f" ] || continue
	size=$(wc -c <"$f")
	prefixes "$f" $mode >"$tmp/plan" || { bad "$n: not a version 2 file"; continue; }
	tried=0
	while read -r len want; do
		head -c "$len" "$f" >"$tmp/cut.mml"
		"$M" report --json "$tmp/cut.mml" >"$tmp/r.json" 2>"$tmp/e"; rc=$?
		tried=$((tried + 1))
		if [ "$len" -lt 64 ]; then
			[ $rc -eq 2 ] || bad "$n: cut at $len: exit $rc (want 2)"
			continue
		fi
		want_rc=3
		[ "$len" -eq "$size" ] && want_rc=0
		[ $rc -eq $want_rc ] || { bad "$n: cut at $len: exit $rc (want $want_rc): $(cat "$tmp/e")"; continue; }
		got=$(sed -n 's/^ *"events": *\([0-9]*\).*/\1/p' "$tmp/r.json" | head -n 1)
		[ "$got" = "$want" ] || bad "$n: cut at $len: $got events (want $want)"
	done <"$tmp/plan"
	echo "mml-prefix.sh: $n.mml: $size bytes, $tried prefixes"
done
[ $fail -eq 0 ] && echo "mml-prefix.sh: ok"
exit $fail
