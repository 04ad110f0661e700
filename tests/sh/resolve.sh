#!/bin/sh
# resolve.sh: memcg ids of text and trace.dat inputs named at report time.
# On a memcg_id kernel the events carry the memcg's cgroup id (the inode
# number of its directory) and no path. A memory cgroup runs `mmaplock
# stress` while a tracefs instance captures the mmap_lock events of that id
# only; its text (`trace`) and its trace.dat (`trace-cmd extract -B`) are
# reported: the group must show the cgroup's path marked '*' with the
# footnote, the JSON `memcg_path` and `"memcg_resolved": "now"`; with
# --no-resolve, memcg_id:N, no mark, no footnote; an id no cgroup has (a
# line edited to one) stays memcg_id:N; and once the cgroup is gone, the
# same trace shows memcg_id:N again (names are looked up now, not kept).
# export names the ids the same way (folded and csv lines carry the
# marked path; --no-resolve keeps memcg_id:N), and so does check (a
# finding's memcg, text and JSON, on a check fixture given the id).
set -u
. "$(dirname "$0")/lib.sh"
need root tracefs memcg_id cgroup jq
scratch resolve
A=mmltest-resolve-$$
name=mmltest-res-$$
I=$T/instances/$name
drop() {	# the instance (trace-cmd extract may have removed it already)
	[ -d $I ] || return 0
	echo 0 > $I/events/enable
	rmdir $I
}
at_exit drop

memcg_make $A
id=$(stat -c %i $CG/$A)
mkdir $I
echo 32768 > $I/buffer_size_kb
for e in start_locking acquire_returned released; do
	echo "memcg_id == $id" > $I/events/mmap_lock/mmap_lock_$e/filter
done
echo 1 > $I/events/mmap_lock/enable
in_memcg $A "$M" stress -d 0.3 >/dev/null 2>&1
echo 0 > $I/events/mmap_lock/enable
cat $I/trace > $tmp/t.txt
have_dat=0
if command -v trace-cmd >/dev/null && trace-cmd extract -B $name -o $tmp/t.dat >$tmp/x.err 2>&1; then
	have_dat=1
else
	echo "note trace.dat part skipped: no trace-cmd, or extract failed: $(tail -1 $tmp/x.err 2>/dev/null)"
fi
drop
n=$(grep -c "memcg_id=$id " $tmp/t.txt)
[ "$n" -gt 0 ] && ok "captured $n events with memcg_id=$id (the cgroup's inode number)" ||
	bad "no event with memcg_id=$id: $(head -20 $tmp/t.txt)"

check() {	# $1: input file, $2: what it is
	"$M" report "$1" >$tmp/r 2>$tmp/e
	rc=$?
	if [ $rc -eq 0 ] && grep -q "^/$A\* " $tmp/r && grep -q '^# \*: ' $tmp/r && ! grep -q "memcg_id:$id" $tmp/r; then
		ok "$2: /$A* with the footnote: $(grep '^# \*: ' $tmp/r)"
	else
		bad "$2: exit $rc: $(cat $tmp/r $tmp/e)"
	fi
	"$M" report --json "$1" >$tmp/j 2>$tmp/e
	if grep -q "\"key\": \"/$A\\*\", \"memcg_path\": \"/$A\", \"memcg_id\": $id, \"memcg_resolved\": \"now\"" $tmp/j; then
		ok "$2: JSON key, memcg_path, memcg_id, memcg_resolved"
	else
		bad "$2: JSON: $(grep '"key"' $tmp/j) $(cat $tmp/e)"
	fi
	"$M" report --no-resolve "$1" >$tmp/r 2>$tmp/e
	rc=$?
	if [ $rc -eq 0 ] && grep -q "^memcg_id:$id " $tmp/r && ! grep -q "$A" $tmp/r && ! grep -q '^# \*' $tmp/r; then
		ok "$2: --no-resolve: memcg_id:$id"
	else
		bad "$2: --no-resolve: exit $rc: $(cat $tmp/r $tmp/e)"
	fi
	"$M" report --no-resolve --json "$1" >$tmp/j 2>$tmp/e
	if grep -q "\"key\": \"memcg_id:$id\", \"memcg_path\": null, \"memcg_id\": $id, \"acq" $tmp/j; then
		ok "$2: --no-resolve --json: memcg_path null, no memcg_resolved"
	else
		bad "$2: --no-resolve --json: $(grep '"key"' $tmp/j) $(cat $tmp/e)"
	fi
	"$M" export "$1" --format folded >$tmp/f 2>$tmp/e
	rc=$?
	if [ $rc -eq 0 ] && grep -q ";/$A\*;" $tmp/f && ! grep -q "memcg_id:$id" $tmp/f; then
		ok "$2: export folded: /$A*"
	else
		bad "$2: export folded: exit $rc: $(head -3 $tmp/f) $(cat $tmp/e)"
	fi
	"$M" export "$1" --format csv >$tmp/c 2>$tmp/e
	if grep -q ",/$A\*," $tmp/c && ! grep -q "memcg_id:$id" $tmp/c; then
		ok "$2: export csv: /$A*"
	else
		bad "$2: export csv: $(sed -n 2p $tmp/c) $(cat $tmp/e)"
	fi
	"$M" export --no-resolve "$1" --format folded >$tmp/f 2>$tmp/e
	rc=$?
	if [ $rc -eq 0 ] && grep -q ";memcg_id:$id;" $tmp/f && ! grep -q "$A" $tmp/f; then
		ok "$2: export --no-resolve: memcg_id:$id"
	else
		bad "$2: export --no-resolve: exit $rc: $(head -3 $tmp/f) $(cat $tmp/e)"
	fi
}
check $tmp/t.txt "ftrace text"
[ $have_dat -eq 1 ] && check $tmp/t.dat "trace.dat"

