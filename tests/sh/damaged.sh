#!/bin/sh
# damaged.sh: one rule for damaged mmaplock files in every command that
# reads one. Real recordings (libmmaplock's recorder under bench-lock, and
# `mmaplock record -- mmaplock stress` when tracefs is there) are cut at
# three points and have one block in the middle broken (payload bytes
# flipped; then its block magic). report, check and export must each read
# the rest: exit 3, one line on stderr naming the damage, damaged_blocks > 0
# in the JSON, and figures that are those of the undamaged part (more than
# none, less than the whole).
set -u
. "$(dirname "$0")/lib.sh"
B=${MMAPLOCK_BUILD:?}
need python3
scratch damaged

# the recordings
MMAPLOCK_TRACE="$tmp/lib.mml" "$B/bench/bench-lock" uncontended --iters 20000 >/dev/null ||
	{ echo "damaged.sh: bench-lock failed"; exit 1; }
files=lib
if have root tracefs; then
	"$M" record -o "$tmp/kern.mml" -- "$M" stress -d 1 >/dev/null 2>"$tmp/rec.err" ||
		bad "record -- stress: $(cat "$tmp/rec.err")"
	files="lib kern"
else
	echo "$ME: $why: the kernel recording part skipped"
fi

acq() {	# report JSON -> acquisitions, all groups
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(sum(g["acquisitions"]["read"] + g["acquisitions"]["write"] for g in d["groups"]))' "$1"
}

# What every command must do with damaged file $1 (whole: $2): exit 3, one line.
damaged() {	# file whole what
	df=$1 dwhole=$2 what=$3
	"$M" report --json "$df" >"$tmp/r.json" 2>"$tmp/e"; rc=$?
	[ $rc -eq 3 ] || bad "$what: report exit $rc (want 3)"
	[ "$(wc -l <"$tmp/e")" -eq 1 ] &&
		grep -q "^mmaplock report: $df: .*damaged block.* skipped; the output covers the rest$" "$tmp/e" ||
		bad "$what: report stderr: $(cat "$tmp/e")"
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
assert d["damaged_blocks"] > 0 and d["damaged_bytes"] > 0, d' "$tmp/r.json" ||
		bad "$what: report JSON damage counts"
	a=$(acq "$tmp/r.json")
	[ "${a:-0}" -gt 0 ] && [ "$a" -lt "$dwhole" ] || bad "$what: report: $a acquisitions of $dwhole"
	"$M" report "$df" >"$tmp/r.txt" 2>/dev/null; rc=$?
	[ $rc -eq 3 ] && grep -q "^# warning: input .*damaged block.*: the figures cover the rest" "$tmp/r.txt" ||
		bad "$what: report table: exit $rc, no damage line"

	"$M" check --json "$df" >"$tmp/c.json" 2>"$tmp/e"; rc=$?
	[ $rc -eq 3 ] || bad "$what: check exit $rc (want 3)"
	# (a recording that lost events adds check's warning about them)
	[ "$(grep -vc "events were lost" "$tmp/e")" -eq 1 ] && grep -q "^mmaplock check: $df: .*damaged block" "$tmp/e" ||
		bad "$what: check stderr: $(cat "$tmp/e")"
	python3 -c 'import json, sys
c = json.load(open(sys.argv[1])); r = json.load(open(sys.argv[2]))
assert c["damaged_blocks"] == r["damaged_blocks"] and c["damaged_bytes"] == r["damaged_bytes"], (c, r)
assert c["events"] == r["events"] > 0, (c["events"], r["events"])' "$tmp/c.json" "$tmp/r.json" ||
		bad "$what: check JSON"

	"$M" export "$df" --format csv -o "$tmp/x.csv" >/dev/null 2>"$tmp/e"; rc=$?
	[ $rc -eq 3 ] || bad "$what: export exit $rc (want 3)"
	[ "$(wc -l <"$tmp/e")" -eq 1 ] && grep -q "^mmaplock export: $df: .*damaged block" "$tmp/e" ||
		bad "$what: export stderr: $(cat "$tmp/e")"
	rows=$(($(wc -l <"$tmp/x.csv") - 1))
	[ "$rows" -gt 0 ] || bad "$what: export wrote no intervals"
}

for n in $files; do
	f="$tmp/$n.mml"
	[ -s "$f" ] || continue
	"$M" report --json "$f" >"$tmp/whole.json" || bad "$n: whole file: exit $?"
	whole=$(acq "$tmp/whole.json")
	echo "damaged.sh: $n.mml: $(wc -c <"$f") bytes, $whole acquisitions"
	size=$(wc -c <"$f")
	# cut at three points (never on a block boundary: those are multiples of 8)
	for q in 1 2 3; do
		head -c $((size * q / 4 + 5)) "$f" >"$tmp/cut.mml"
		damaged "$tmp/cut.mml" "$whole" "$n cut at $q/4"
		python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["truncated"]' "$tmp/r.json" ||
			bad "$n cut at $q/4: not truncated"
	done
	# one block in the middle broken: its payload, then its magic (resync by scanning)
	for how in payload magic; do
		python3 - "$f" "$tmp/mid.mml" $how <<'PY'
import struct, sys
b = bytearray(open(sys.argv[1], "rb").read())
off, blocks = struct.unpack_from("<I", b, 12)[0], []
while off + 16 <= len(b):
    magic, typ, flags, ln, h = struct.unpack_from("<IHHII", b, off)
    blocks.append((off, typ, ln))
    off += 16 + ln
ev = [x for x in blocks if x[1] in (1, 8)]	# EVENTS (version 1), PACKED (2)
off, typ, ln = ev[len(ev) // 2]
if sys.argv[3] == "payload":
    for i in range(64, 80):
        b[off + 16 + i] ^= 0xff
else:
    b[off] ^= 0xff
open(sys.argv[2], "wb").write(b)
PY
		damaged "$tmp/mid.mml" "$whole" "$n: a block in the middle ($how)"
		python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["damaged_blocks"] == 1 and not d["truncated"], d' "$tmp/r.json" || bad "$n, $how: not exactly one damaged block"
	done
done
[ $fail -eq 0 ] && echo "damaged.sh: ok"
exit $fail
