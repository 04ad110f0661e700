# tests/sh/lib.sh: what the end-to-end scripts share. Sourced, never run
# (CMakeLists.txt leaves it out of the tests), right after `set -u`:
#
#	. "$(dirname "$0")/lib.sh"
#	need root tracefs cgroup jq	# or: "NAME.sh: skipped: REASON", exit 77
#	scratch names			# $tmp, removed at exit
#	memcg_make $A			# below $CG, removed at exit
#	spawn_in sp $A "$M" stress -d 2	# in the background, pid in $sp
#	kill_at_exit $sp
#
# It sets ME (the script's name), M (the mmaplock binary), D (the BPF test
# driver), T (tracefs), CG (the cgroup v1 memory hierarchy) and fail=0
# (ok and bad print a check's line; bad sets fail), and owns the EXIT trap: a script registers what it must undo with at_exit,
# kill_at_exit and memcg_make instead of setting a trap of its own. ctest
# counts exit 77 as skipped (SKIP_RETURN_CODE in CMakeLists.txt).

ME=${0##*/}
M=${MMAPLOCK:-build/mmaplock}
D=${MMAPLOCK_BUILD:-build}/tests/bpf-dump
T=/sys/kernel/tracing
CG=/sys/fs/cgroup/memory
fail=0

ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }

# skip REASON: the test cannot run here; ctest counts it as skipped
skip() {
	echo "$ME: skipped: $*"
	exit 77
}

# have WHAT...: status 0 if each WHAT is there, else 1 with the reason in
# $why. root; btf (the kernel's BTF, for BPF); tracefs (its mmap_lock
# events); memcg_id (events that carry memcg ids, not paths); cgroup (a
# writable cgroup v1 memory hierarchy at $CG); bpf (the BPF back-end built
# and loading here); bpftool (on PATH or in /usr/sbin: its path in $BT);
# python3:MODULE; anything else names a command that must be on PATH.
have() {
	for _w; do
		case $_w in
		root) [ "$(id -u)" -eq 0 ] || { why="needs root"; return 1; } ;;
		btf) [ -r /sys/kernel/btf/vmlinux ] || { why="no BTF at /sys/kernel/btf/vmlinux"; return 1; } ;;
		tracefs) [ -d $T/events/mmap_lock ] || { why="no tracefs mmap_lock events"; return 1; } ;;
		memcg_id)
			grep -q memcg_id $T/events/mmap_lock/mmap_lock_acquire_returned/format 2>/dev/null ||
				{ why="the kernel prints memcg paths, not memcg_id"; return 1; } ;;
		cgroup)
			awk -v cg=$CG '$2 == cg && $3 == "cgroup" { f = 1 } END { exit !f }' /proc/mounts &&
				[ -w $CG ] || { why="no cgroup v1 memory hierarchy at $CG"; return 1; } ;;
		bpf)
			[ -x "$D" ] || { why="$D not built"; return 1; }
			"$D" -d 0.1 >/dev/null 2>&1
			[ $? = 77 ] && { why="the BPF back-end does not load here"; return 1; } ;;
		bpftool)
			BT=$(command -v bpftool || echo /usr/sbin/bpftool)
			[ -x "$BT" ] || { why="bpftool missing"; return 1; } ;;
		python3:*)
			python3 -c "import ${_w#python3:}" 2>/dev/null ||
				{ why="python3 module ${_w#python3:} missing (scripts/bootstrap.sh)"; return 1; } ;;
		*) command -v "$_w" >/dev/null || { why="$_w missing (scripts/bootstrap.sh)"; return 1; } ;;
		esac
	done
	return 0
}

# need WHAT...: skip (exit 77, saying why) unless have WHAT...
need() { have "$@" || skip "$why"; }

# ---------------------------------------------------------------- clean-up

_lib_exit= _lib_pids= _lib_cgs=

# at_exit CMD: eval CMD (a string, expanded then) when the script ends,
# before the processes and memcgs go; the latest registered first
at_exit() {
	_lib_exit="$1
$_lib_exit"
}

# kill_at_exit PID...: processes killed (and waited for) when the script ends
kill_at_exit() { _lib_pids="$* $_lib_pids"; }

# signal_wait SIG PID: send SIG to PID and wait for it to end; its exit
# status in rc
signal_wait() {
	kill -$1 $2
	wait $2
	rc=$?
}