# check names the memcg of each finding the same way: a fixture of one
# self_deadlock whose events carry the cgroup's id
sed "s|memcg_path=/m |memcg_id=$id |" ${MMAPLOCK_SRC:?}/tests/fixtures/check-self-deadlock.txt >$tmp/ck.txt
"$M" check $tmp/ck.txt >$tmp/r 2>$tmp/e
rc=$?
if [ $rc -eq 1 ] && grep -q "^self_deadlock: app\[100\] (/$A\*) mm 0xaaaa0000 " $tmp/r && grep -q '^# \*: ' $tmp/r; then
	ok "check: the finding in /$A* with the footnote"
else
	bad "check: exit $rc: $(cat $tmp/r $tmp/e)"
fi
"$M" check --json $tmp/ck.txt >$tmp/j 2>$tmp/e
jq -e ".findings[0] | .memcg_path == \"/$A\" and .memcg_id == $id and .memcg_resolved == \"now\"" $tmp/j >/dev/null &&
	ok "check --json: memcg_path, memcg_id, memcg_resolved" || bad "check --json: $(cat $tmp/j $tmp/e)"
"$M" check --no-resolve $tmp/ck.txt >$tmp/r 2>$tmp/e
grep -q "^self_deadlock: app\[100\] (memcg_id:$id) mm " $tmp/r && ! grep -q "$A" $tmp/r && ! grep -q '^# \*' $tmp/r &&
	ok "check --no-resolve: memcg_id:$id" || bad "check --no-resolve: $(cat $tmp/r $tmp/e)"
"$M" check --no-resolve --json $tmp/ck.txt >$tmp/j 2>$tmp/e
jq -e ".findings[0] | .memcg_path == null and .memcg_id == $id and (has(\"memcg_resolved\") | not)" $tmp/j >/dev/null &&
	ok "check --no-resolve --json: memcg_path null" || bad "check --no-resolve --json: $(cat $tmp/j $tmp/e)"

# an id that no cgroup has: left alone
unused=$((id + 1000000007))
sed "s/memcg_id=$id /memcg_id=$unused /" $tmp/t.txt >$tmp/u.txt
"$M" report $tmp/u.txt >$tmp/r 2>$tmp/e
grep -q "^memcg_id:$unused " $tmp/r && ! grep -q '^# \*' $tmp/r && ok "unknown id: memcg_id:$unused" ||
	bad "unknown id: $(cat $tmp/r $tmp/e)"

# the cgroup gone: the name is not kept anywhere
rmdir $CG/$A
"$M" report $tmp/t.txt >$tmp/r 2>$tmp/e
grep -q "^memcg_id:$id " $tmp/r && ! grep -q "$A" $tmp/r && ok "cgroup removed: memcg_id:$id again" ||
	bad "cgroup removed: $(cat $tmp/r $tmp/e)"
"$M" export $tmp/t.txt --format folded >$tmp/f 2>$tmp/e
grep -q ";memcg_id:$id;" $tmp/f && ! grep -q "$A" $tmp/f && ok "cgroup removed: export memcg_id:$id again" ||
	bad "cgroup removed: export: $(cat $tmp/f $tmp/e)"
"$M" check $tmp/ck.txt >$tmp/r 2>$tmp/e
grep -q "(memcg_id:$id) mm " $tmp/r && ! grep -q "$A" $tmp/r && ok "cgroup removed: check memcg_id:$id again" ||
	bad "cgroup removed: check: $(cat $tmp/r $tmp/e)"
exit $fail
