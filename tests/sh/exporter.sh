#!/bin/sh
# exporter.sh: `mmaplock exporter` against a real Prometheus. Two memory
# cgroups run `mmaplock stress` (a third one appears and disappears
# meanwhile); Prometheus, started here on loopback and scraping the
# exporter every second, must return mmaplock_acquisitions_total for both
# cgroup paths, rising between two scrapes, and a histogram_quantile over
# mmaplock_wait_seconds_bucket that evaluates. A third stress, alone, must
# give the exporter the figures of an independent `mmaplock record -G`. `promtool check metrics`
# must accept the exposition and the --textfile output. SIGTERM: exit 0,
# no tracefs instance left, port closed. All on 127.0.0.1, about 30 s.
set -u
. "$(dirname "$0")/lib.sh"
need root tracefs cgroup prometheus promtool curl jq python3
scratch exporter
A=mmltest-xa-$$
B=mmltest-xb-$$
C=mmltest-xc-$$
D=mmltest-xd-$$
xp= pp= sa= sb= rp=
at_exit 'stop $xp $pp $sa $sb $rp; rmdir $CG/$C $CG/$D 2>/dev/null'
memcg_make $A $B

# ---- bad options: one line, exit 2
for args in "--listen nonsense" "--listen 127.0.0.1:99999" "--listen 300.1.1.1:1" "--max-series x" "-i 0" "--textfile /nonexistent/dir"; do
	# shellcheck disable=SC2086
	"$M" exporter $args >$tmp/o 2>$tmp/e
	rc=$?
	[ $rc -eq 2 ] && [ "$(wc -l <$tmp/e)" -eq 1 ] && ok "exporter $args: exit 2, $(cat $tmp/e)" ||
		bad "exporter $args: exit $rc: $(cat $tmp/e)"
done

# ---- the live line: on a terminal a count that changes ("\r\033[K" then the
# line, about once a second); nothing of it when stderr is not a terminal
script -qc "timeout -s INT 3 $M exporter --listen 127.0.0.1:0" /dev/null >$tmp/live.tty 2>&1
if tr '\r' '\n' <$tmp/live.tty | grep -q '^.\[Kmmaplock exporter: [0-9]* scrapes*, [0-9]* series, [0-9]* events/s'; then
	ok "exporter on a terminal: a live line ($(tr '\r' '\n' <$tmp/live.tty | grep 'events/s' | tail -1 | tr -d '\033'))"
else
	bad "exporter on a terminal: no live line: $(tr -d '\033' <$tmp/live.tty | tr '\r' '|' | head -c 400)"
fi
timeout -s INT 3 "$M" exporter --listen 127.0.0.1:0 >$tmp/live.out 2>$tmp/live.err
if grep -q 'events/s' $tmp/live.err || tr -d '\n' <$tmp/live.err | grep -q "$(printf '\r')"; then
	bad "exporter with stderr piped: a live line: $(tr '\r' '|' <$tmp/live.err | head -c 400)"
else
	ok "exporter with stderr piped: no live line"
fi

# ---- the exporter
# tracefs: the comparison with record below is exact (same events, same
# timestamps); the BPF back-end's figures (its own clock reads) are compared
# with tolerances in bpf-parity.sh, its exporter in bpf-groups.sh
mkdir $tmp/tf
"$M" exporter --backend tracefs --listen 127.0.0.1:0 -i 0.5 --textfile $tmp/tf 2>$tmp/x.err &
xp=$!
port=$(wait_port $tmp/x.err) || { echo "FAIL exporter did not start: $(cat $tmp/x.err)"; exit 1; }
# a port in use: a one-line error, exit 1
"$M" exporter --listen 127.0.0.1:$port >/dev/null 2>$tmp/e2
rc=$?
[ $rc -eq 1 ] && grep -q "in use" $tmp/e2 && ok "port in use: $(cat $tmp/e2)" || bad "port in use: exit $rc $(cat $tmp/e2)"

spawn_in sa $A "$M" stress -d 40
spawn_in sb $B "$M" stress -t 3 -d 40

cat >$tmp/prometheus.yml <<EOC
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: mmaplock
    static_configs:
      - targets: ['127.0.0.1:$port']
EOC
prom_start

# a memcg that appears and disappears during the run
sleep 1
mkdir $CG/$C && in_memcg $C "$M" stress -d 1 >/dev/null 2>&1
rmdir $CG/$C || bad "could not remove $C"

