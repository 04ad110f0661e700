#!/bin/sh
# demo.sh BUILD: the README's main job. Records the built-in contention
# workload with the kernel's mmap_lock tracepoints and prints the report.
set -eu
build=${1:-build}
if [ -x "$build/mmaplock" ] && [ "$(id -u)" -eq 0 ]; then
	exec "$build/mmaplock" stat -- "$build/mmaplock" stress -d 5
fi
# Without root (or without the tool) show the library side: the example
# program traced by libmmaplock's own text listener.
exec "$build/examples/example-basic"
