#!/bin/sh
# layout.sh: each stage folder of src/tool includes only the stages that
# src/tool/README.md's "may include" column allows (no include cycles),
# and no function in src/ (the tool, the library, the shared format code)
# runs over 120 lines, except those in the allow-list below.
src=${MMAPLOCK_SRC:-.}
tool=$src/src/tool
fail=0

# header name -> stage (src/common and src/lib headers: "common")
map=$(mktemp) || exit 1
trap 'rm -f "$map"' EXIT
for f in "$tool"/*/*.h; do
	d=${f%/*}
	echo "${f##*/} ${d##*/}"
done >"$map"
for f in "$src"/src/common/*.h "$src"/src/lib/*.h "$src"/include/*.h; do
	[ -e "$f" ] && echo "${f##*/} common"
done >>"$map"
# the BPF programs' shared headers and the skeletons built from them (cmake/bpf.cmake)
for f in "$src"/bpf/*.h; do
	[ -e "$f" ] && echo "${f##*/} bpf"
done >>"$map"
echo "mmaplock.skel.h bpf" >>"$map"
echo "watch.skel.h bpf" >>"$map"

# the table: | `stage/` | owns | may include |
rules=$(sed -n 's/^| `\([a-z]*\)\/` |.*| \([^|]*\) |$/\1 \2/p' "$tool/README.md")
[ -n "$rules" ] || { echo "FAIL: no stage table in src/tool/README.md"; exit 1; }

for dir in "$tool"/*/; do
	stage=$(basename "$dir")
	allow=$(echo "$rules" | awk -v s="$stage" '$1 == s { $1 = ""; print }' |
		sed 's/([^)]*)//g; s/,/ /g')
	if [ -z "$allow" ]; then
		echo "FAIL: $stage/ is not in src/tool/README.md's table"
		fail=1
		continue
	fi
	for f in "$dir"*.[ch]; do
		for h in $(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f"); do
			to=$(awk -v h="$h" '$1 == h { print $2; exit }' "$map")
			[ -n "$to" ] || { echo "FAIL: $f: $h: header not found"; fail=1; continue; }
			# every stage may include src/common and itself
			case " common $stage $allow " in
			*" every stage "*|*" $to "*) ;;
			*)
				echo "FAIL: $stage/${f##*/} includes $h ($to/), not in:$allow"
				fail=1;;
			esac
		done
	done
done

# Functions allowed over 120 lines, "path/under/src:name" a line, each with
# the reason it cannot be split. Keep it short: empty is the goal.
long_ok='
'

# functions: from a line "name(...)" at column 0 followed by "{" to the "}" at column 0
nfunc=0
for f in "$tool"/*/*.c "$src"/src/lib/*.c "$src"/src/common/*.c; do
	[ -e "$f" ] || continue
	rel=${f#"$src"/src/}
	n=$(awk -v f="$rel" -v ok="$long_ok" '
		BEGIN { split(ok, l, "\n"); for (i in l) if (l[i] != "") allow[l[i]] = 1 }
		/^[a-z].*\(/ && !/;$/ { name = $0 }
		/^\{/ { start = NR }
		/^\}/ && start {
			fn = name; sub(/\(.*/, "", fn); sub(/.*[ *]/, "", fn)
			if (NR - start > 120 && !((f ":" fn) in allow)) {
				print "FAIL: " f ": " fn ": " NR - start " lines (at most 120)" > "/dev/stderr"
				bad = 1
			}
			start = 0; count++
		}
		END { print count + 0; exit bad }' "$f") || fail=1
	nfunc=$((nfunc + n))
done
# the awk above must see the functions at all (a style change could hide them)
[ "$nfunc" -gt 500 ] || { echo "FAIL: only $nfunc functions found in src/"; fail=1; }
exit $fail
