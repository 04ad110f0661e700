#!/bin/sh
# golden.sh: every figure the tool prints, pinned. Every trace in
# tests/fixtures (text from tracefs, trace-cmd and perf; the trace.dat; the
# mml stack file mml-stacks.seed) plus a small deterministic mml file from
# bench/gen-trace goes through every output of report (table per --by,
# --sort, --top, --hist, --json, --csv, --stacks, --html), check (text,
# --json, --max-hold) and export (chrome, folded per --weight, csv). The
# outputs of one trace are concatenated, each after a "### ARGS" line and
# followed by its stderr and exit status, and compared byte for byte with
# tests/golden/TRACE.EXT.out. A change of the code that moves a figure fails
# here, with the diff.
#
#   GOLDEN_UPDATE=1 sh tests/sh/golden.sh    rewrite tests/golden/ from the
#                                            current build (then review the
#                                            git diff: it is the change)
#
# Normalised before comparing (sed, see norm below), because they vary by
# machine or run and not by figure:
#   - the fixture directory and the scratch directory (absolute paths, in
#     error lines and the HTML page) become FIXTURES/ and TMP/
#   - the tool's version string ("mmaplock X.Y.Z") becomes "mmaplock VERSION"
# report, check and export run with --no-resolve (not shown in the "###"
# lines): a memcg id in a text trace would otherwise be named from this
# machine's cgroups.
# HTML pages (long, all markup) and any output over 64 KB (the exports of
# the generated file) are kept as their sha256 after the same normalisation
# (and a line count), so that a change shows as a changed hash while the
# files stay small; the small fixtures keep every export line readable.
set -u
M=${MMAPLOCK:?MMAPLOCK: path of the mmaplock binary}
SRC=${MMAPLOCK_SRC:?}
F=$SRC/tests/fixtures
G=$SRC/tests/golden
GEN=${MMAPLOCK_BUILD:-}/bench/gen-trace
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
command -v sha256sum >/dev/null || { echo "golden.sh: sha256sum missing: skipped"; exit 77; }
[ -x "$M" ] || { echo "golden.sh: $M: not built"; exit 1; }
[ -x "$GEN" ] || { echo "golden.sh: $GEN missing (MMAPLOCK_BUILD): skipped"; exit 77; }
fail=0
bad() { echo "golden.sh: FAIL: $*"; fail=1; }

# norm: what varies by machine, not by figure (see the top of this file)
norm() {
	sed -e "s|$F/|FIXTURES/|g" -e "s|$T/|TMP/|g" \
	    -e 's/mmaplock [0-9][0-9]*\.[0-9][0-9]*\.[0-9][0-9]*/mmaplock VERSION/g'
}

# tool ARGS...: the binary, report, check and export without memcg names from this machine
tool() {
	if [ "$1" = report ] || [ "$1" = check ] || [ "$1" = export ]; then
		c=$1
		shift
		"$M" "$c" --no-resolve "$@"
	else
		"$M" "$@"
	fi
}

# run ARGS...: one section of the output file: the command, its stdout
# (normalised), its stderr and its exit status. The trace is "$in", shown as
# its name relative to the fixtures.
run() {
	echo "### $*" | norm
	tool "$@" >"$T/o" 2>"$T/e"
	rc=$?
	if [ "$(wc -c <"$T/o")" -gt 65536 ]; then
		echo "$(wc -l <"$T/o") lines, sha256 $(norm <"$T/o" | sha256sum | cut -d' ' -f1)"
	else
		norm <"$T/o"
	fi
	if [ -s "$T/e" ]; then
		echo "### stderr"
		norm <"$T/e"
	fi
	echo "### exit $rc"
}

# html ARGS...: report --html: the page's hash, and what report printed
html() {
	rm -f "$T/p.html"
	echo "### $* --html TMP/p.html" | norm
	tool "$@" --html "$T/p.html" >"$T/o" 2>"$T/e"
	rc=$?
	norm <"$T/o"
	norm <"$T/e"
	if [ -f "$T/p.html" ]; then
		echo "sha256 $(norm <"$T/p.html" | sha256sum | cut -d' ' -f1)"
	fi
	echo "### exit $rc"
}

# all IN: every output for one trace
all() {
	in=$1
	run report "$in"
	for by in memcg process task mm holder; do
		run report "$in" --by "$by"
		run report "$in" --by "$by" --json
		run report "$in" --by "$by" --csv
	done
	run report "$in" --sort hold
	run report "$in" --sort count --by task --top 2
	run report "$in" --hist
	run report "$in" --hist --by task
	run report "$in" --hist --json
	case $in in
	*stacks*|*.dat)
		run report "$in" --stacks
		run report "$in" --stacks 3 --by task
		run report "$in" --stacks --json
		;;
	esac
	html report "$in"
	run check "$in"
	run check "$in" --json
	run check "$in" --max-hold 0.01
	run export "$in" --format chrome
	run export "$in" --format folded
	run export "$in" --format folded --weight wait
	run export "$in" --format folded --weight hold
	run export "$in" --format csv
}

# the traces: every fixture that is one (format-* are event formats, not
# traces), and a generated mml file
"$GEN" "$T/gen.mml" 3000 2 >/dev/null || bad "gen-trace"
mkdir -p "$T/out"
for in in "$F"/*.txt "$F"/*.dat "$F"/*.seed "$T/gen.mml"; do
	name=$(basename "$in")		# with its extension: stacks-trigger.txt and .dat
	all "$in" >"$T/out/$name.out"
	grep -q '^### exit 12[67]$' "$T/out/$name.out" && bad "$name: $M did not run"
	if [ "${GOLDEN_UPDATE:-0}" = 1 ]; then
		mkdir -p "$G"
		cp "$T/out/$name.out" "$G/$name.out"
	elif [ ! -f "$G/$name.out" ]; then
		bad "$name: tests/golden/$name.out missing (GOLDEN_UPDATE=1 writes it)"
	elif ! cmp -s "$T/out/$name.out" "$G/$name.out"; then
		bad "$name: output differs from tests/golden/$name.out:"
		diff -u "$G/$name.out" "$T/out/$name.out" | head -n 60
	fi
done
# a golden file whose trace is gone would pin nothing
for g in "$G"/*.out; do
	[ -f "$g" ] || continue
	name=$(basename "$g" .out)
	[ -f "$T/out/$name.out" ] || bad "tests/golden/$name.out: no such trace any more"
done
[ "${GOLDEN_UPDATE:-0}" = 1 ] && echo "golden.sh: tests/golden rewritten ($(ls "$G" | wc -l) files)"
[ $fail = 0 ] && echo "golden.sh: ok"
exit $fail