# both cgroup paths in Prometheus
i=0
while [ $i -lt 20 ]; do
	prom_query "mmaplock_acquisitions_total{memcg=~\"/$A|/$B\"}" >$tmp/q1.json
	n=$(jq -r '[.data.result[].metric.memcg] | unique | length' $tmp/q1.json 2>/dev/null)
	[ "$n" = 2 ] && break
	sleep 0.5
	i=$((i + 1))
done
[ "$n" = 2 ] && ok "prometheus: mmaplock_acquisitions_total for /$A and /$B" ||
	bad "prometheus: series for both cgroups: $(head -c 600 $tmp/q1.json) $(tail -5 $tmp/prom.log)"
v1=$(prom_query "sum(mmaplock_acquisitions_total{memcg=\"/$A\"})" | jq -r '.data.result[0].value[1] // 0')
sleep 2.5
v2=$(prom_query "sum(mmaplock_acquisitions_total{memcg=\"/$A\"})" | jq -r '.data.result[0].value[1] // 0')
awk -v a="$v1" -v b="$v2" 'BEGIN { exit !(b > a && a > 0) }' && ok "prometheus: /$A rises between scrapes: $v1 -> $v2" ||
	bad "prometheus: not rising: $v1 -> $v2"
prom_query "histogram_quantile(0.99, sum by (le) (rate(mmaplock_wait_seconds_bucket{memcg=\"/$B\"}[5s])))" >$tmp/q3.json
hq=$(jq -r '.data.result[0].value[1] // "none"' $tmp/q3.json)
awk -v v="$hq" 'BEGIN { exit !(v + 0 > 0 && v + 0 < 20) }' && ok "prometheus: histogram_quantile(0.99) of /$B wait: $hq s" ||
	bad "prometheus: histogram_quantile: $(cat $tmp/q3.json)"

# the exposition itself
curl -s --max-time 5 http://127.0.0.1:$port/metrics >$tmp/metrics
promtool check metrics <$tmp/metrics >$tmp/lint 2>&1 && ok "promtool check metrics: exposition accepted ($(wc -l <$tmp/metrics) lines)" ||
	bad "promtool check metrics: $(cat $tmp/lint)"
grep -q "memcg=\"/$C\"" $tmp/metrics && ok "the vanished memcg /$C keeps its series (within --series-ttl, 300 s)" || bad "/$C not in the exposition"
curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$port/nothing >$tmp/code
[ "$(cat $tmp/code)" = 404 ] && ok "unknown path: 404" || bad "unknown path: $(cat $tmp/code)"
if [ -f $tmp/tf/mmaplock.prom ] && promtool check metrics <$tmp/tf/mmaplock.prom >$tmp/lint2 2>&1 &&
   grep -q "memcg=\"/$A\"" $tmp/tf/mmaplock.prom && [ "$(ls -A $tmp/tf)" = mmaplock.prom ]; then
	ok "--textfile: mmaplock.prom accepted by promtool, no temporary file left"
else
	bad "--textfile: $(ls -A $tmp/tf) $(cat $tmp/lint2 2>/dev/null)"
fi

