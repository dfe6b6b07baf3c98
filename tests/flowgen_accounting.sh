#!/usr/bin/env bash
# flowgen must count exactly what the network did to a flow. Two namespaces
# joined by a veth; nftables on the receiver drops, and on the sender
# duplicates, a known range of sequence numbers; a blackout of a known
# span shows up as loss and a gap of that span.
#
#   vfp-ID-a                         vfp-ID-b
#  +-----------------------+       +-------------------------------+
#  | va 198.18.1.1/24      |=veth=| vb 198.18.1.2/24               |
#  |    fd00:1::1/64       |       |    fd00:1::2/64               |
#  | flowgen send          |       | flowgen recv, nft drop by seq |
#  | nft dup by seq        |       |                               |
#  +-----------------------+       +-------------------------------+
#
# flowgen's header: magic(4) flow(4) seq(8) tx_ns(8); the low 32 bits of the
# sequence number are bits 96..127 of the UDP payload (nft @ih,96,32).
source "$(dirname "$0")/lib.sh"

ALL_TESTS="
	fg_clean_v4
	fg_exact_loss_v4
	fg_exact_loss_v6
	fg_exact_duplicates_v4
	fg_blackout_gap
	fg_bad_arguments
"

setup() {
	lab_init
	NS_A=$(lab_ns_add a)
	NS_B=$(lab_ns_add b)
	ip -n "$NS_A" link add va type veth peer name vb netns "$NS_B"
	ip -n "$NS_A" addr add 198.18.1.1/24 dev va
	ip -n "$NS_B" addr add 198.18.1.2/24 dev vb
	ip -n "$NS_A" addr add fd00:1::1/64 dev va nodad
	ip -n "$NS_B" addr add fd00:1::2/64 dev vb nodad
	ip -n "$NS_A" link set va up
	ip -n "$NS_B" link set vb up
}

nft_b() { ip netns exec "$NS_B" nft "$@"; }
nft_a() { ip netns exec "$NS_A" nft "$@"; }

# flow DST PORT COUNT RATE: one flow from a to b; leaves reports in
# $LAB_DIR/tx.json and rx.json.
flow() {
	fg_ns_recv "$NS_B" rx "$2" --duration 60 || return 1
	fg_ns_send "$NS_A" tx "$1" "$2" --count "$3" --rate "$4"
	fg_wait tx 60000 && fg_wait rx 60000
}

fg_clean_v4() {
	flow 198.18.1.2 6001 3000 3000
	check_err $? "flow did not complete"
	[ "$(json "$LAB_DIR/rx.json" lost)" = 0 ] &&
		[ "$(json "$LAB_DIR/rx.json" unique)" = 3000 ] &&
		[ "$(json "$LAB_DIR/rx.json" duplicated)" = 0 ] &&
		[ "$(json "$LAB_DIR/rx.json" fin)" = true ]
	check_err $? "clean flow: $(cat "$LAB_DIR/rx.json")"
	log_test "IPv4, no impairment: 3000 sent, 3000 counted, 0 lost"
}

fg_exact_loss_v4() {
	nft_b add table inet fg &&
		nft_b add chain inet fg in '{ type filter hook input priority 0; }' &&
		nft_b add rule inet fg in udp dport 6002 @ih,96,32 1000-1099 counter drop
	check_err $? "nft rule"
	flow 198.18.1.2 6002 3000 3000
	check_err $? "flow did not complete"
	[ "$(json "$LAB_DIR/rx.json" lost)" = 100 ] &&
		[ "$(json "$LAB_DIR/rx.json" unique)" = 2900 ]
	check_err $? "expected lost=100: $(cat "$LAB_DIR/rx.json")"
	nft_b delete table inet fg
	log_test "IPv4, seq 1000-1099 dropped by nftables: lost = 100"
}

