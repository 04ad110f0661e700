#!/bin/sh
# record-names.sh: every task in a recording of real load has a name.
# `mmaplock stress` runs while `record` records it: plainly, with -G (the
# stress in a memory cgroup of its own), with a record killed by SIGKILL
# in the middle, and through `stat -o`; the plain and killed recordings
# also see a few hundred short-lived processes. In each file, `report --by task`
# and `--by process` print no `?[tid]` row, the JSON keys all carry a comm,
# and the stress process is one row `COMM[PID]` of --by process (its
# threads' tgid is known).
set -u
. "$(dirname "$0")/lib.sh"
need root tracefs jq
scratch names
# A lost event can be a task's exit event, and with it the task's name: a
# buffer that the recorder keeps up with, even a slow (sanitized) build.
B="--buffer-size 32768"
A=mmltest-names-$$
at_exit 'kill ${sp:-} ${rp:-} 2>/dev/null; sleep 0.2'

# Wait until the recorder rp records: its instance has the events on and tracing_on.
started() { wait_recording $rp || bad "recorder $rp never started"; }

# Short-lived processes (each gone before the recorder can read its /proc
# entry, most of the time) alongside the stress.
churn() {
	k=0
	while [ $k -lt 300 ]; do /bin/true; k=$((k + 1)); done
}

# check NAME FILE [STRESSPID]: the names in FILE
check() {
	name=$1 f=$2 spid=${3:-}
	for by in task process; do
		"$M" report --by $by "$f" >$tmp/rep 2>$tmp/rep.err
		rc=$?
		[ $rc -eq 0 ] || [ $rc -eq 3 ] || { bad "$name: report --by $by: exit $rc: $(cat $tmp/rep.err)"; continue; }	# 3: a SIGKILLed file is truncated
		rows=$(grep -c '^[^#G]' $tmp/rep)
		bad=$(grep -c '^?\[' $tmp/rep)
		if [ "$rows" -gt 0 ] && [ "$bad" -eq 0 ]; then
			ok "$name: --by $by: $rows rows, all named"
		else
			bad "$name: --by $by: $bad of $rows rows without a name: $(grep '^?\[' $tmp/rep | cut -c1-20 | tr '\n' ' ')"
		fi
		"$M" report --by $by --json "$f" >$tmp/rep.json 2>/dev/null
		nj=$(jq '[.groups[].key | select(test("^\\?\\[") or (test("\\[") | not))] | length' $tmp/rep.json)
		[ "${nj:-1}" -eq 0 ] && ok "$name: --by $by --json: keys named" || bad "$name: --by $by --json: $nj keys without a name"
	done
	[ -n "$spid" ] || return 0
	"$M" report --by process --json "$f" >$tmp/rep.json 2>/dev/null
	n=$(jq "[.groups[] | select(.key | endswith(\"[$spid]\"))] | length" $tmp/rep.json)
	[ "${n:-0}" -eq 1 ] && ok "$name: the stress is one process row [$spid]" ||
		bad "$name: $n rows mmaplock[$spid] (its threads' tgid lost?): $(jq -c '[.groups[].key]' $tmp/rep.json)"
}

# 1. a plain recording of a stress
"$M" record $B -o $tmp/plain.mml 2>$tmp/rec.err &
rp=$!
started
"$M" stress -t 3 -d 1.5 >/dev/null &
sp=$!
churn
wait $sp
sp_plain=$sp
sp=
kill -INT $rp
wait $rp
rp=
check plain $tmp/plain.mml $sp_plain

# 2. -G: the stress in a memory cgroup of its own
if have cgroup; then
	memcg_make $A
	"$M" record -G /$A $B -o $tmp/g.mml 2>$tmp/rec.err &
	rp=$!
	started
	spawn_in sp $A "$M" stress -t 3 -d 1.5
	wait $sp
	sp_g=$sp
	sp=
	kill -INT $rp
	wait $rp
	rp=
	check "-G" $tmp/g.mml $sp_g
else
	echo "$ME: -G part skipped: $why"
fi

# 3. the recorder killed with SIGKILL while the stress runs
"$M" record $B -o $tmp/k.mml 2>$tmp/rec.err &
rp=$!
started
"$M" stress -t 3 -d 4 >/dev/null &
sp=$!
churn
sleep 0.5
kill -KILL $rp
wait $rp 2>/dev/null
rp=
sp_k=$sp
wait $sp
sp=
check SIGKILL $tmp/k.mml $sp_k

# 4. stat, keeping its recording
"$M" stat $B -o $tmp/s.mml -- "$M" stress -t 3 -d 1 >/dev/null 2>$tmp/stat.err
"$M" report --by process --json $tmp/s.mml >$tmp/rep.json 2>/dev/null
# stat ran the stress itself: its pid is the process of the most write acquisitions
sp_s=$(jq -r '[.groups[] | select(.key | startswith("mmaplock["))] | max_by(.acquisitions.write) | .key' \
	$tmp/rep.json | sed 's/.*\[\([0-9]*\)\]/\1/')
check stat $tmp/s.mml "${sp_s:-0}"

# 5. the kernel's saved_cmdlines has lost every name (it is a small cache
# that a busy machine churns through): the short-lived processes are named
# from their sched_process_exit events. saved_cmdlines is emptied for
# mmaplock alone by an LD_PRELOAD shim over tracefs_instance_file_read.
CC=${CC:-cc}
if command -v $CC >/dev/null && ldd "$M" 2>/dev/null | grep -q libtracefs; then
	cat > $tmp/shim.c <<'C'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
struct tracefs_instance;
char *tracefs_instance_file_read(struct tracefs_instance *ti, const char *file, int *psize)
{
	static char *(*real)(struct tracefs_instance *, const char *, int *);

	if (!strcmp(file, "saved_cmdlines")) {
		if (psize)
			*psize = 0;
		return strdup("");
	}
	if (!real)
		real = (char *(*)(struct tracefs_instance *, const char *, int *))
			dlsym(RTLD_NEXT, "tracefs_instance_file_read");
	return real(ti, file, psize);
}
C
	if $CC -shared -fPIC -o $tmp/shim.so $tmp/shim.c -ldl; then
		# (no stress: this one is about the short-lived processes)
		LD_PRELOAD=$tmp/shim.so "$M" record $B -o $tmp/x.mml 2>$tmp/rec.err &
		rp=$!
		started
		churn
		kill -INT $rp
		wait $rp
		rp=
		echo "record-names.sh: $(cat $tmp/rec.err)"
		check "no saved_cmdlines" $tmp/x.mml
	else
		bad "cannot build the saved_cmdlines shim"
	fi
else
	echo "record-names.sh: saved_cmdlines part skipped: no C compiler, or libtracefs linked statically"
fi

i=0
while ls $T/instances | grep -q '^mmaplock-' && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
exit $fail
