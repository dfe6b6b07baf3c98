#!/usr/bin/env bash
# A short `make stress` (STRESS_N=1) through both of vfpath-migrate's
# back-ends: one round trip (two migrations) through QMP, then one
# through libvirt (`virsh migrate --live`), under flows both ways and a
# long-lived TCP connection, every one checked (scripts/lab/stress says what).
# The full run is `make stress STRESS_N=20 STRESS_BACKEND="qmp libvirt"`.
source "$(dirname "$0")/lib.sh"

N=${STRESS_N:-1}
BACKENDS=${STRESS_BACKEND:-qmp libvirt}
nb=$(wc -w <<<"$BACKENDS")
out=$("$TESTS_DIR/../scripts/lab/stress" -n "$N" -b "$BACKENDS" 2>&1)
src=$?
# The tables; when the run stopped before them (a guest that did not pair,
# a lab step that died), its last lines, which say why.
if grep -q '^== ' <<<"$out"; then
	sed -n '/^== /,$p' <<<"$out" | sed 's/^/INFO: /'
else
	tail -n 8 <<<"$out" | sed 's/^/INFO: stress: /'
fi
[ $src -eq 0 ] && grep -q "^$((2 * N * nb)) of $((2 * N * nb)) migrations" <<<"$out"
rc=$?
# A failed run's whole output (what vfpath-migrate printed too) outlives it.
[ $rc -eq 0 ] || { mkdir -p "$LAB_BUILD/test-logs"; printf '%s\n' "$out" >"$LAB_BUILD/test-logs/stress-run.log"; }
why=$(grep -E '^[a-z]+ migration [0-9]+:' <<<"$out" | grep -v ', ok$' | head -n 3)
[ -n "$why" ] || why=$(grep -m 1 -E '^(lab|stress): ' <<<"$out")
check_err $rc "${why:-stress exited $src, see the lines above}"
log_test "stress: $N round trips per back-end ($BACKENDS), each on the new VF, TCP alive, loss bounded, dmesg clean"
exit $EXIT_STATUS
