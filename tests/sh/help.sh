#!/bin/sh
# help.sh: every command's --help text and man page (docs/man/mmaplock-CMD.1)
# against the options the command really parses, as the binary tells them
# (`mmaplock CMD --list-options` prints the getopt table it parses with):
#   1. every option of the table is named in the help text and in the man
#      page (--help/-h aside: every command has them);
#   2. every option the help text or the man page names is in the table of
#      the command it is written for (`mmaplock report --stacks` in record's
#      help is report's), and the binary accepts it: `mmaplock X OPT=1 --help`
#      does not call it unknown;
#   3. stat's help does not give mmaplock.data as its recording;
#   4. a bad option gets its one line, naming it, and exit 2: a value given
#      to an option that takes none ("--json=1: takes no value"), an
#      option the command does not have;
#   5. so does an empty file name ('-o ""', 'report ""');
#   6. a number out of range is answered with the range, written out;
#   7. no example gives a glob to a command that reads one input file.
# No root needed: nothing here records.
set -u
M=${MMAPLOCK:-build/mmaplock}
SRC=${MMAPLOCK_SRC:-.}
tmp=$(mktemp -d /tmp/mml-help.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail=0
no() { echo "FAIL $1"; fail=1; }

cmds=$("$M" --help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }')
[ -n "$cmds" ] || { echo "FAIL: mmaplock --help lists no commands"; exit 1; }

# "OWNER OPTION" for each option named in a text: OWNER is the command the
# text is about (def), or the command named just before on the same line
# ("mmaplock report --by", "(record --stack)"); after a lone "--", "perf" or
# "trace-cmd" the words are CMD's or that tool's until the next "mmaplock X".
tokens() {
	awk -v cmds="$cmds" -v def="$1" '
	BEGIN { n = split(cmds, c, " "); for (i = 1; i <= n; i++) iscmd[c[i]] = 1 }
	function opt(w) {
		# dots inside a name (--web.config.file, as the exporter-toolkit spells it), not at its end
		if (match(w, /^--[A-Za-z][A-Za-z0-9-]*(\.[A-Za-z0-9-]+)*/)) return substr(w, 1, RLENGTH)
		if (match(w, /^-[A-Za-z]/) && substr(w, 3, 1) !~ /[A-Za-z]/) return substr(w, 1, 2)
		return ""
	}
	{
		owner = def
		nw = split($0, w, /[ \t]+/)
		for (i = 1; i <= nw; i++) {
			x = w[i]
			gsub(/^[[(|"'\'']+/, "", x)
			gsub(/[])|,.;:"'\'']+$/, "", x)
			if (x == "--" || x ~ /^(perf|trace-cmd)/) {
				owner = ""	# CMD or another tool: its options are not ours
				continue
			}
			if (iscmd[x] && (w[i - 1] == "mmaplock" ||
			    (opt(w[i + 1]) != "" && w[i - 1] !~ /^(perf|trace-cmd)/))) {
				owner = x
				continue
			}
			o = opt(x)
			if (o != "" && owner != "")
				print owner, o
		}
	}'
}

# a man page as text: comments and macros dropped, \- and fonts undone
untroff() {
	sed -e '/^\.\\"/d' -e 's/^\.[A-Za-z]*//' -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' \
	    -e 's/\\(em/ /g' -e 's/\\e/\\/g' -e 's/"/ /g' "$1"
}

for c in $cmds; do
	if ! "$M" $c --list-options >$tmp/$c.opts 2>$tmp/err || [ ! -s $tmp/$c.opts ]; then
		no "$c --list-options: $(cat $tmp/err)"
		continue
	fi
	# the table's options by name: --long and -s
	awk '{ print $1 } $3 != "" { print $3 }' $tmp/$c.opts | sort -u >$tmp/$c.known
done

for c in $cmds; do
	[ -s $tmp/$c.known ] || continue
	"$M" $c --help >$tmp/$c.help 2>$tmp/err || no "$c --help: exit $?: $(cat $tmp/err)"
	tokens $c <$tmp/$c.help | sort -u >$tmp/$c.help.tok
	page=$SRC/docs/man/mmaplock-$c.1
	if [ -f "$page" ]; then
		untroff "$page" | tokens $c | sort -u >$tmp/$c.man.tok
	else
		no "$c: no man page $page"
		: >$tmp/$c.man.tok
	fi
	# 1. the table's options are all named
	for o in $(grep -vx -e --help -e -h $tmp/$c.known); do
		grep -qx -- "$c $o" $tmp/$c.help.tok || no "$c accepts $o but its --help does not name it"
		grep -qx -- "$c $o" $tmp/$c.man.tok || no "$c accepts $o but mmaplock-$c.1 does not name it"
	done
	# 2. what is named is accepted, by the table and by the binary
	for src in help man; do
		while read -r owner o; do
			if [ ! -s $tmp/$owner.known ] || ! grep -qx -- "$o" $tmp/$owner.known; then
				no "$c $src names $o for $owner, which $owner does not accept"
				continue
			fi
			case $o in
			--help|-h) continue ;;
			--*) set -- "$o=1" ;;
			*) set -- "${o}1" ;;
			esac
			"$M" $owner "$@" --help >/dev/null 2>$tmp/err
			if grep -q -- "$o[=1]*: unknown" $tmp/err; then
				no "$c $src names $o: '$owner $* --help' says: $(cat $tmp/err)"
			fi
		done <$tmp/$c.$src.tok
	done
	echo "ok   $c: $(wc -l <$tmp/$c.known) options; help names $(wc -l <$tmp/$c.help.tok), man page $(wc -l <$tmp/$c.man.tok)"
done

# 3. stat records into a temporary file unless -o is given
if [ -f $tmp/stat.help ] && grep -q "default mmaplock.data" $tmp/stat.help; then
	no "stat --help gives mmaplock.data as the default recording: $(grep "default mmaplock.data" $tmp/stat.help)"
fi
# 4. the one-line errors of bad options (before anything is read or traced)
for c in $cmds; do
	[ -s $tmp/$c.opts ] || continue
	for o in $(awk '$2 == "none" && $1 ~ /^--/ { print $1 }' $tmp/$c.opts); do
		"$M" $c "$o=1" >/dev/null 2>$tmp/err
		rc=$?
		[ $rc -eq 2 ] && [ "$(cat $tmp/err)" = "mmaplock $c: $o=1: takes no value (see --help)" ] ||
			no "$c $o=1: exit $rc: $(cat $tmp/err)"
	done
	"$M" $c --no-such-option >/dev/null 2>$tmp/err
	rc=$?
	[ $rc -eq 2 ] && [ "$(wc -l <$tmp/err)" -eq 1 ] && grep -q "^mmaplock $c: --no-such-option: unknown" $tmp/err ||
		no "$c --no-such-option: exit $rc: $(cat $tmp/err)"
done

# `mmaplock help CMD` is `mmaplock CMD --help`, as git has it
for c in $cmds; do
	[ -f $tmp/$c.help ] || continue
	"$M" help $c >$tmp/out 2>$tmp/err
	rc=$?
	[ $rc -eq 0 ] && cmp -s $tmp/out $tmp/$c.help || no "mmaplock help $c: exit $rc, not $c --help: $(head -2 $tmp/out)"
done
"$M" help no-such-command >$tmp/out 2>$tmp/err
[ $? -eq 2 ] && [ "$(wc -l <$tmp/err)" -eq 1 ] || no "mmaplock help no-such-command: $(cat $tmp/err)"

# 5. an empty file or directory name ("$unset_var") is refused as such, in
#    one line, exit 2, before anything is read, written or traced
for args in "record -o '' -d 0.2" "stat -o '' -d 0.2" "stat -d 0.2 --report ''" \
	    "export $tmp/none.mml --format csv -o ''" "report $tmp/none.mml --html ''" \
	    "report ''" "check ''" "export '' --format csv" "watch -o '' -d 0.2" \
	    "exporter --textfile ''" "exporter --web.config.file ''" "exporter --pods-dir ''" \
	    "exporter --incidents ''" "exporter --listen ''"; do
	eval "timeout 20 \"\$M\" $args" >$tmp/out 2>$tmp/err </dev/null
	rc=$?
	[ $rc -eq 2 ] && [ "$(wc -l <$tmp/err)" -eq 1 ] && grep -q "^mmaplock [a-z]*: .*empty" $tmp/err ||
		no "$args: exit $rc: $(cat $tmp/err)"
done

# 6. a number out of range: the line gives the range the command takes,
#    written out ("1e9" is positive: not "not a positive number"; 3600000,
#    not 3.6e+06)
for args in "record -d 1e9" "stat -d 1e9" "stress -d 1e9" "watch --wait-over 1e9" \
	    "watch --max-disk 0" "exporter --incidents $tmp/i --max-disk 0" \
	    "check $tmp/none.mml --max-hold 1e300"; do
	# shellcheck disable=SC2086
	"$M" $args >$tmp/out 2>$tmp/err </dev/null
	rc=$?
	[ $rc -eq 2 ] && [ "$(wc -l <$tmp/err)" -eq 1 ] && ! grep -q -e 'e+' -e positive $tmp/err ||
		no "$args: exit $rc: $(cat $tmp/err)"
done

# 7. an example hands one file to a command that reads one: a glob
#    (incident-*.mml) in an example of report, check or export fails as
#    soon as it matches two files ("only one input file")
for c in $cmds; do
	for src in help man; do
		if [ $src = help ]; then f=$tmp/$c.help; else f=$tmp/$c.man; untroff "$SRC/docs/man/mmaplock-$c.1" >$f 2>/dev/null; fi
		[ -f $f ] || continue
		sed -e 's/\$([^)]*)//g' -e 's/#.*//' -e 's/|.*//' $f |
			grep -E 'mmaplock (report|check|export) ' | grep -F '*' |
			while read -r l; do echo "FAIL $c $src: an example gives a glob as the one input: $l"; done
	done
done | grep . && fail=1

[ $fail -eq 0 ] && echo "help.sh: ok"
exit $fail