# stop PID...: kill them now and wait until they are gone (empty ones ignored)
stop() {
	for _p; do kill $_p 2>/dev/null; done
	for _p; do wait $_p 2>/dev/null; done
}

_lib_cleanup() {
	eval "$_lib_exit"
	# shellcheck disable=SC2086
	stop $_lib_pids
	for _d in $_lib_cgs; do rmdir $_d 2>/dev/null; done	# innermost first
	[ -n "${tmp:-}" ] && rm -rf "$tmp"
	return 0
}
trap _lib_cleanup EXIT
trap 'exit 1' INT TERM HUP

# scratch NAME: tmp, a new directory /tmp/mml-NAME.XXXXXX, removed at exit
scratch() {
	tmp=$(mktemp -d "/tmp/mml-$1.XXXXXX") || { echo "$ME: FAIL: mktemp"; exit 1; }
}

# ---------------------------------------------------------------- memory cgroups

# memcg_make PATH...: memory cgroups PATH (below $CG, parents made where
# missing); whatever this made is removed at exit, innermost first. Exit 1
# with a message when one cannot be made.
memcg_make() {
	for _cg; do
		_p=$CG
		for _part in $(echo "$_cg" | tr / ' '); do
			_p=$_p/$_part
			[ -d $_p ] && continue
			mkdir $_p || { echo "$ME: FAIL: cannot create the memory cgroup $_p"; exit 1; }
			_lib_cgs="$_p $_lib_cgs"
		done
	done
}

# in_memcg PATH CMD...: run CMD inside the memory cgroup PATH (below $CG)
in_memcg() {
	_d=$CG/$1
	shift
	sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$_d" "$@"
}

# spawn_in VAR PATH CMD...: CMD in memcg PATH, in the background, stdout to
# /dev/null; its pid in VAR (the pid of CMD itself: kill $VAR stops it).
# Not killed at exit unless given to kill_at_exit: a pid waited for long
# ago may be another process's by then.
spawn_in() {
	_v=$1 _d=$CG/$2
	shift 2
	sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$_d" "$@" >/dev/null &
	eval "$_v=$!"
}

# ---------------------------------------------------------------- waiting

