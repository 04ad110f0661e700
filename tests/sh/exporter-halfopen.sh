#!/bin/sh
# exporter-halfopen.sh: one client cannot blind the monitoring. 200 idle
# connections from 127.0.0.2 (established, no request: what a broken or
# hostile client leaves behind) are held open against `mmaplock exporter`;
# meanwhile scrapes from 127.0.0.1 must all succeed, each within 100 ms
# (the figures are printed; the 100 ms bound is the issue's), and the
# exporter's resident memory must stay bounded (less than 64 MiB more than
# before). A second wave (the client re-opening its connections) must not
# change that either. Before the per-address limit, the 65th connection
# was reset and every scrape failed until the idle ones timed out.
set -u
. "$(dirname "$0")/lib.sh"
need root tracefs python3
scratch halfopen
xp=
at_exit 'stop $xp'

"$M" exporter --listen 127.0.0.1:0 --backend tracefs 2>$tmp/x.err &
xp=$!
port=$(wait_port $tmp/x.err) || { echo "FAIL exporter did not start: $(cat $tmp/x.err)"; exit 1; }

python3 - "$port" "$xp" <<'PY'
import socket, sys, time
port, pid = int(sys.argv[1]), int(sys.argv[2])

def rss_kib():
    for l in open(f"/proc/{pid}/status"):
        if l.startswith("VmRSS:"):
            return int(l.split()[1])
    return -1

def scrape():
    """GET /metrics from 127.0.0.1: (ok, seconds, detail)."""
    t0 = time.monotonic()
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=2)
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
        s.close()
        dt = time.monotonic() - t0
        ok = data.startswith(b"HTTP/1.1 200") and b"mmaplock_events_total" in data
        return ok, dt, data[:40]
    except OSError as e:
        return False, time.monotonic() - t0, repr(e)

def hold(n):
    """n established, idle connections from 127.0.0.2."""
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.2", 0))
        try:
            s.connect(("127.0.0.1", port))
        except OSError:
            pass
        socks.append(s)
    return socks

fail = 0
ok, dt, d = scrape()
print(("ok  " if ok else "FAIL") + f" scrape before: {dt*1000:.1f} ms {d if not ok else ''}")
fail |= not ok
rss0 = rss_kib()
for wave in (1, 2):
    socks = hold(200)
    time.sleep(0.3)
    lat, bad = [], []
    for i in range(10):
        ok, dt, d = scrape()
        lat.append(dt)
        if not ok:
            bad.append(d)
        time.sleep(0.1)
    lat.sort()
    slow = [x for x in lat if x > 0.100]
    print(("ok  " if not bad and not slow else "FAIL") +
          f" wave {wave}: 200 idle connections from 127.0.0.2 held; 10 scrapes from 127.0.0.1: "
          f"{10 - len(bad)} served, median {lat[4]*1000:.1f} ms, max {lat[-1]*1000:.1f} ms"
          + (f", failures: {bad[:2]}" if bad else "") + (f", {len(slow)} over 100 ms" if slow else ""))
    fail |= bool(bad or slow)
    rss = rss_kib()
    grew = rss - rss0
    print(("ok  " if grew < 65536 else "FAIL") + f" wave {wave}: exporter RSS {rss0} -> {rss} KiB")
    fail |= grew >= 65536
    for s in socks:
        s.close()
sys.exit(1 if fail else 0)
PY
rc=$?
kill -TERM $xp
wait $xp
xrc=$?
xp=
[ $xrc -eq 0 ] && echo "ok   SIGTERM: exit 0" || { echo "FAIL SIGTERM: exit $xrc: $(cat $tmp/x.err)"; rc=1; }
exit $rc
