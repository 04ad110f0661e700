#!/bin/sh
# exporter.sh: `mmaplock exporter` against a real Prometheus. Two memory
# cgroups run `mmaplock stress` (a third one appears and disappears
# meanwhile); Prometheus, started here on loopback and scraping the
# exporter every second, must return mmaplock_acquisitions_total for both
# cgroup paths, rising between two scrapes, and a histogram_quantile over
# mmaplock_wait_seconds_bucket that evaluates. `promtool check metrics`
# must accept the exposition and the --textfile output. SIGTERM: exit 0,
# no tracefs instance left, port closed. All on 127.0.0.1, about 30 s.
set -u
M=${MMAPLOCK:-build/mmaplock}
T=/sys/kernel/tracing
CG=/sys/fs/cgroup/memory
[ "$(id -u)" -eq 0 ] || { echo "exporter.sh: skipped: needs root"; exit 77; }
[ -d $T/events/mmap_lock ] || { echo "exporter.sh: skipped: no tracefs mmap_lock events"; exit 77; }
[ -w $CG ] || { echo "exporter.sh: skipped: no cgroup v1 memory hierarchy at $CG"; exit 77; }
for c in prometheus promtool curl jq python3; do
	command -v $c >/dev/null || { echo "exporter.sh: skipped: $c missing (scripts/bootstrap.sh)"; exit 77; }
done