# wait_port FILE [SCHEME]: the port that an exporter logging to FILE
# announces ("serving SCHEME://127.0.0.1:PORT/metrics", SCHEME http by
# default), on stdout, within 10 s; status 1 if it never does
wait_port() {
	_i=0
	while [ $_i -lt 100 ]; do
		_port=$(sed -n "s|.*serving ${2:-http}://127.0.0.1:\([0-9]*\)/metrics.*|\1|p" "$1" 2>/dev/null)
		[ -n "$_port" ] && { echo "$_port"; return 0; }
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

# freeport: a TCP port of 127.0.0.1 free at the moment
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# prom_start: a Prometheus on a free port of 127.0.0.1 ($pport) with the
# configuration $tmp/prometheus.yml, its data and log (prom.log) in $tmp;
# its pid in pp (stop it, or give it to at_exit)
prom_start() {
	pport=$(freeport)
	prometheus --config.file=$tmp/prometheus.yml --storage.tsdb.path=$tmp/data \
		--web.listen-address=127.0.0.1:$pport --log.level=warn >$tmp/prom.log 2>&1 &
	pp=$!
}

# prom_query EXPR: an instant query to that Prometheus, JSON on stdout
prom_query() { curl -s --max-time 5 "http://127.0.0.1:$pport/api/v1/query" --data-urlencode "query=$1"; }

# bcrypt PASSWORD [PREFIX]: a bcrypt hash of PASSWORD (cost 8, PREFIX $2b$
# unless given), made by libcrypt through python3's ctypes
bcrypt() {
	python3 - "$1" "${2:-\$2b\$}" <<'PY'
import ctypes, sys
c = ctypes.CDLL("libcrypt.so.1")
c.crypt_gensalt.restype = c.crypt.restype = ctypes.c_char_p
c.crypt_gensalt.argtypes = [ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p, ctypes.c_int]
c.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
print(c.crypt(sys.argv[1].encode(), c.crypt_gensalt(sys.argv[2].encode(), 8, None, 0)).decode())
PY
}

# wait_recording PID: until `mmaplock record` PID records (its instance has
# the mmap_lock events on and tracing_on); status 1 after 20 s
wait_recording() {
	_i=0
	until [ "$(cat $T/instances/mmaplock-$1/events/mmap_lock/enable 2>/dev/null)" = 1 ] &&
	      [ "$(cat $T/instances/mmaplock-$1/tracing_on 2>/dev/null)" = 1 ]; do
		[ $_i -lt 400 ] || return 1
		sleep 0.05
		_i=$((_i + 1))
	done
}

# wait_attached PID ERRFILE: until bpf-dump PID (stderr in ERRFILE) says its
# programs are attached; status 1 if it exits first or takes over 10 s
wait_attached() {
	_i=0
	until grep -q attached "$2" 2>/dev/null; do
		kill -0 $1 2>/dev/null && [ $_i -lt 200 ] || return 1
		sleep 0.05
		_i=$((_i + 1))
	done
}

# dump_start OUT ERR CMD...: CMD (bpf-dump "$D", perhaps behind `env VAR=...`)
# in the background, stdout to OUT and stderr to ERR, its pid in dp, until
# attached; status 1 after a FAIL line (the dump stopped, dp empty) when it
# never attaches
dump_start() {
	_o=$1 _e=$2
	shift 2
	"$@" >"$_o" 2>"$_e" &
	dp=$!
	wait_attached $dp "$_e" && return 0
	bad "$* never attached: $(cat "$_e")"
	stop $dp
	dp=
	return 1
}

# ---------------------------------------------------------------- watch

# stall SECONDS: `mmaplock stress --stall 200` (a thread holding the
# mmap_lock for write 200 ms at a time, one mincore reader behind it) in
# memcg $G for SECONDS, in the background; its pid in spid (stopped at exit)
stall() {
	sh -c "echo \$\$ > $CG/$G/cgroup.procs; exec \"$M\" stress --stall 200 -t 1 -d $1" >/dev/null 2>&1 &
	spid=$!
	[ -n "${_lib_stall:-}" ] || at_exit 'stop $spid'
	_lib_stall=1
}

# check_stall_incident JSON DIR BACKEND: the incident lines (file JSON) and
# files (in DIR) of `mmaplock watch --wait-over 50 --json` over `stress
# --stall 200` in memcg $G. The line checked is the first of a reader
# waiting behind the stall thread (stress-stall): on a loaded machine a
# stress reader can be preempted while it holds the lock, and the stall
# thread's own write wait behind it is an incident too. It must be a wait
# over 50 ms made by BACKEND, the thread its first holder (for write, a
# stack in the mmap path), the waiter's stack in mincore, both one process
# in $G; one file a line in DIR, no temporary left; the file an ordinary
# recording (`report --by holder` blames the thread first, check and
# report --stacks read it; its END block and the line's "events" count its
# events without the stack events: end_events). Sets n (lines), line, j (jq
# on line) and file; bad for each miss; exit 1 with no line or no file.
check_stall_incident() {
	n=$(grep -c '^{' "$1")
	[ "$n" -ge 1 ] || { bad "no incident line: $(cat "${1%.json}.err" 2>/dev/null)"; exit 1; }
	line=$(jq -c 'select(.waiter.comm != "stress-stall" and .holders[0].comm == "stress-stall")' \
		"$1" 2>/dev/null | head -n 1)
	[ -n "$line" ] || line=$(head -n 1 "$1")
	echo "$line" | jq -e . >/dev/null || { bad "not JSON: $line"; exit 1; }
	[ "$(j .backend)" = "$3" ] || bad "backend $(j .backend), not $3"
	[ "$(j .kind)" = wait ] || bad "kind $(j .kind)"
	[ "$(j '.ms > 50')" = true ] || bad "wait of $(j .ms) ms under the threshold"
	[ "$(j '.holders[0].comm')" = stress-stall ] || bad "first holder is not the stall thread: $line"
	[ "$(j '.holders[0].mode')" = write ] || bad "holder mode $(j '.holders[0].mode')"
	j '.holders[0].stack[]' | grep -Eq 'mmap|munmap|populate' ||
		bad "holder stack without the mmap/unmap path: $(j '.holders[0].stack')"
	j '.waiter.stack[]' | grep -q 'mincore' ||
		bad "waiter stack without the reader's mincore path: $(j '.waiter.stack')"
	case "$(j .waiter.memcg)" in
	*/$G) ;;
	*) bad "waiter memcg $(j .waiter.memcg), not .../$G" ;;
	esac
	[ "$(j .waiter.pid)" = "$(j '.holders[0].pid')" ] || bad "waiter and holder are not one process"
	file=$(j .file)
	[ -f "$file" ] || { bad "incident file $file missing"; exit 1; }
	[ "$(ls "$2" | wc -l)" -eq "$n" ] || bad "$n incidents, files in DIR: $(ls -a "$2")"
	ls -a "$2" | grep -q '^\.incident' && bad "a temporary file was left"
	"$M" report --by holder --json "$file" >$tmp/h.json 2>$tmp/h.err ||
		bad "report --by holder: $(cat $tmp/h.err)"
	case "$(jq -r '.groups[0].key' $tmp/h.json)" in
	stress-stall\[*) ;;
	*) bad "report --by holder blames $(jq -r '.groups[0].key' $tmp/h.json) first, not stress-stall" ;;
	esac
	"$M" check "$file" >/dev/null 2>$tmp/c.err; [ $? -le 1 ] || bad "check: $(cat $tmp/c.err)"
	end_events "$file" $(j .events)
	"$M" report --stacks 3 "$file" >$tmp/s.txt 2>&1 || bad "report --stacks"
	grep -q mincore $tmp/s.txt || bad "report --stacks shows no mincore stack"
}
j() { echo "$line" | jq -r "$1"; }

