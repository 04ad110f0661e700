#!/bin/sh
# check-man.sh: runs scripts/check-man.sh against this build tree.
exec sh "${MMAPLOCK_SRC:-.}/scripts/check-man.sh" "${MMAPLOCK_BUILD:-build}"
