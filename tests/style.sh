#!/usr/bin/env bash
# The kernel code is clean under checkpatch --strict and builds without
# warnings at W=1 (both through `make style`).
source "$(dirname "$0")/lib.sh"

out=$(make -s -C "$TESTS_DIR/.." style 2>&1)
RET=$?
[ $RET -eq 0 ] || RETMSG=$(grep -E 'ERROR|WARNING|CHECK|warning:|error:' <<<"$out" | head -n 5)
[ $RET -eq 0 ] || [ -n "$RETMSG" ] || RETMSG=$(tail -n 3 <<<"$out")
log_test "make style: checkpatch --strict and W=1 build clean"
exit $EXIT_STATUS
