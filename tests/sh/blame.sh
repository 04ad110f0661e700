#!/bin/sh
# blame.sh: `mmaplock report --by holder` end to end on tests/fixtures/blame.txt
# (ftrace text, memcg_path era), whose overlaps are known:
#   writer[300] holds mm A for write [11, 61] us; victim[400] waits [20, 61]
#   and victim2[401] waits [30, 61]: 41 + 31 = 72 us on writer (write).
#   victim[400] and victim2[401] then hold for read [61, 100] and [61, 90];
#   victim3[402] waits for write [70, 100]: 30 us on victim, 20 us on victim2
#   (a hold that closed during the wait). killed[403]'s wait [105, 108]
#   (answered with failure) overlaps victim3's write hold [100, 110]: 3 us.
#   writer's own wait [10, 11] and alone[500]'s wait on another mm have no
#   holder: unblamed.
set -u
. "$(dirname "$0")/lib.sh"
F=${MMAPLOCK_SRC:?}/tests/fixtures
need python3
scratch blame

"$M" report --by holder --json "$F/blame.txt" >"$tmp/b.json" || bad "report --by holder --json: exit $?"
python3 - "$tmp/b.json" <<'PY' || bad "JSON figures"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["by"] == "holder" and d["events"] == 17, d
assert d["waits"] == {"count": 6, "total_ns": 111000, "unblamed": 2, "lost": 0}, d["waits"]
assert d["dropped_holds"] == 0
g = [(x["key"], x["blamed_ns"], x["blamed_write_ns"], x["blamed_read_ns"], x["waits"]) for x in d["groups"]]
assert g == [("writer[300]", 72000, 72000, 0, 2), ("victim[400]", 30000, 0, 30000, 1),
             ("victim2[401]", 20000, 0, 20000, 1), ("victim3[402]", 3000, 3000, 0, 1)], g
assert all(x["cgroup"] is None for x in d["groups"])
assert d["groups"][0]["victims"] == [{"memcg": "/victim", "blamed_ns": 72000, "waits": 2}]
assert d["pairs"] == [{"holder_cgroup": "?", "victim_memcg": "/victim", "blamed_ns": 125000, "waits": 5}], d["pairs"]
PY

"$M" report --by holder --csv --top 2 "$F/blame.txt" >"$tmp/b.csv" || bad "--csv: exit $?"
printf 'holder,tid,holder_cgroup,victim_memcg,blamed_ns,waits\nwriter[300],300,?,/victim,72000,2\nvictim[400],400,?,/victim,30000,1\n' |
	cmp -s - "$tmp/b.csv" || { bad "CSV"; cat "$tmp/b.csv"; }

"$M" report --by holder "$F/blame.txt" >"$tmp/b.txt" || bad "table: exit $?"
grep -q '^writer\[300\] .* 72\.000 .* 72\.000 .* 0\.000 .* 2$' "$tmp/b.txt" || { bad "table row"; cat "$tmp/b.txt"; }

"$M" report --by holder --hist "$F/blame.txt" >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] || bad "--by holder --hist: not exit 2 with one line"
"$M" report --by nobody "$F/blame.txt" >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] && grep -q holder "$tmp/err" || bad "--by nobody"
exit $fail
