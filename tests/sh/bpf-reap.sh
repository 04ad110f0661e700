#!/bin/sh
# bpf-reap.sh: the BPF back-end removes the map entries of a process that
# exited, or of a memory cgroup that was removed, in the window it happened
# in, with their last figures in that window and none in the next. Windows
# of 3 s (bpf-dump -K logs each window's groups as soon as the maps were
# read, then the aggregate map's keys); right after a window began, 8 short
# `mmaplock stress` runs (by process: in the test's cgroup; by memcg: in a
# memcg made for them and removed after them) exit. The window they ran in
# must show each of them (figures present) and leave none of their keys in
# the map; the next must show none of them. A batch not over within 2 s of
# its window's start (a busy machine) is run again: it may straddle two.
# Skipped without root, BTF, the BPF back-end, cgroup v1 memory or jq.
set -u
. "$(dirname "$0")/lib.sh"
need root btf cgroup jq bpf bpftool
PATH=$PATH:${BT%/*}
scratch bpfreap
P=mmltest-reap-$$
dp=
at_exit 'stop $dp; wait; rmdir $CG/$P-* 2>/dev/null'
mkdir $CG/$P-p

# windows read so far (their g lines complete in the -K log: the m line begun)
windows() { grep -c '^m ' $tmp/keys; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
# until a window more than $1 is logged (10 s at most)
next_window() {
	_n=0
	while [ "$(windows)" -le "$1" ] && [ $_n -lt 200 ]; do
		sleep 0.05
		_n=$((_n + 1))
	done
}
# keys KIND WINDOW: the keys of the g or m line of WINDOW
keys() { awk -v k="$1" -v w="$2" '$1 == k && $2 == w { $1 = $2 = ""; print }' $tmp/keys; }
has() { echo " $1 " | grep -q " $2 "; }

# batch MEMCG: 8 short stress runs in MEMCG, waited for; their pids in $ps
batch() {
	ps=
	for k in 1 2 3 4 5 6 7 8; do
		spawn_in s $1 "$M" stress -t 1 -d 0.05
		ps="$ps $s"
	done
	wait $ps
}

for mode in process memcg; do
	# a map large enough for this busy machine's own processes in 3 s:
	# what is checked is when entries go, not the map-full path
	dump_start /dev/null $tmp/err env MMAPLOCK_BPF_MAX_GROUPS=16384 \
		"$D" -b $mode -w 3000 -d 600 -K $tmp/keys || continue
	try=0 w=
	while [ $try -lt 3 ] && [ -z "$w" ]; do
		try=$((try + 1))
		next_window "$(windows)"	# a window just began
		w0=$(windows) t0=$(now_ms)
		if [ $mode = process ]; then
			batch $P-p
			ids=$ps
		else
			mkdir $CG/$P-$try
			ids=$(stat -c %i $CG/$P-$try)
			batch $P-$try
			rmdir $CG/$P-$try
		fi
		# all of it inside window w, well before its end
		[ "$(windows)" = "$w0" ] && [ $(($(now_ms) - t0)) -lt 2000 ] && w=$((w0 + 1))
	done
	if [ -z "$w" ]; then
		echo "note -b $mode: every batch straddled a window (machine too busy): not checked"
		stop $dp
		dp=
		continue
	fi
	next_window $w	# window w + 1 is read (its g line written): w's m line is complete
	signal_wait TERM $dp
	dp=
	[ $rc = 0 ] || bad "-b $mode: bpf-dump exited $rc: $(cat $tmp/err)"
	g=$(keys g $w) m=$(keys m $w) g1=$(keys g $((w + 1)))
	grep -q "^m $((w + 1))" $tmp/keys || bad "-b $mode: windows $w and $((w + 1)) not logged: $(cat $tmp/err)"
	miss= left= late=
	for id in $ids; do
		has "$g" $id || miss="$miss $id"
		has "$m" $id && left="$left $id"
		has "$g1" $id && late="$late $id"
	done
	[ -z "$miss" ] && ok "-b $mode: window $w has the figures of$ids" ||
		bad "-b $mode: window $w has no figures of$miss"
	[ -z "$left" ] && ok "-b $mode: none of their map entries left after window $w" ||
		bad "-b $mode: map entries of$left (gone before window $w ended) still there after it"
	[ -z "$late" ] && ok "-b $mode: no figures of them in window $((w + 1))" ||
		bad "-b $mode: figures of$late in window $((w + 1)), after they were gone"
done
[ $fail = 0 ] && echo "bpf-reap.sh: ok"
exit $fail
