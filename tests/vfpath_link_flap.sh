#!/usr/bin/env bash
# The VF's link goes down and up (QMP set_link, as when a host's physical
# port flaps), then flaps 20 times in 2 s. Traffic continues over virtio-net
# while the VF is down (the synthetic slave carries both ways, no gap lasts
# as long as the VF is away), a flapping VF never settles (one switch away
# and one back, however many flaps), and everything ends on the VF.
source "$(dirname "$0")/lib.sh"

ALL_TESTS="
	flap_setup
	flap_link_down_up
	flap_drop_soon_after_up
	flap_storm
	dmesg_clean
"
G=vm1

set_link() {
	lab_qmp $G set_link "{\"name\": \"$(lab_vf_id $G)\", \"up\": $1}" >/dev/null
}

slave_count() { lab_guest $G "cat /sys/class/net/$1/statistics/$2"; }

# gaps_below NAME MS: no gap in either flow NAME-in, NAME-out reached MS.
gaps_below() {
	local gi go
	gi=$(json "$LAB_DIR/$1-in.json" max_gap_ms | cut -d. -f1)
	go=$(json "$LAB_DIR/$1-out.json" max_gap_ms | cut -d. -f1)
	[ "$gi" -lt "$2" ] && [ "$go" -lt "$2" ] ||
		{ RETMSG="longest gap to guest $gi ms, from guest $go ms (the VF was away longer than $2 ms)"; return 1; }
}

flap_setup() {
	vfp_master_up $G && vfp_wait_path $G vf
	check_err $? "master not on the VF"
	log_test "$VFP_PAIRING pair up, transmit on the VF"
}

flap_link_down_up() {
	local s0 s1 carrier syn tx0 tx1 rx0 rx1
	syn=$(lab_guest_netdev_by_driver $G virtio_net)
	s0=$(vfp_sys $G switches)
	vfp_flows_start $G ld 8
	check_err $? "flows did not start"
	sleep 2
	set_link false
	busywait 5000 vfp_path_is $G synthetic
	check_err $? "transmit did not leave the VF on link down"
	tx0=$(slave_count "$syn" tx_packets) rx0=$(slave_count "$syn" rx_packets)
	sleep 2
	tx1=$(slave_count "$syn" tx_packets) rx1=$(slave_count "$syn" rx_packets)
	set_link true
	vfp_wait_path $G vf 15000
	check_err $? "transmit not back on the VF after link up"
	vfp_flows_wait $G ld
	check_err $? "flows incomplete"
	s1=$(vfp_sys $G switches)
	carrier=$(vfp_sys $G switches_vf_carrier)
	[ $((s1 - s0)) -eq 2 ] && [ "$carrier" -ge 1 ]
	check_err $? "switches $s0 -> $s1 (want +2), vf_carrier $carrier"
	# Both ways on virtio-net while the VF was down: at VFP_RATE a second
	# each way, half a second's worth in those 2 s shows the path carried.
	log_info "virtio-net $syn while the VF was down 2 s: tx $((tx1 - tx0)), rx $((rx1 - rx0))"
	[ $((tx1 - tx0)) -ge $((VFP_RATE / 2)) ] && [ $((rx1 - rx0)) -ge $((VFP_RATE / 2)) ]
	check_err $? "virtio-net did not carry while the VF was down: tx +$((tx1 - tx0)), rx +$((rx1 - rx0))"
	# A link cut is not an orderly removal: what the VF had taken before
	# its driver saw the carrier drop is lost (a few frames), but no
	# gap lasts as long as the VF was away.
	log_info "link down 2 s: lost to guest $LOST_IN, from guest $LOST_OUT"
	gaps_below ld 1000
	check_err $? "$RETMSG"
	log_test "VF link down 2 s then up: synthetic carries meanwhile, back to the VF"
}

vf_tx() { vfp_sys $G tx_packets_vf; }
vf_carrier() { lab_guest $G "cat /sys/class/net/$(lab_guest_netdev_by_driver $G e1000e)/carrier"; }

# The link drops again soon after coming back: linkwatch then reports the
# carrier loss up to a second late. From the moment the VF has no carrier,
# nothing more may be handed to it (its frames would be lost), and the
# path must leave it.
flap_drop_soon_after_up() {
	local t0 t1
	vfp_flows_start $G ds 6
	check_err $? "flows did not start"
	sleep 1
	set_link false && busywait 5000 vfp_path_is $G synthetic
	check_err $? "transmit did not leave the VF on link down"
	set_link true && vfp_wait_path $G vf
	check_err $? "transmit not back on the VF after link up"
	set_link false && busywait 5000 eval '[ "$(vf_carrier)" = 0 ]'
	check_err $? "the VF kept its carrier after link down"
	t0=$(vf_tx)
	sleep 1.2
	t1=$(vf_tx)
	log_info "handed to the VF in the 1.2 s after it lost carrier: $((t1 - t0))"
	# A frame or two already past the check when the carrier dropped.
	[ $((t1 - t0)) -le 2 ]
	check_err $? "$((t1 - t0)) frames handed to the VF after it lost carrier"
	vfp_path_is $G synthetic
	check_err $? "transmit still on the VF 1.2 s after its carrier loss"
	set_link true && vfp_wait_path $G vf
	check_err $? "transmit not back on the VF"
	vfp_flows_wait $G ds
	check_err $? "flows incomplete"
	log_info "drop soon after up: lost to guest $LOST_IN, from guest $LOST_OUT"
	log_test "VF link drops right after coming back: nothing more into it, switch at once"
}

# settle_ms 1000 for the storm: longer than any up phase of a flap, QMP
# latency included, so the VF must never settle until the storm ends.
flap_storm() {
	local s0 s1 i r0 r1
	lab_guest $G "echo 1000 > /sys/class/net/$VFP_MASTER/vfpath/settle_ms"
	check_err $? "settle_ms 1000 refused"
	s0=$(vfp_sys $G switches) r0=$(vfp_sys $G switches_vf_ready)
	vfp_flows_start $G st 8
	check_err $? "flows did not start"
	sleep 1
	for i in $(seq 20); do
		set_link false
		sleep 0.05
		set_link true
		sleep 0.05
	done
	vfp_wait_path $G vf 15000
	check_err $? "not back on the VF after the storm"
	vfp_flows_wait $G st
	check_err $? "flows incomplete"
	s1=$(vfp_sys $G switches) r1=$(vfp_sys $G switches_vf_ready)
	log_info "20 flaps: $((s1 - s0)) switches; lost to guest $LOST_IN, from guest $LOST_OUT"
	# One switch away at the first flap, one back settle_ms after the last.
	[ $((s1 - s0)) -eq 2 ] && [ $((r1 - r0)) -eq 1 ]
	check_err $? "switches $s0 -> $s1, vf_ready $r0 -> $r1: the flapping VF settled"
	gaps_below st 1000
	check_err $? "$RETMSG"
	lab_guest $G "echo 100 > /sys/class/net/$VFP_MASTER/vfpath/settle_ms"
	log_test "20 flaps in 2 s: one switch each way, traffic continues, ends on VF"
}

vfp_boot $G
run_all_tests
exit $EXIT_STATUS
