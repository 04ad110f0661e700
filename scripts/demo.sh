#!/bin/sh
# demo.sh BUILD: the README's main job. Records the built-in contention
# workload (a writer, a mincore reader, a /proc/self/smaps reader) with the
# kernel's mmap_lock tracepoints and the lock takers' kernel stacks, and
# prints the report with the top three stacks by wait and by hold time.
set -eu
build=${1:-build}
if [ -x "$build/mmaplock" ] && [ "$(id -u)" -eq 0 ]; then
	exec "$build/mmaplock" stat --stack --stacks=3 -- "$build/mmaplock" stress -t 3 -d 5
fi
# Without root (or without the tool) show the library side: the example
# program traced by libmmaplock's own text listener.
exec "$build/examples/example-basic"
