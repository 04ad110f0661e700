#!/bin/sh
# container.sh: pods and containers named as people name them, on real
# memory cgroups. Two pods in the kubelet's two shapes (cgroup v1 memory
# hierarchy, nested under a scratch cgroup as kind and k3s nest them):
#   cgroupfs driver  .../kubepods/burstable/pod<uid1>/<64 hex>           (shop/cart-7d9f)
#   systemd driver   .../kubepods.slice/kubepods-besteffort.slice/
#                    kubepods-besteffort-pod<uid2 with _>.slice/cri-containerd-<id>.scope
#                                                                        (batch/etl-0)
# plus each pod's own cgroup, a fake kubelet pods directory
# (<namespace>_<pod>_<uid>) and `mmaplock stress` in both containers.
# A recording of both, then: report --by pod and --by container name the
# right pods and containers (namespace and pod from the pods directory, short
# ids in the table), the JSON carries the full ids, UID with dashes and QoS;
# the exporter's series of each container carry namespace, pod, pod_uid,
# container_id and qos; top --by pod shows both pods by name; with
# --max-series 1 there are at most three acquisition series and the "other"
# one has no identity labels.
# The cgroups and the stress processes are removed on every way out.
set -u
. "$(dirname "$0")/lib.sh"
need root tracefs cgroup
scratch container
TOP=mmlctr-$$
UID1=6f1c2b9e-0c1d-4f5a-9b2e-3a4b5c6d7e8f
UID2=0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d
U2=$(echo $UID2 | tr - _)
ID1=4f9d0c8e7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d
ID2=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
POD1=$TOP/kubepods/burstable/pod$UID1
A=$POD1/$ID1
POD2=$TOP/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod$U2.slice
B=$POD2/cri-containerd-$ID2.scope
at_exit 'stop ${sa:-} ${sb:-} ${xp:-}; wait'

mkdir -p $tmp/pods/shop_cart-7d9f_$UID1/app $tmp/pods/batch_etl-0_$UID2/etl \
	 $tmp/pods/default_unrelated_11111111-2222-4333-8444-555555555555 $tmp/tf
memcg_make $A $B
spawn_in sa $A "$M" stress -t 3 -d 120
spawn_in sb $B "$M" stress -t 3 -d 120
sleep 0.3

# ---- report
"$M" record -d 2 -o $tmp/t.mml >$tmp/rec.out 2>&1 || { echo "FAIL record: $(cat $tmp/rec.out)"; exit 1; }
R="$M report $tmp/t.mml --pods-dir $tmp/pods"

# by BY KEY...: `report --by BY` exits 0 with one row for each KEY, with acquisitions
by() {
	_by=$1
	shift
	$R --by $_by >$tmp/$_by 2>&1
	_rc=$?
	for _k; do
		n=$(awk -v g=$_k '$1 == g && $2 + $3 > 0 { n++ } END { print n + 0 }' $tmp/$_by)
		[ $_rc -eq 0 ] && [ "$n" -eq 1 ] && ok "report --by $_by: one row $_k with acquisitions" ||
			bad "report --by $_by: exit $_rc, $n rows $_k: $(cat $tmp/$_by)"
	done
}

by pod shop/cart-7d9f batch/etl-0
grep -q "^/$TOP" $tmp/pod && bad "report --by pod: a pod's memcg left as a path: $(grep "^/$TOP" $tmp/pod)"
grep -q unrelated $tmp/pod && bad "report --by pod: a pod without a memcg shown"

by container shop/cart-7d9f/4f9d0c8e7a6b batch/etl-0/0123456789ab

# JSON: full ids, UIDs with dashes, QoS, namespace and pod (exact fields of each group)
$R --by container --json >$tmp/ctr.json 2>&1
for want in \
	"\"key\": \"shop/cart-7d9f/4f9d0c8e7a6b\", \"kind\": \"k8s-container\", \"namespace\": \"shop\", \"pod\": \"cart-7d9f\", \"pod_uid\": \"$UID1\", \"container_id\": \"$ID1\", \"qos\": \"burstable\"," \
	"\"key\": \"batch/etl-0/0123456789ab\", \"kind\": \"k8s-container\", \"namespace\": \"batch\", \"pod\": \"etl-0\", \"pod_uid\": \"$UID2\", \"container_id\": \"$ID2\", \"qos\": \"besteffort\","; do
	grep -qF "$want" $tmp/ctr.json && ok "report --by container --json: ${want%%, \"kind*}, full fields" ||
		bad "report --by container --json: no group $want: $(grep '"key"' $tmp/ctr.json)"
