#!/usr/bin/env bash
# A short `make stress` (STRESS_N=3): three round trips (six migrations) under
# flows both ways and a long-lived TCP connection, every one checked
# (scripts/stress says what). The full STRESS_N=20 run is `make stress`.
source "$(dirname "$0")/lib.sh"

N=${STRESS_N:-3}
out=$("$TESTS_DIR/../scripts/stress" -n "$N" 2>&1)
RET=$?
echo "$out" | sed -n '/^ *n  *total_ms/,$p' | sed 's/^/INFO: /'
[ $RET -eq 0 ] && grep -q "^$((2 * N)) of $((2 * N)) migrations" <<<"$out"
check_err $? "$(grep -E '^migration [0-9]+:' <<<"$out" | grep -v ', ok$' | head -n 3)"
log_test "stress: $N round trips ($((2 * N)) migrations), each on the new VF, TCP alive, loss bounded, dmesg clean"
exit $EXIT_STATUS