tmp=$(mktemp -d /tmp/mml-exporter.XXXXXX)
A=mmltest-xa-$$
B=mmltest-xb-$$
C=mmltest-xc-$$
xp= pp= sa= sb=
cleanup() {
	for p in $xp $pp $sa $sb; do kill $p 2>/dev/null; done
	for p in $xp $pp $sa $sb; do wait $p 2>/dev/null; done
	rmdir $CG/$A $CG/$B $CG/$C 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
fail=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
q() {	# instant query $1 -> JSON on stdout
	curl -s --max-time 5 "http://127.0.0.1:$pport/api/v1/query" --data-urlencode "query=$1"
}
mkdir $CG/$A $CG/$B || { echo "exporter.sh: cannot create memory cgroups"; exit 1; }

# ---- bad options: one line, exit 2
for args in "--listen nonsense" "--listen 127.0.0.1:99999" "--listen 300.1.1.1:1" "--max-series x" "-i 0" "--textfile /nonexistent/dir"; do
	# shellcheck disable=SC2086
	"$M" exporter $args >$tmp/o 2>$tmp/e
	rc=$?
	[ $rc -eq 2 ] && [ "$(wc -l <$tmp/e)" -eq 1 ] && ok "exporter $args: exit 2, $(cat $tmp/e)" ||
		bad "exporter $args: exit $rc: $(cat $tmp/e)"
done

# ---- the exporter
mkdir $tmp/tf
"$M" exporter --listen 127.0.0.1:0 -i 0.5 --textfile $tmp/tf 2>$tmp/x.err &
xp=$!
i=0
port=
while [ $i -lt 50 ] && [ -z "$port" ]; do
	port=$(sed -n 's|.*serving http://127.0.0.1:\([0-9]*\)/metrics.*|\1|p' $tmp/x.err)
	[ -z "$port" ] && sleep 0.1
	i=$((i + 1))
done
[ -n "$port" ] || { echo "FAIL exporter did not start: $(cat $tmp/x.err)"; exit 1; }
# a port in use: a one-line error, exit 1
"$M" exporter --listen 127.0.0.1:$port >/dev/null 2>$tmp/e2
rc=$?
[ $rc -eq 1 ] && grep -q "in use" $tmp/e2 && ok "port in use: $(cat $tmp/e2)" || bad "port in use: exit $rc $(cat $tmp/e2)"

sh -c "echo \$\$ > $CG/$A/cgroup.procs; exec \"$M\" stress -d 14" >/dev/null 2>&1 &
sa=$!
sh -c "echo \$\$ > $CG/$B/cgroup.procs; exec \"$M\" stress -t 3 -d 14" >/dev/null 2>&1 &
sb=$!

pport=$(freeport)
cat >$tmp/prometheus.yml <<EOC
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: mmaplock
    static_configs:
      - targets: ['127.0.0.1:$port']
EOC
prometheus --config.file=$tmp/prometheus.yml --storage.tsdb.path=$tmp/data \
	--web.listen-address=127.0.0.1:$pport --log.level=warn >$tmp/prom.log 2>&1 &
pp=$!

# a memcg that appears and disappears during the run
sleep 1
mkdir $CG/$C && sh -c "echo \$\$ > $CG/$C/cgroup.procs; exec \"$M\" stress -d 1" >/dev/null 2>&1
rmdir $CG/$C || bad "could not remove $C"

# both cgroup paths in Prometheus
i=0
while [ $i -lt 20 ]; do
	q "mmaplock_acquisitions_total{memcg=~\"/$A|/$B\"}" >$tmp/q1.json
	n=$(jq -r '[.data.result[].metric.memcg] | unique | length' $tmp/q1.json 2>/dev/null)
	[ "$n" = 2 ] && break
	sleep 0.5
	i=$((i + 1))
done
[ "$n" = 2 ] && ok "prometheus: mmaplock_acquisitions_total for /$A and /$B" ||
	bad "prometheus: series for both cgroups: $(head -c 600 $tmp/q1.json) $(tail -5 $tmp/prom.log)"
v1=$(q "sum(mmaplock_acquisitions_total{memcg=\"/$A\"})" | jq -r '.data.result[0].value[1] // 0')
sleep 2.5
v2=$(q "sum(mmaplock_acquisitions_total{memcg=\"/$A\"})" | jq -r '.data.result[0].value[1] // 0')
awk -v a="$v1" -v b="$v2" 'BEGIN { exit !(b > a && a > 0) }' && ok "prometheus: /$A rises between scrapes: $v1 -> $v2" ||
	bad "prometheus: not rising: $v1 -> $v2"
q "histogram_quantile(0.99, sum by (le) (rate(mmaplock_wait_seconds_bucket{memcg=\"/$B\"}[5s])))" >$tmp/q3.json
hq=$(jq -r '.data.result[0].value[1] // "none"' $tmp/q3.json)
awk -v v="$hq" 'BEGIN { exit !(v + 0 > 0 && v + 0 < 20) }' && ok "prometheus: histogram_quantile(0.99) of /$B wait: $hq s" ||
	bad "prometheus: histogram_quantile: $(cat $tmp/q3.json)"

# the exposition itself
curl -s --max-time 5 http://127.0.0.1:$port/metrics >$tmp/metrics
promtool check metrics <$tmp/metrics >$tmp/lint 2>&1 && ok "promtool check metrics: exposition accepted ($(wc -l <$tmp/metrics) lines)" ||
	bad "promtool check metrics: $(cat $tmp/lint)"
grep -q "memcg=\"/$C\"" $tmp/metrics && ok "the vanished memcg /$C keeps its series" || bad "/$C not in the exposition"
curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$port/nothing >$tmp/code
[ "$(cat $tmp/code)" = 404 ] && ok "unknown path: 404" || bad "unknown path: $(cat $tmp/code)"
if [ -f $tmp/tf/mmaplock.prom ] && promtool check metrics <$tmp/tf/mmaplock.prom >$tmp/lint2 2>&1 &&
   grep -q "memcg=\"/$A\"" $tmp/tf/mmaplock.prom && [ "$(ls -A $tmp/tf)" = mmaplock.prom ]; then
	ok "--textfile: mmaplock.prom accepted by promtool, no temporary file left"
else
	bad "--textfile: $(ls -A $tmp/tf) $(cat $tmp/lint2 2>/dev/null)"
fi

# the alert rules of docs/EXPORTER.md
if [ -n "${MMAPLOCK_SRC:-}" ] || [ -f docs/EXPORTER.md ]; then
	doc=${MMAPLOCK_SRC:-.}/docs/EXPORTER.md
	awk '/<!-- rules-end -->/ { on = 0 } on && !/^```/ { print } /<!-- rules-begin -->/ { on = 1 }' $doc >$tmp/rules.yml
	promtool check rules $tmp/rules.yml >$tmp/rules.out 2>&1 && grep -q "SUCCESS: 2 rules found" $tmp/rules.out &&
		ok "promtool check rules: the two alert rules of docs/EXPORTER.md" ||
		bad "promtool check rules docs/EXPORTER.md: $(cat $tmp/rules.out)"
	# and they evaluate against the live data
	q "histogram_quantile(0.99, sum by (instance, memcg, le) (rate(mmaplock_wait_seconds_bucket[5s])))" >$tmp/q4.json
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
