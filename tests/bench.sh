#!/usr/bin/env bash
# make bench's harness, one round (BENCH_RUNS=1) of every configuration and
# scenario: the three files come out and results.json has every figure the
# bench makes. No speed is judged here: the numbers are only checked to be
# there, or absent where the bench documents it cannot measure them.
source "$(dirname "$0")/lib.sh"

ALL_TESTS="
	bench_round
	bench_json
	bench_table_and_plot
	bench_nothing_left
"
OUT=$LAB_BUILD/bench-check
CONFIGS="vfpath-auto vfpath-standby vfpath-standby-patched net_failover bonding raw-vf"
SCENARIOS="migration vf_unplug vf_replug vf_link_flap rx_only_replug cost_tx_pktgen cost_tx_udp64 cost_tx_udp1400 cost_rx_udp cost_tcp cost_vxlan"

bench_round() {
	local rc=0
	rm -rf "$OUT"
	"$LAB_TOP/scripts/bench/bench" -n 1 -o "$OUT" >"$LAB_BUILD/bench-check.log" 2>&1 || rc=$?
	check_err $rc "scripts/bench/bench exit $rc: $(tail -n 3 "$LAB_BUILD/bench-check.log")"
	[ -s "$OUT/results.json" ] && [ -s "$OUT/results.md" ] && [ -s "$OUT/migration.svg" ]
	check_err $? "missing output: $(ls "$OUT" 2>/dev/null | xargs)"
	log_info "$(grep -m1 '^bench: .* round' "$LAB_BUILD/bench-check.log" || true)"
	log_test "one round of 6 configurations x 11 scenarios writes results.json, results.md, migration.svg"
}

