#!/bin/sh
# fleet-deploy.sh: what deploy/ ships is valid before anyone applies it.
#  - the Prometheus rules: `promtool check rules`, and `promtool test rules`
#    on their unit tests (input series; alerts expected firing and not);
#  - the systemd unit: `systemd-analyze verify` (with the binary under test
#    in ExecStart);
#  - the Kubernetes manifests parse as YAML, the DaemonSet has what the
#    issue asks (host PID, tracefs / cgroupfs / pods-log mounts, a liveness
#    probe on /metrics, resource limits) and its command line is accepted by
#    this mmaplock's option parser; the PodMonitor selects its pods;
#  - the Grafana dashboard is JSON with a PromQL expression on every panel.
# The live half (a Prometheus evaluating every expression) is fleet-prom.sh.
# No root needed.
set -u
M=${MMAPLOCK:-build/mmaplock}
S=${MMAPLOCK_SRC:-.}
D=$S/deploy
fail=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }
tmp=$(mktemp -d /tmp/mml-fleetdep.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
skipped=

if command -v promtool >/dev/null; then
	promtool check rules $D/prometheus/mmaplock-rules.yml >$tmp/o 2>&1 &&
		ok "promtool check rules: $(grep -o 'SUCCESS.*' $tmp/o)" || bad "promtool check rules: $(cat $tmp/o)"
	promtool test rules $D/prometheus/mmaplock-rules.test.yml >$tmp/o 2>&1 &&
		ok "promtool test rules: the alerts fire and stay quiet as the unit tests expect" ||
		bad "promtool test rules: $(cat $tmp/o)"
else
	skipped="$skipped promtool"
fi

if command -v systemd-analyze >/dev/null; then
	mabs=$(cd "$(dirname "$M")" && pwd)/$(basename "$M")
	sed "s|/usr/local/bin/mmaplock|$mabs|" $D/systemd/mmaplock-exporter.service >$tmp/mmaplock-exporter.service
	systemd-analyze verify --man=no $tmp/mmaplock-exporter.service >$tmp/o 2>&1 && [ ! -s $tmp/o ] &&
		ok "systemd-analyze verify mmaplock-exporter.service: clean" || bad "systemd-analyze verify: $(cat $tmp/o)"
	grep -q '^CapabilityBoundingSet=$' $D/systemd/mmaplock-exporter.service &&
		ok "the unit has an empty capability bounding set" || bad "the unit grants capabilities"
else
	skipped="$skipped systemd-analyze"
fi

if python3 -c 'import yaml' 2>/dev/null; then
	: >$tmp/empty.yml
	python3 - "$D" "$M" "$tmp/empty.yml" >$tmp/o 2>&1 <<'PY'
import json, subprocess, sys, yaml
D, M, EMPTY = sys.argv[1], sys.argv[2], sys.argv[3]
bad = []
docs = [d for f in ("daemonset.yaml", "podmonitor.yaml") for d in yaml.safe_load_all(open(f"{D}/kubernetes/{f}"))]
ds = [d for d in docs if d["kind"] == "DaemonSet"][0]
pm = [d for d in docs if d["kind"] == "PodMonitor"][0]
spec = ds["spec"]["template"]["spec"]
c = spec["containers"][0]
if not spec.get("hostPID"):
    bad.append("no hostPID")
mounts = {m["mountPath"] for m in c["volumeMounts"]}
for p in ("/sys/kernel/tracing", "/sys/fs/cgroup", "/var/log/pods"):
    if p not in mounts:
        bad.append(f"no mount of {p}")
hp = {v["hostPath"]["path"] for v in spec["volumes"] if "hostPath" in v}
for p in ("/sys/kernel/tracing", "/sys/fs/cgroup", "/var/log/pods"):
    if p not in hp:
        bad.append(f"no hostPath volume {p}")
lp = c.get("livenessProbe", {}).get("httpGet", {})
if lp.get("path") != "/metrics":
    bad.append("no liveness probe on /metrics")
if "memory" not in c.get("resources", {}).get("limits", {}):
    bad.append("no memory limit")
if pm["spec"]["selector"]["matchLabels"] != ds["spec"]["template"]["metadata"]["labels"]:
    bad.append("the PodMonitor does not select the DaemonSet's pods")
if pm["spec"]["podMetricsEndpoints"][0]["port"] not in [p["name"] for p in c["ports"]]:
    bad.append("the PodMonitor's port is not the container's")
# the command line: its $(VAR)s are the container's env, the option parser accepts it
env = {e["name"] for e in c["env"]}
args = c["args"]
for a in args:
    if a.startswith("$(") and a[2:-1] not in env:
        bad.append(f"{a}: not in the container's env")
probe = [a.replace("$(MMAPLOCK_LISTEN)", "nonsense").replace("$(MMAPLOCK_WEB_CONFIG)", EMPTY) for a in args]
r = subprocess.run([M] + probe, capture_output=True, text=True)
# the first check that fails is --listen's: everything before it parsed
if r.returncode != 2 or "--listen: 'nonsense'" not in r.stderr:
    bad.append(f"the exporter does not parse the DaemonSet's arguments: {r.returncode} {r.stderr.strip()}")
dash = json.load(open(f"{D}/grafana/mmaplock.json"))
n = 0
for p in dash["panels"]:
    for t in p.get("targets", []):
        if not t.get("expr"):
            bad.append(f"panel {p['title']}: a target without expr")
        n += 1
if n < 10:
    bad.append(f"only {n} dashboard expressions")
print("; ".join(bad) if bad else f"{len(docs)} manifests, DaemonSet checked, {n} dashboard expressions")
sys.exit(1 if bad else 0)
PY
	[ $? -eq 0 ] && ok "manifests and dashboard: $(cat $tmp/o)" || bad "manifests and dashboard: $(cat $tmp/o)"
else
	skipped="$skipped python3-yaml"
fi
[ $fail -eq 0 ] && [ -n "$skipped" ] && { echo "fleet-deploy.sh: skipped: missing$skipped (scripts/bootstrap.sh test)"; exit 77; }
exit $fail