done
# by memcg: the same identity on each container's memcg, in CSV
$R --by memcg --csv >$tmp/mc.csv 2>&1
n=$(grep -c "^/$B,.*,k8s-container,batch,etl-0,$UID2,$ID2,besteffort,\$" $tmp/mc.csv)
[ "$n" -eq 1 ] && ok "report --by memcg --csv: the systemd-driver memcg's identity columns" ||
	bad "report --by memcg --csv: $n rows for /$B with its identity: $(grep -e '^key' -e "$TOP" $tmp/mc.csv)"

# ---- top: one row per pod, named (not a terminal: names in full)
"$M" top -n 2 -i 0.5 --by pod --pods-dir $tmp/pods >$tmp/top 2>$tmp/top.err
rc=$?
for p in shop/cart-7d9f batch/etl-0; do
	n=$(awk -v g=$p '$1 == g && $2 > 0 { n++ } END { print n + 0 }' $tmp/top)
	[ $rc -eq 0 ] && [ "$n" -ge 1 ] && ok "top --by pod: $p in $n of 2 snapshots" ||
		bad "top --by pod: exit $rc, $p in $n snapshots: $(cat $tmp/top $tmp/top.err)"
done

# ---- exporter: labels on every series of the two containers
"$M" exporter --listen 127.0.0.1:0 -i 0.3 --textfile $tmp/tf --pods-dir $tmp/pods 2>$tmp/x.err &
xp=$!
i=0
while [ $i -lt 300 ]; do	# up to 30 s (sanitizer builds start slowly)
	[ -f $tmp/tf/mmaplock.prom ] && grep -q "memcg=\"/$B\"" $tmp/tf/mmaplock.prom &&
		grep -q "memcg=\"/$A\"" $tmp/tf/mmaplock.prom && break
	sleep 0.1
	i=$((i + 1))
done
sleep 0.5
cp $tmp/tf/mmaplock.prom $tmp/m.prom 2>/dev/null || : >$tmp/m.prom
kill $xp 2>/dev/null
wait $xp 2>/dev/null
xp=
check_labels() {	# memcg wanted-labels
	total=$(grep -c "{memcg=\"$1\"," $tmp/m.prom)
	good=$(grep "{memcg=\"$1\",mode=" $tmp/m.prom | grep -cF "$2")
	[ "$total" -gt 0 ] && [ "$good" -eq "$total" ] && ok "exporter: all $total lines of ${1##*/} carry $2" ||
		bad "exporter: $good of $total lines of $1 carry $2: $(grep -m3 "memcg=\"$1\"" $tmp/m.prom; cat $tmp/x.err)"
}
check_labels "/$A" "namespace=\"shop\",pod=\"cart-7d9f\",pod_uid=\"$UID1\",container_id=\"$ID1\",qos=\"burstable\""
check_labels "/$B" "namespace=\"batch\",pod=\"etl-0\",pod_uid=\"$UID2\",container_id=\"$ID2\",qos=\"besteffort\""
for n in mmaplock_acquisitions_total mmaplock_wait_seconds_bucket mmaplock_hold_seconds_count; do
	grep -q "^$n{memcg=\"/$A\",.*pod=\"cart-7d9f\"" $tmp/m.prom && ok "exporter: $n has the pod label" ||
		bad "exporter: $n without the pod label"
done

# cardinality: --max-series 1 keeps one series and "other", which has no identity
"$M" exporter --listen 127.0.0.1:0 -i 0.3 --max-series 1 --textfile $tmp/tf --pods-dir $tmp/pods \
	2>$tmp/x2.err &
xp=$!
rm -f $tmp/tf/mmaplock.prom
i=0
while [ $i -lt 300 ] && ! grep -q 'memcg="other"' $tmp/tf/mmaplock.prom 2>/dev/null; do
	sleep 0.1
	i=$((i + 1))
done
cp $tmp/tf/mmaplock.prom $tmp/m2.prom 2>/dev/null || : >$tmp/m2.prom
kill $xp 2>/dev/null
wait $xp 2>/dev/null
xp=
n=$(grep -c '^mmaplock_acquisitions_total{' $tmp/m2.prom)
o=$(grep '^mmaplock_acquisitions_total{memcg="other"' $tmp/m2.prom | grep -c 'pod\|container_id\|unit=')
[ "$n" -ge 1 ] && [ "$n" -le 3 ] && [ "$o" -eq 0 ] &&
	ok "exporter --max-series 1: $n acquisition series, \"other\" without identity labels" ||
	bad "exporter --max-series 1: $n acquisition series, $o \"other\" with labels: $(grep '^mmaplock_acquisitions_total' $tmp/m2.prom)"
exit $fail
