#!/usr/bin/env bash
# scripts/chaos in make check: a fixed seed (the same steps on every
# machine) in auto pairing, and a seed from the clock (printed, so that a
# failure replays) in STANDBY pairing, each under flows both ways and a TCP
# connection with every invariant checked after every step.
# CHAOS_SEED, CHAOS_STEPS, CHAOS_MINUTES override the defaults: on
# Debian's kernel 28 steps and one minute (tests/run chaos by hand), 40
# and two with VFPATH_CHECK_ALL (make check-all); on the debug kernel
# (LAB_KERNEL=debug), where a step takes 3-4 times as long, 10 steps and
# one minute (make check), 20 and two with VFPATH_CHECK_ALL.
source "$(dirname "$0")/lib.sh"

ALL_TESTS="chaos_fixed_seed chaos_clock_seed"
CHAOS=$TESTS_DIR/../scripts/chaos
OUT=$(mktemp -d)
if [ "${LAB_KERNEL:-}" = debug ]; then
	if [ -n "${VFPATH_CHECK_ALL:-}" ]; then STEPS=20 MINUTES=2; else STEPS=10 MINUTES=1; fi
elif [ -n "${VFPATH_CHECK_ALL:-}" ]; then STEPS=40 MINUTES=2
else STEPS=28 MINUTES=1; fi

# run_chaos NAME ARGS...: one run; its table as INFO, its verdict.
run_chaos() {
	local n=$1 out rc=0
	shift
	out=$("$CHAOS" --out "$OUT/$n" "$@" 2>&1) || rc=$?
	sed -n '/^== chaos/,$p' <<<"$out" | sed 's/^/INFO: /'
	grep -q '^== chaos' <<<"$out" || tail -n 8 <<<"$out" | sed 's/^/INFO: chaos: /'
	[ $rc -eq 0 ] && grep -q '^chaos: .* steps, every invariant held' <<<"$out"
	if [ $? -ne 0 ]; then
		# The steps that replay it outlive the run.
		mkdir -p "$LAB_BUILD/test-logs"
		cp "$OUT/$n/steps.txt" "$LAB_BUILD/test-logs/chaos-$n-steps.txt" 2>/dev/null &&
			log_info "replay: scripts/chaos --replay build/test-logs/chaos-$n-steps.txt $*"
		printf '%s\n' "$out" >"$LAB_BUILD/test-logs/chaos-$n.log"
		# What the lab and the tools said last, before the verdict.
		grep -E '^(lab|vfpath-migrate|vfpath-qmp|flowgen)' <<<"$out" | tail -n 6 |
			sed 's/^/INFO: said: /' || true
		check_err 1 "$(grep -m 1 -E '^chaos: (FAILED|error)|^lab: error' <<<"$out" || echo "scripts/chaos exited $rc")"
	fi
	# Every step ran its checks: as many records as steps.
	[ $rc -ne 0 ] || [ "$(jq '.records | length' "$OUT/$n/summary.json")" = "$(jq .steps "$OUT/$n/summary.json")" ]
	check_err $? "summary.json does not record every step"
}

chaos_fixed_seed() {
	local seed=${CHAOS_SEED:-7} steps=${CHAOS_STEPS:-$STEPS}
	run_chaos fixed --seed "$seed" --steps "$steps" --pairing auto
	log_test "chaos: seed $seed, $steps steps, auto pairing: every invariant after every step"
}

chaos_clock_seed() {
	local seed min=${CHAOS_MINUTES:-$MINUTES}
	seed=$(( $(date +%s%N) / 1000 % 32768 ))
	log_info "seed from the clock: $seed (replay: scripts/chaos --seed $seed --pairing standby)"
	run_chaos clock --seed "$seed" --minutes "$min" --pairing standby
	log_test "chaos: seed $seed (clock), $min minutes, standby pairing: every invariant after every step"
}

trap 'rm -rf "$OUT"; test_cleanup' EXIT
run_all_tests
exit $EXIT_STATUS
