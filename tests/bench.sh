#!/usr/bin/env bash
# make bench's harness, one round (BENCH_RUNS=1) of every configuration and
# scenario: the three files come out and results.json is well-formed. No
# speed is judged here: the numbers are only checked to be there, or absent
# with a reason.
source "$(dirname "$0")/lib.sh"

ALL_TESTS="
	bench_round
	bench_json
	bench_table_and_plot
	bench_nothing_left
"
OUT=$LAB_BUILD/bench-check
CONFIGS="vfpath-auto vfpath-standby vfpath-standby-patched net_failover bonding raw-vf"
SCENARIOS="tx_overhead migration vf_unplug vf_replug vf_link_flap rx_only_replug"

bench_round() {
	local rc=0
	rm -rf "$OUT"
	"$LAB_TOP/scripts/bench/bench" -n 1 -o "$OUT" >"$LAB_BUILD/bench-check.log" 2>&1 || rc=$?
	check_err $rc "scripts/bench/bench exit $rc: $(tail -n 3 "$LAB_BUILD/bench-check.log")"
	[ -s "$OUT/results.json" ] && [ -s "$OUT/results.md" ] && [ -s "$OUT/migration.svg" ]
	check_err $? "missing output: $(ls "$OUT" 2>/dev/null | xargs)"
	log_info "$(grep -m1 '^bench: .* round' "$LAB_BUILD/bench-check.log" || true)"
	log_test "one round of 6 configurations x 6 scenarios writes results.json, results.md, migration.svg"
}

# Every record complete; every configuration and scenario there; the
# metrics the issue asks for present (with values or an absence reason).
bench_json() {
	local f=$OUT/results.json c s m bad
	bad=$(jq -r '
		if type != "array" or length == 0 then "not a non-empty array" else
		.[] | select((.scenario | type) != "string" or (.config | type) != "string"
			or (.metric | type) != "string" or (.runs | type) != "number"
			or ((.median | type) != "number" and (.absent | type) != "string")
			or ((.median | type) == "number" and
			    ((.min | type) != "number" or (.max | type) != "number" or
			     .min > .median or .median > .max or (.unit | type) != "string")))
		| "bad record: \(tojson)" end' "$f" 2>&1 | head -n 3)
	[ -z "$bad" ]
	check_err $? "$bad"
	for c in $CONFIGS; do
		jq -e --arg c "$c" 'any(.[]; .config == $c)' "$f" >/dev/null
		check_err $? "no record for configuration $c"
	done
	for s in $SCENARIOS; do
		jq -e --arg s "$s" 'any(.[]; .scenario == $s)' "$f" >/dev/null
		check_err $? "no record for scenario $s"
	done
	for m in lost_to_guest lost_from_guest max_gap_to_guest_ms max_gap_from_guest_ms \
		time_to_vf_ms peer_notify_ms downtime_ms wait_unplug_ms time_on_synthetic_ms \
		pps pps_ratio_vs_raw; do
		jq -e --arg m "$m" 'any(.[]; .metric == $m)' "$f" >/dev/null
		check_err $? "no record of metric $m"
	done
	jq -e 'any(.[]; .config == "vfpath-auto" and .scenario == "vf_unplug" and
		.metric == "lost_to_guest" and (.median | type) == "number")' "$f" >/dev/null
	check_err $? "vfpath-auto vf_unplug has no loss figure"
	log_info "$(jq 'length' "$f") records, $(jq '[.[] | select(.absent)] | length' "$f") with an absence reason"
	log_test "results.json: complete records, all configurations, scenarios and metrics"
}

bench_table_and_plot() {
	local c
	grep -q '^| scenario | metric | vfpath-auto' "$OUT/results.md"
	check_err $? "results.md has no table header"
	grep -q '^Run .* on QEMU .*hotplug' "$OUT/results.md"
	check_err $? "results.md does not say which QEMU, kernel and hotplug mode"
	head -c 200 "$OUT/migration.svg" | grep -q '<svg\|<?xml'
	check_err $? "migration.svg is not SVG"
	for c in vfpath-auto vfpath-standby vfpath-standby-patched net_failover bonding; do
		grep -q ">$c<" "$OUT/migration.svg"
		check_err $? "migration.svg has no panel $c"
	done
	log_test "results.md table with the run's QEMU/kernel/hotplug; migration.svg, a panel per configuration"
}

bench_nothing_left() {
	local left
	left=$(pgrep -af 'vfpath-[0-9a-f]*-c[0-9]r[0-9]' || true)
	[ -z "$left" ]
	check_err $? "still running: $left"
	left=$(ip netns list | grep -c '^vfp-' || true)
	[ "$left" -eq 0 ]
	check_err $? "$left lab namespaces left"
	log_test "the bench leaves no QEMU, namespace or tap behind"
}

run_all_tests
exit $EXIT_STATUS
