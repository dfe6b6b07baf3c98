#!/usr/bin/env bash
# udev renames NICs as they appear, and with failover the slaves may be up
# (and carrying traffic) when it does: both slaves are renamed while flows
# run both ways through the master, which must not lose a packet, and the
# master then lists its slaves by their new names. VFP_PAIRING: auto or
# standby.
source "$(dirname "$0")/lib.sh"

ALL_TESTS="
	rn_rename_under_traffic
	rn_switch_after_rename
	dmesg_clean
"
G=vm1

rn_rename_under_traffic() {
	local syn vf
	vfp_master_up $G && vfp_wait_path $G vf
	check_err $? "master not up on the VF"
	syn=$(lab_guest_netdev_by_driver $G virtio_net)
	vf=$(lab_guest_netdev_by_driver $G e1000e)
	vfp_flows_start $G rn 5
	check_err $? "flows did not start"
	sleep 1.5
	lab_guest $G "ip link set $vf name enp1s0 && ip link set $syn name enp0s2"
	check_err $? "rename of up slaves failed"
	vfp_flows_wait $G rn
	check_err $? "flows incomplete"
	[ "$LOST_IN" = 0 ] && [ "$LOST_OUT" = 0 ]
	check_err $? "lost to guest $LOST_IN, from guest $LOST_OUT"
	[ "$(vfp_lowers $G $VFP_MASTER)" = "enp0s2 enp1s0" ]
	check_err $? "slaves now: $(vfp_lowers $G $VFP_MASTER)"
	log_test "slaves renamed while enslaved, up and carrying: 0 lost"
}

# The renamed VF still drives switching: its removal moves traffic away.
rn_switch_after_rename() {
	lab_vf_unplug $G
	check_err $? "unplug failed"
	vfp_wait_path $G synthetic &&
		lab_guest $G "ping -c 2 -W 2 $LAB_PEER_IP4 >/dev/null"
	check_err $? "no traffic on virtio-net after the renamed VF left"
	[ "$(vfp_lowers $G $VFP_MASTER)" = enp0s2 ]
	check_err $? "slaves now: $(vfp_lowers $G $VFP_MASTER)"
	log_test "the renamed VF's unplug still switches to the renamed virtio-net"
}

vfp_boot $G
run_all_tests
exit $EXIT_STATUS