# What each scenario records on a configuration it applies to
# (bench-scenarios.sh, bench-cost.sh; overhead_vs_raw is bench-report's),
# as jq.
# shellcheck disable=SC2016 # a jq program
BENCH_CELLS_JQ='
	def flows: ["lost_to_guest", "max_gap_to_guest_ms", "lost_from_guest", "max_gap_from_guest_ms"];
	def metrics: {
		migration: (flows + ["downtime_ms", "wait_unplug_ms", "time_on_synthetic_ms",
			"time_to_vf_ms", "peer_notify_ms"]),
		vf_unplug: (flows + ["peer_notify_ms"]),
		vf_replug: (flows + ["time_to_vf_ms", "time_on_synthetic_ms", "peer_notify_ms"]),
		vf_link_flap: (flows + ["time_on_synthetic_ms", "peer_notify_ms"]),
		rx_only_replug: ["lost_to_guest", "max_gap_to_guest_ms"]};
	def cost_metrics($c): ["insns_per_packet"] + (if $c == "raw-vf" then [] else ["overhead_vs_raw"] end);
	# scripts/bench/bench, applies(): raw-vf runs the cost scenarios only.
	def applies($c; $s): $c != "raw-vf" or ($s | startswith("cost_"));
	def words: split(" ") | map(select(. != ""));
	def cells: ($cfgs | words)[] as $c | ($scns | words)[] as $s
		| select(applies($c; $s))
		| (if $s | startswith("cost_") then cost_metrics($c) else metrics[$s] // [] end)[] as $m
		| "\($c) \($s) \($m)";
'

# bench_check_json RESULTS RUNS [SAMPLES]: prints what is wrong with
# RESULTS (bench-report's results.json for CONFIGS x SCENARIOS, RUNS
# rounds), one problem a line; nothing if all is well. Every cell the bench
# should fill must be there once, with a median over RUNS rounds or an
# absence the bench documents: only peer_notify_ms of the competitors
# (README, "make bench"): net_failover never announces a switch; bonding's
# one gratuitous ARP can be skipped while the new active slave's link event
# is pending (bond_should_notify_peers; seen once after a migration). A
# vfpath configuration that does not announce fails. A scenario that failed or a
# guest that did not boot leaves "run"/"boot" records in SAMPLES.
bench_check_json() {
	local out rc=0
	if [ -n "${3:-}" ]; then
		jq -r 'select(.metric == "run" or .metric == "boot")
			| "\(.config) \(.scenario): \(.metric) failed: \(.absent)"' "$3" 2>&1
	fi
	# shellcheck disable=SC2016 # a jq program
	out=$(jq -rs --arg cfgs "$CONFIGS" --arg scns "$SCENARIOS" --argjson runs "$2" \
		"$BENCH_CELLS_JQ"'
		def bad: type != "object" or (.scenario | type) != "string"
			or (.config | type) != "string" or (.metric | type) != "string"
			or (.runs | type) != "number"
			or ((.median | type) != "number" and (.absent | type) != "string")
			or ((.median | type) == "number" and
			    ((.min | type) != "number" or (.max | type) != "number" or
			     .min > .median or .median > .max or (.unit | type) != "string"));
		# bench_value'"'"'s reasons for a peer_notify_ms it saw no ARP for.
		def excused: (.config == "net_failover" or .config == "bonding")
			and .metric == "peer_notify_ms"
			and (.absent | type) == "string"
			and (.absent | split("; ") | all(startswith("no gratuitous ARP from the guest")));
		if length != 1 or (.[0] | type) != "array" or (.[0] | length) == 0
		then "not one non-empty JSON array" else
		.[0] as $all | [cells] as $want
		| ($all[] | select(bad) | "bad record: \(tojson)"),
		  ($want[] as $n
		   | [$all[] | select(type == "object" and "\(.config) \(.scenario) \(.metric)" == $n)] as $r
		   | if ($r | length) == 0 then "\($n): no record"
		     elif ($r | length) > 1 then "\($n): \($r | length) records"
		     else $r[0] | select(bad | not)
			| if (.median | type) != "number" and (excused | not)
			  then "\($n): absent: \(.absent)"
			  elif (.absent_runs // 0) > 0 and (excused | not)
			  then "\($n): absent in \(.absent_runs) of \($runs) rounds: \(.absent)"
			  elif .runs + (.absent_runs // 0) != $runs
			  then "\($n): runs \(.runs), absent in \(.absent_runs // 0), not the \($runs) round(s) asked for"
			  else empty end
		     end),
		  ($all[] | select(type == "object")
		   | "\(.config) \(.scenario) \(.metric)" as $n
		   | select(any($want[]; . == $n) | not) | "\($n): a record the bench should not make")
		end' "$1" 2>&1) || rc=$?
	[ -z "$out" ] || echo "$out"
	[ $rc -eq 0 ] || echo "jq exit $rc on $1"
}

# Every cell of every configuration and scenario there, with a value from
# the one round, or absent where the bench says it cannot measure.
bench_json() {
	local f=$OUT/results.json bad
	bad=$(bench_check_json "$f" 1 "$OUT/raw/samples.jsonl")
	[ -z "$bad" ]
	check_err $? "$(grep -c . <<<"$bad") problem(s): $(head -n 4 <<<"$bad" | paste -sd '|' | sed 's/|/; /g')"
	log_info "$(jq 'length' "$f") records, $(jq '[.[] | select(.absent)] | length' "$f") with an absence reason"
	log_test "results.json: every config x scenario x metric, measured or excused"
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
	local left id
	left=$(pgrep -af 'vfpath-[0-9a-f]*-c[0-9]r[0-9]' || true)
	[ -z "$left" ]
	check_err $? "still running: $left"
	# The bench's own lab only: other labs may run beside it.
	id=$(cat "$OUT/raw/lab-id" 2>/dev/null)
	[ -n "$id" ]
	check_err $? "the bench did not record its lab's ID (raw/lab-id)"
	left=$(ip netns list | grep -c "^vfp-${id:-none}-" || true)
	[ "$left" -eq 0 ]
	check_err $? "$left namespaces of the bench's lab $id left"
	log_test "the bench leaves no QEMU, namespace or tap behind"
}

run_all_tests
exit $EXIT_STATUS
