#!/usr/bin/env bash
# The VF's link goes down and up (QMP set_link, as when a host's physical
# port flaps), then flaps 20 times in 2 s. Traffic continues over virtio-net
# while the VF is down, switches stay bounded (a flapping VF never settles),
# and everything ends on the VF.
source "$(dirname "$0")/lib.sh"

ALL_TESTS="
	flap_setup
	flap_link_down_up
	flap_storm
	dmesg_clean
"
G=vm1

set_link() {
	lab_qmp $G set_link "{\"name\": \"$(lab_vf_id $G)\", \"up\": $1}" >/dev/null
}

flap_setup() {
	vfp_master_up $G && vfp_wait_path $G vf
	check_err $? "master not on the VF"
	log_test "$VFP_PAIRING pair up, transmit on the VF"
}

flap_link_down_up() {
	local s0 s1 carrier
	s0=$(vfp_sys $G switches)
	vfp_flows_start $G ld 8
	check_err $? "flows did not start"
	sleep 2
	set_link false
	busywait 5000 vfp_path_is $G synthetic
	check_err $? "transmit did not leave the VF on link down"
	sleep 2
	set_link true
	vfp_wait_path $G vf 15000
	check_err $? "transmit not back on the VF after link up"
	vfp_flows_wait $G ld
	check_err $? "flows incomplete"
	s1=$(vfp_sys $G switches)
	carrier=$(vfp_sys $G switches_vf_carrier)
	[ $((s1 - s0)) -eq 2 ] && [ "$carrier" -ge 1 ]
	check_err $? "switches $s0 -> $s1 (want +2), vf_carrier $carrier"
	# A link cut is not an orderly removal: what the VF had taken before
	# its driver saw the carrier drop is lost. Reported, not judged.
	log_info "link down 2 s: lost to guest $LOST_IN, from guest $LOST_OUT"
	[ "$(json "$LAB_DIR/ld-in.json" unique)" -gt 0 ]
	check_err $? "nothing received"
	log_test "VF link down 2 s then up: synthetic meanwhile, back to the VF"
}

flap_storm() {
	local s0 s1 i
	s0=$(vfp_sys $G switches)
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
	s1=$(vfp_sys $G switches)
	log_info "20 flaps: $((s1 - s0)) switches; lost to guest $LOST_IN, from guest $LOST_OUT"
	# At most one switch away and one back per flap; and with settle_ms
	# longer than the flap period, far fewer.
	[ $((s1 - s0)) -le 40 ] && [ $((s1 - s0)) -ge 2 ]
	check_err $? "switches $s0 -> $s1"
	[ "$(json "$LAB_DIR/st-in.json" span_ms | cut -d. -f1)" -ge 7000 ] &&
		[ "$(json "$LAB_DIR/st-out.json" span_ms | cut -d. -f1)" -ge 7000 ]
	check_err $? "traffic stopped during the storm"
	log_test "20 flaps in 2 s: switches bounded, traffic continues, ends on VF"
}

vfp_boot $G
run_all_tests
exit $EXIT_STATUS
