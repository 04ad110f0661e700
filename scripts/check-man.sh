#!/bin/sh
# check-man.sh [BUILD]: the man pages keep up with the library.
#   1. every function libmmaplock.so exports (nm -D) is mentioned in a page
#      of docs/man/ (names starting with "__" are the out-of-line halves of
#      inline functions: reported, not required);
#   2. the EXAMPLE of every page in docs/man/*.3 compiles, links against the
#      built library and runs to exit status 0.
# Exit 0 when all is well, 1 with one line per problem otherwise.
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build}
lib=$build/libmmaplock.so
cc=${CC:-cc}
fail=0

[ -f "$lib" ] || { echo "check-man: no $lib (build first)"; exit 1; }

internal=0
for f in $(nm -D --defined-only "$lib" | awk '$2 == "T" { print $3 }' | sort -u); do
	case $f in
	__*) internal=$((internal + 1)); continue ;;
	esac
	if ! grep -qw -- "$f" "$src"/docs/man/*.[0-9] 2>/dev/null; then
		echo "check-man: $f is exported but no page of docs/man/ mentions it"
		fail=1
	fi
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
for page in "$src"/docs/man/*.3; do
	[ -f "$page" ] || continue
	name=$(basename "$page" .3)
	# The lines between ".SH EXAMPLE" ".nf" and the next ".fi", troff escapes undone.
	awk '/^\.SH EXAMPLE/ { ex = 1; next }
	     ex && /^\.nf/ && !in_nf { in_nf = 1; next }
	     in_nf && /^\.fi/ { exit }
	     in_nf { print }' "$page" |
		sed -e 's/\\-/-/g' -e "s/\\\\(aq/'/g" -e 's/\\e/\\/g' -e 's/\\(dq/"/g' >"$tmp/$name.c"
	if [ ! -s "$tmp/$name.c" ]; then
		echo "check-man: $name.3 has no EXAMPLE"
		fail=1
		continue
	fi
	if ! $cc -std=gnu11 -Wall -Wno-unused-parameter -I"$src/include" -I"$build/include" \
		"$tmp/$name.c" -o "$tmp/$name" -L"$build" -lmmaplock -pthread \
		-Wl,-rpath,"$build" 2>"$tmp/$name.err"; then
		echo "check-man: the EXAMPLE of $name.3 does not build:"
		sed 's/^/    /' "$tmp/$name.err" | head -20
		fail=1
		continue
	fi
	if ! timeout 30 "$tmp/$name" >"$tmp/$name.out" 2>&1; then
		echo "check-man: the EXAMPLE of $name.3 fails when run:"
		sed 's/^/    /' "$tmp/$name.out" | head -20
		fail=1
	fi
done
[ $fail -eq 0 ] && echo "check-man: ok (every exported function has a page; $internal internal hooks skipped; examples build and run)"
exit $fail
