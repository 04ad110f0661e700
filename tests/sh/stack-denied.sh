#!/bin/sh
# stack-denied.sh: `record --stack` where the kernel refuses the stacktrace
# trigger (a locked-down kernel answers EPERM). The refusal is injected by
# interposing tracefs_instance_file_write (LD_PRELOAD shim: writes to a
# trigger file fail with EPERM, everything else goes through), since root
# cannot be denied a tracefs write here otherwise. Expected: exactly one
# warning line naming the trigger, the recording completes with its events
# and no stacks, exit 0, no instance left.
set -u
. "$(dirname "$0")/lib.sh"
need root tracefs
CC=${CC:-cc}
command -v $CC >/dev/null || skip "no C compiler for the shim"
ldd "$M" 2>/dev/null | grep -q libtracefs || skip "libtracefs linked statically, no shim possible"

scratch sdeny
ls $T/instances | grep '^mmaplock-' | sort >$tmp/inst.before

cat > $tmp/shim.c <<'C'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <string.h>
struct tracefs_instance;
int tracefs_instance_file_write(struct tracefs_instance *ti, const char *file, const char *str)
{
	static int (*real)(struct tracefs_instance *, const char *, const char *);
	size_t n = strlen(file);

	if (n >= 7 && !strcmp(file + n - 7, "trigger")) {
		errno = EPERM;
		return -1;
	}
	if (!real)
		real = (int (*)(struct tracefs_instance *, const char *, const char *))
			dlsym(RTLD_NEXT, "tracefs_instance_file_write");
	return real(ti, file, str);
}
C
$CC -shared -fPIC -o $tmp/shim.so $tmp/shim.c -ldl || { echo "FAIL: cannot build the shim"; exit 1; }

LD_PRELOAD=$tmp/shim.so "$M" record --stack --buffer-size 32768 -o $tmp/d.mml -- "$M" stress -d 0.5 >/dev/null 2>$tmp/err
rc=$?
cat $tmp/err
[ $rc -eq 0 ] || { echo "FAIL: record exit $rc"; fail=1; }
[ "$(grep -c -- '--stack' $tmp/err)" -eq 1 ] || { echo "FAIL: expected one --stack warning line"; fail=1; }
grep -q 'cannot set the stacktrace trigger.*Operation not permitted.*recording without stacks' $tmp/err ||
	{ echo "FAIL: the warning does not name the trigger and the reason"; fail=1; }
grep -q ' lost, written to' $tmp/err || { echo "FAIL: the recording did not complete"; fail=1; }
grep -q 'stacks (' $tmp/err && { echo "FAIL: a stack summary without stacks"; fail=1; }
ev=$(sed -n 's/.*record: \([0-9]*\) events.*/\1/p' $tmp/err)
[ "${ev:-0}" -gt 0 ] || { echo "FAIL: no events recorded"; fail=1; }
"$M" report --stacks $tmp/d.mml > $tmp/r.txt 2>&1 || { echo "FAIL: report of it failed"; fail=1; }
grep -q 'no kernel stacks in this trace' $tmp/r.txt || { echo "FAIL: report should say there are no stacks"; fail=1; }
# ours only: another mmaplock (an exporter, say) may be running on the machine
ls $T/instances | grep '^mmaplock-' | sort >$tmp/inst.after
comm -13 $tmp/inst.before $tmp/inst.after | grep -q . && { echo "FAIL: an instance was left behind"; fail=1; }
[ $fail -eq 0 ] && echo "stack-denied.sh: ok"
exit $fail