fg_exact_loss_v6() {
	nft_b add table inet fg &&
		nft_b add chain inet fg in '{ type filter hook input priority 0; }' &&
		nft_b add rule inet fg in udp dport 6003 @ih,96,32 10-59 counter drop
	check_err $? "nft rule"
	flow fd00:1::2 6003 2000 2000
	check_err $? "flow did not complete"
	[ "$(json "$LAB_DIR/rx.json" lost)" = 50 ]
	check_err $? "expected lost=50: $(cat "$LAB_DIR/rx.json")"
	nft_b delete table inet fg
	log_test "IPv6, seq 10-59 dropped by nftables: lost = 50"
}

fg_exact_duplicates_v4() {
	nft_a add table ip fg &&
		nft_a add chain ip fg out '{ type filter hook output priority 0; }' &&
		nft_a add rule ip fg out udp dport 6004 @ih,96,32 200-229 dup to 198.18.1.2 device va
	check_err $? "nft rule"
	flow 198.18.1.2 6004 1000 2000
	check_err $? "flow did not complete"
	[ "$(json "$LAB_DIR/rx.json" duplicated)" = 30 ] &&
		[ "$(json "$LAB_DIR/rx.json" lost)" = 0 ] &&
		[ "$(json "$LAB_DIR/rx.json" received)" = 1030 ]
	check_err $? "expected duplicated=30: $(cat "$LAB_DIR/rx.json")"
	nft_a delete table ip fg
	log_test "IPv4, seq 200-229 duplicated by nftables: duplicated = 30"
}

# 1000 pps with everything to the receiver dropped for 1 s (an nftables
# blackout, so the sender keeps its carrier and its pace): about 1000
# packets lost and a gap of about 1000 ms. The span is measured here, so the
# check compares flowgen with what the test itself did, not with a speed.
fg_blackout_gap() {
	local t0 t1 span lost gap
	fg_ns_recv "$NS_B" rx 6005 --duration 60
	check_err $? "receiver did not start"
	fg_ns_send "$NS_A" tx 198.18.1.2 6005 --duration 4 --rate 1000
	sleep 1.5
	nft_b add table inet fg &&
		nft_b add chain inet fg in '{ type filter hook input priority 0; }'
	t0=$(lab_now_ms)
	nft_b add rule inet fg in udp dport 6005 drop
	sleep 1
	nft_b delete table inet fg
	t1=$(lab_now_ms)
	fg_wait tx 30000 && fg_wait rx 30000
	check_err $? "flow did not complete"
	span=$((t1 - t0))
	lost=$(json "$LAB_DIR/rx.json" lost)
	gap=$(json "$LAB_DIR/rx.json" max_gap_ms | cut -d. -f1)
	log_info "blackout ${span} ms: lost $lost, max gap ${gap} ms"
	# Every packet due during the blackout is lost (less up to 100 for
	# the moments nft(8) itself takes); the gap spans the blackout.
	[ "$lost" -ge $((span - 100)) ] && [ "$lost" -le $((span + 50)) ] &&
		[ "$gap" -ge $((span - 100)) ] && [ "$gap" -le $((span + 100)) ]
	check_err $? "lost=$lost gap=$gap for a ${span} ms outage"
	[ "$(json "$LAB_DIR/rx.json" fin)" = true ]
	check_err $? "FIN not received"
	log_test "1 s blackout at 1000 pps: loss and gap match its span"
}

fg_bad_arguments() {
	local fg=$LAB_BUILD/bin/flowgen
	"$fg" send --dst not-an-address --count 1 2>/dev/null
	[ $? -eq 2 ]
	check_err $? "bad --dst accepted"
	"$fg" send --dst 198.18.1.2 2>/dev/null
	[ $? -eq 2 ]
	check_err $? "send without --count/--duration accepted"
	"$fg" recv --port 0 2>/dev/null
	[ $? -eq 2 ]
	check_err $? "port 0 accepted"
	"$fg" frobnicate 2>/dev/null
	[ $? -eq 2 ]
	check_err $? "unknown mode accepted"
	log_test "bad arguments are refused with exit code 2"
}

command -v nft >/dev/null || { log_skip "flowgen accounting" "nft not installed"; exit $ksft_skip; }
setup
run_all_tests
exit $EXIT_STATUS