# ---- exact figures: a stress in memcg D, entirely inside both the exporter's
# life and an independent `mmaplock record -G D`: the exporter's final counters
# for D equal the report of that recording (acquisitions, failed, numbers of
# waits and holds; their total ns within 10%), unless either lost events
# meanwhile.
# (alone: the two stresses above have ended, so that nothing is lost on 2 CPUs)
kill $sa $sb
wait $sa $sb
sa= sb=
xl0=$(curl -s --max-time 5 http://127.0.0.1:$port/metrics | awk '$1 == "mmaplock_lost_events_total" { print $2 }')
mkdir $CG/$D
"$M" record -G $CG/$D -o $tmp/d.mml 2>$tmp/d.err &
rp=$!
# its events are on (under load that may take a while)
i=0
while [ $i -lt 100 ] && [ "$(cat $T/instances/mmaplock-$rp/events/mmap_lock/enable 2>/dev/null)" != 1 ]; do
	sleep 0.1
	i=$((i + 1))
done
sleep 0.3
in_memcg $D "$M" stress -d 1 >/dev/null 2>&1
sleep 2		# a refresh (0.5 s) after the watermark has passed the end
curl -s --max-time 5 http://127.0.0.1:$port/metrics >$tmp/md
kill -INT $rp
wait $rp
"$M" report --by memcg --csv $tmp/d.mml >$tmp/d.csv 2>$tmp/d.rep
xf=$(awk -v g="memcg=\"/$D\"" '
	function ns(v,  p) { p = index(v, "."); return p ? substr(v, 1, p - 1) substr(v "000000000", p + 1, 9) + 0 : v * 1e9 }
	index($0, g) {
		split($1, n, "{")
		if (n[1] == "mmaplock_acquisitions_total") acq += $2
		if (n[1] == "mmaplock_failed_total") fl += $2
		if (n[1] == "mmaplock_wait_seconds_count") wc += $2
		if (n[1] == "mmaplock_wait_seconds_sum") ws += ns($2)
		if (n[1] == "mmaplock_hold_seconds_count") hc += $2
		if (n[1] == "mmaplock_hold_seconds_sum") hs += ns($2)
	}
	END { printf "%d %d %d %d %d %d\n", acq, fl, wc, ws, hc, hs }' $tmp/md)
# key,acquisitions_read,acquisitions_write,failed,contended,downgrades,wait_ns_count,wait_ns_total,...,hold_ns_count,hold_ns_total
rf=$(awk -F, -v k="/$D" '$1 == k { printf "%d %d %d %d %d %d\n", $2 + $3, $4, $7, $8, $13, $14 }' $tmp/d.csv)
xl=$(awk -v l0="$xl0" '$1 == "mmaplock_lost_events_total" { print $2 - l0 }' $tmp/md)
rl=$(sed -n 's/.*events, \([0-9]*\) lost.*/\1/p' $tmp/d.err)
if [ "$xl" != 0 ] || [ "$rl" != 0 ]; then
	echo "note exact comparison not possible: lost events meanwhile (exporter $xl, record $rl)"
elif [ -n "$rf" ] && echo "$xf $rf" | awk '{
	# counts exact; ns totals within 10%: each tracefs instance stamps an event
	# itself, so two recordings of one run differ by a little (two `record`s
	# of one stress: 0.2 to 0.7%; more when interrupts land between the writes)
	exit !($1 == $7 && $2 == $8 && $3 == $9 && $5 == $11 && $1 > 1000 &&
	       $4 > 0.9 * $10 && $4 < 1.1 * $10 && $6 > 0.9 * $12 && $6 < 1.1 * $12) }'; then
	ok "exporter vs record -G for /$D: acq failed waits wait_ns holds hold_ns: $xf / $rf"
else
	bad "exporter vs record -G for /$D: exporter '$xf', record '$rf' $(cat $tmp/d.err $tmp/d.rep)"
fi
rmdir $CG/$D || bad "could not remove $D"

# the alert rules of docs/EXPORTER.md
if [ -n "${MMAPLOCK_SRC:-}" ] || [ -f docs/EXPORTER.md ]; then
	doc=${MMAPLOCK_SRC:-.}/docs/EXPORTER.md
	awk '/<!-- rules-end -->/ { on = 0 } on && !/^```/ { print } /<!-- rules-begin -->/ { on = 1 }' $doc >$tmp/rules.yml
	promtool check rules $tmp/rules.yml >$tmp/rules.out 2>&1 && grep -q "SUCCESS: 2 rules found" $tmp/rules.out &&
		ok "promtool check rules: the two alert rules of docs/EXPORTER.md" ||
		bad "promtool check rules docs/EXPORTER.md: $(cat $tmp/rules.out)"
	# and they evaluate against the live data
	prom_query "histogram_quantile(0.99, sum by (instance, memcg, le) (rate(mmaplock_wait_seconds_bucket[5s])))" >$tmp/q4.json
	[ "$(jq -r '.status' $tmp/q4.json)" = success ] && ok "the alert's quantile expression evaluates" ||
		bad "alert expression: $(head -c 300 $tmp/q4.json)"
fi

# ---- SIGTERM
kill -TERM $xp
i=0
while [ $i -lt 50 ] && kill -0 $xp 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
wait $xp
rc=$?
[ $rc -eq 0 ] && ok "SIGTERM: exit 0" || bad "SIGTERM: exit $rc: $(cat $tmp/x.err)"
[ -e $T/instances/mmaplock-$xp ] && bad "SIGTERM: instance mmaplock-$xp left" || ok "SIGTERM: no instance left"
curl -s --max-time 2 http://127.0.0.1:$port/metrics >/dev/null && bad "SIGTERM: port $port still open" ||
	ok "SIGTERM: port $port closed"
xp=
exit $fail
