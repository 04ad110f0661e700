#!/bin/sh
# exporter-gc.sh: an always-on exporter drops the series of memcgs that are
# gone (--series-ttl). Per back-end (tracefs; bpf when it loads), two
# exporters with -i 0.5 run side by side: one with --series-ttl 2, one with
# --series-ttl 0 (keep forever). `mmaplock stress` runs briefly in memcg A
# (which stays), then in memcg G; once both have series, G is removed (its
# process has ended). The TTL exporter must then lose every series of G,
# count the drop in mmaplock_series_dropped_total and show the rest in the
# mmaplock_series gauge, while A, idle longer than the TTL but alive, keeps
# its series; a few windows later G has not come back (a back-end's
# cumulative figures of G, e.g. BPF maps, add nothing); the TTL-0 exporter
# still has G. `promtool check metrics` accepts the exposition.
set -u
. "$(dirname "$0")/lib.sh"
need root tracefs cgroup curl
scratch exporter-gc
A=mmltest-gca-$$
G=mmltest-gcg-$$
xp= kp=
at_exit 'stop $xp $kp; rmdir $CG/$G 2>/dev/null'
memcg_make $A

# bad value: one line, exit 2
"$M" exporter --series-ttl -1 >/dev/null 2>$tmp/e
rc=$?
[ $rc -eq 2 ] && [ "$(wc -l <$tmp/e)" -eq 1 ] && ok "--series-ttl -1: exit 2, $(cat $tmp/e)" ||
	bad "--series-ttl -1: exit $rc: $(cat $tmp/e)"

# scrape PORT FILE: /metrics of the exporter on PORT into FILE
scrape() { curl -s --max-time 5 http://127.0.0.1:$1/metrics >$2; }
# series FILE MEMCG: how many acquisition series (modes) of MEMCG FILE has
series() { grep -c "^mmaplock_acquisitions_total{memcg=\"/$2\"," $1; }
# value FILE NAME: the value of the unlabelled metric NAME
value() { awk -v n="$2" '$1 == n { print $2 }' $1; }

# one BACKEND
run() {
	stop $xp $kp	# what a failed run before left
	xp= kp=
	rmdir $CG/$G 2>/dev/null
	mkdir $CG/$G || { bad "$1: cannot create $CG/$G"; return; }
	"$M" exporter --backend $1 --listen 127.0.0.1:0 -i 0.5 --series-ttl 2 2>$tmp/x.err &
	xp=$!
	"$M" exporter --backend $1 --listen 127.0.0.1:0 -i 0.5 --series-ttl 0 2>$tmp/k.err &
	kp=$!
	port=$(wait_port $tmp/x.err) || { bad "$1: exporter did not start: $(cat $tmp/x.err)"; return; }
	kport=$(wait_port $tmp/k.err) || { bad "$1: exporter (ttl 0) did not start: $(cat $tmp/k.err)"; return; }
	in_memcg $A "$M" stress -d 1 >/dev/null 2>&1
	in_memcg $G "$M" stress -d 1 >/dev/null 2>&1
	i=0
	while [ $i -lt 40 ]; do
		scrape $port $tmp/m1
		[ "$(series $tmp/m1 $A)" -ge 1 ] && [ "$(series $tmp/m1 $G)" -ge 1 ] && break
		sleep 0.25
		i=$((i + 1))
	done
	[ "$(series $tmp/m1 $G)" -ge 1 ] && [ "$(series $tmp/m1 $A)" -ge 1 ] &&
		ok "$1: series of /$A and /$G while both exist" ||
		{ bad "$1: no series of /$A or /$G: $(grep acquisitions_total $tmp/m1) $(cat $tmp/x.err)"; return; }
	d0=$(value $tmp/m1 mmaplock_series_dropped_total)
	rmdir $CG/$G || { bad "$1: could not remove $G"; return; }
	# the TTL is 2 s; a pass every 0.5 s: allow a loaded machine 30 s
	i=0
	while [ $i -lt 120 ]; do
		scrape $port $tmp/m2
		[ "$(series $tmp/m2 $G)" = 0 ] && break
		sleep 0.25
		i=$((i + 1))
	done
	if grep -q "memcg=\"/$G\"" $tmp/m2; then
		bad "$1: /$G removed, its series still there: $(grep "memcg=\"/$G\"" $tmp/m2 | head -3)"
	else
		ok "$1: /$G removed: every series of it dropped"
	fi
	d1=$(value $tmp/m2 mmaplock_series_dropped_total)
	awk -v a="${d0:-x}" -v b="${d1:-x}" 'BEGIN { exit !(b + 0 > a + 0 && a != "x") }' &&
		ok "$1: mmaplock_series_dropped_total $d0 -> $d1" ||
		bad "$1: mmaplock_series_dropped_total '$d0' -> '$d1'"
	n=$(grep '^mmaplock_acquisitions_total{' $tmp/m2 | grep -vc 'memcg="other"')
	[ "$(value $tmp/m2 mmaplock_series)" = "$n" ] && ok "$1: mmaplock_series $n, as many as the series shown" ||
		bad "$1: mmaplock_series $(value $tmp/m2 mmaplock_series), $n series shown"
	[ "$(series $tmp/m2 $A)" -ge 1 ] && ok "$1: /$A, idle past the TTL but alive, keeps its series" ||
		bad "$1: /$A lost its series"
	if command -v promtool >/dev/null; then
		promtool check metrics <$tmp/m2 >$tmp/lint 2>&1 && ok "$1: promtool check metrics accepts it" ||
			bad "$1: promtool check metrics: $(cat $tmp/lint)"
	fi
	sleep 3		# six windows: nothing of G comes back
	scrape $port $tmp/m3
	# (not the dropped counter: other memcgs of the machine may go meanwhile)
	[ "$(series $tmp/m3 $G)" = 0 ] && ok "$1: /$G stays dropped" ||
		bad "$1: /$G came back: $(grep "memcg=\"/$G\"" $tmp/m3 | head -3)"
	scrape $kport $tmp/k
	[ "$(series $tmp/k $G)" -ge 1 ] && [ "$(value $tmp/k mmaplock_series_dropped_total)" = 0 ] &&
		ok "$1: --series-ttl 0 keeps /$G" || bad "$1: --series-ttl 0 lost /$G: $(cat $tmp/k.err)"
	signal_wait TERM $xp
	xp=
	[ $rc = 0 ] || bad "$1: exporter exited $rc: $(cat $tmp/x.err)"
	signal_wait TERM $kp
	kp=
	[ $rc = 0 ] || bad "$1: exporter (ttl 0) exited $rc: $(cat $tmp/k.err)"
}

run tracefs
if have bpf; then
	run bpf
else
	echo "note bpf: not run ($why)"
fi
exit $fail
