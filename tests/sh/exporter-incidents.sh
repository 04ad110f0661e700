#!/bin/sh
# exporter-incidents.sh: `mmaplock exporter --incidents DIR`, watch's
# detector inside the exporter. `mmaplock stress --stall 200` in a memory
# cgroup makes a reader wait about 200 ms behind a writer; with --wait-over
# 50, /metrics must come to show mmaplock_incidents_total for that cgroup
# (kind="wait", with HELP and TYPE lines, accepted by promtool if present),
# DIR must hold an incident file that `mmaplock report` reads, stderr must
# log the incident's line, and after SIGTERM the exporter exits 0 and leaves
# no tracefs instance. The option errors: --wait-over without --incidents,
# --incidents with --backend bpf (one line, exit 2).
set -u
. "$(dirname "$0")/lib.sh"
need root tracefs cgroup curl
scratch xinc
G=mmltest-xinc-$$
xp= sp=
at_exit 'stop $xp $sp'
memcg_make $G

# ---- option errors: one line, exit 2, nothing traced
for args in "--wait-over 50" "--incidents $tmp/x --backend bpf" "--incidents $tmp/x --wait-over x" \
	    "--incidents $tmp/x --wait-over 0"; do
	# shellcheck disable=SC2086
	"$M" exporter --listen 127.0.0.1:0 $args >$tmp/o 2>$tmp/e
	rc=$?
	[ $rc -eq 2 ] && [ "$(wc -l <$tmp/e)" -eq 1 ] && ok "exporter $args: exit 2, $(cat $tmp/e)" ||
		bad "exporter $args: exit $rc: $(cat $tmp/e)"
done

# ---- the exporter, catching the stall
sh -c "echo \$\$ > $CG/$G/cgroup.procs; exec \"$M\" stress --stall 200 -t 1 -d 40" >/dev/null 2>&1 &
sp=$!
"$M" exporter --listen 127.0.0.1:0 -i 0.5 --incidents $tmp/inc --wait-over 50 --rate-limit 1 \
	2>$tmp/x.err &
xp=$!
i=0
port=
while [ $i -lt 100 ] && [ -z "$port" ]; do
	port=$(sed -n 's|.*serving http://127.0.0.1:\([0-9]*\)/metrics.*|\1|p' $tmp/x.err)
	[ -z "$port" ] && sleep 0.1
	i=$((i + 1))
done
[ -n "$port" ] || { echo "FAIL exporter did not start: $(cat $tmp/x.err)"; exit 1; }

# until an incident is counted (bounded: 30 s)
i=0
n=0
while [ $i -lt 60 ]; do
	curl -s --max-time 5 http://127.0.0.1:$port/metrics >$tmp/m.txt
	n=$(awk '/^mmaplock_incidents_total\{/ && /kind="wait"/ { s += $NF } END { print s + 0 }' $tmp/m.txt)
	[ "$n" -gt 0 ] && break
	sleep 0.5
	i=$((i + 1))
done
[ "$n" -gt 0 ] && ok "mmaplock_incidents_total: $n" ||
	bad "no incident counted in 30 s: $(grep incidents $tmp/m.txt) $(tail -n 3 $tmp/x.err)"
grep -q '^# TYPE mmaplock_incidents_total counter$' $tmp/m.txt && grep -q '^# HELP mmaplock_incidents_total ' $tmp/m.txt ||
	bad "no HELP/TYPE for mmaplock_incidents_total"
line=$(grep '^mmaplock_incidents_total{' $tmp/m.txt | grep 'kind="wait"' | head -n 1)
case "$line" in
*memcg=\"*/$G\",mode=\"read\"*) ok "labelled: $line" ;;
*) bad "series not of the stall's cgroup and read mode: $line" ;;
esac
if command -v promtool >/dev/null; then
	promtool check metrics <$tmp/m.txt >$tmp/p.out 2>&1 && ok "promtool accepts the exposition" ||
		bad "promtool: $(cat $tmp/p.out)"
fi

# the incident's file and its line on stderr
file=$(ls $tmp/inc/incident-*.mml 2>/dev/null | head -n 1)
[ -n "$file" ] && ok "incident file $(basename "$file")" || bad "no incident file in DIR: $(ls -a $tmp/inc)"
grep -q "^mmaplock exporter: incident: .* wait .* ms: .* <- .*incident-" $tmp/x.err &&
	ok "incident line logged" || bad "no incident line on stderr: $(cat $tmp/x.err)"
if [ -n "$file" ]; then
	"$M" report --by holder "$file" >$tmp/r.txt 2>$tmp/r.err && ok "report reads it" ||
		bad "report: $(cat $tmp/r.err)"
	grep -q 'stress-stall' $tmp/r.txt || bad "report --by holder does not name stress-stall: $(cat $tmp/r.txt)"
fi

# ---- SIGTERM: exit 0, tracefs clean
kill -TERM $xp
wait $xp
rc=$?
[ $rc -eq 0 ] && ok "SIGTERM: exit 0" || bad "SIGTERM: exit $rc: $(tail -n 3 $tmp/x.err)"
i=0
while [ -d $T/instances/mmaplock-$xp ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
[ -d $T/instances/mmaplock-$xp ] && bad "instance mmaplock-$xp left behind" || ok "no instance left"
ls -a $tmp/inc | grep -q '^\.incident' && bad "a temporary file was left in DIR"
xp=
kill $sp 2>/dev/null; wait $sp 2>/dev/null; sp=

[ $fail -eq 0 ] && echo "exporter-incidents.sh: ok"
exit $fail