# end_events FILE LINE_EVENTS: FILE (an incident with stacks) ends with an
# END block whose count is its events without the stack events
# (docs/FILE-FORMAT.md), the number report reads as events and the
# incident line's "events" says
end_events() {
	_sz=$(wc -c <"$1")
	_end=none
	[ "$(od -An -tx4 -j $((_sz - 32)) -N4 "$1" | tr -d ' ')" = 4b4c424d ] &&
		[ "$(od -An -tu2 -j $((_sz - 28)) -N2 "$1" | tr -d ' ')" = 6 ] &&
		_end=$(od -An -tu8 -j $((_sz - 16)) -N8 "$1" | tr -d ' ')
	"$M" report --json "$1" >$tmp/end.json 2>/dev/null
	_ev=$(jq .events $tmp/end.json) _st=$(jq .stack_events $tmp/end.json)
	[ "${_st:-0}" -gt 0 ] || bad "incident file without stack events: $(jq -c '{events, stack_events}' $tmp/end.json)"
	[ "$_end" = "$_ev" ] && [ "$2" = "$_ev" ] && ok "END count $_end: the events without the $_st stack events" ||
		bad "END count $_end, the line's events $2; events without stacks $_ev (and $_st stack events)"
}

# ---------------------------------------------------------------- BPF against tracefs

# sides_stop BY: the end of a comparison of the BPF back-end with tracefs:
# bpf-dump ($dp, its JSON in $tmp/bpf.json) stopped with TERM and the
# recorder ($rp, recording $tmp/t.mml) with INT, each must exit 0; the
# recording reported `--json --by BY` into $tmp/tfs.json; neither side may
# have lost an event (else the comparison is void)
sides_stop() {
	signal_wait TERM $dp
	dp=
	[ $rc = 0 ] || bad "bpf-dump exited $rc: $(cat $tmp/bpf.err)"
	signal_wait INT $rp
	rp=
	[ $rc = 0 ] || bad "record exited $rc: $(cat $tmp/rec.err)"
	"$M" report --json --by $1 $tmp/t.mml >$tmp/tfs.json 2>$tmp/tfs.err ||
		bad "report --by $1 of the tracefs side failed: $(cat $tmp/tfs.err)"
	jq -e '.lost_events == 0' $tmp/tfs.json >/dev/null && ok "tracefs lost nothing" ||
		bad "tracefs lost $(jq .lost_events $tmp/tfs.json) events: the comparison is void"
	jq -e '.lost_events == 0' $tmp/bpf.json >/dev/null && ok "bpf lost nothing (map full, state)" ||
		bad "bpf lost events: $(jq -c '{lost_events, unmatched}' $tmp/bpf.json)"
}
