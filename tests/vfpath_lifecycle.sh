#!/usr/bin/env bash
# Module lifecycle with pairs present: bad parameters are refused with a
# message; rmmod with traffic running releases the slaves intact (they
# work on as plain NICs); insmod again re-pairs them; no reference leaks.
source "$(dirname "$0")/lib.sh"

ALL_TESTS="
	lc_bad_parameters
	lc_rmmod_under_traffic
	lc_slaves_plain_nics
	lc_insmod_repairs
	lc_dmesg_clean
"
G=vm1

# bad_param ARG: insmod must fail and the kernel log must say why.
bad_param() {
	lab_guest $G "insmod $VFP_KO $1" 2>/dev/null && return 1
	lab_guest $G "dmesg | tail -n 3 | grep -q 'vfpath: ${1%%=*}=${1#*=}: must be'"
}

lc_bad_parameters() {
	local a
	for a in settle_ms=60001 peer_notify=256 peer_notify_interval_ms=0 settle_ms=abc; do
		bad_param "$a"
		check_err $? "insmod $a: not refused with a message"
	done
	lab_guest $G "insmod $VFP_KO auto_pair=maybe" 2>/dev/null
	check_fail $? "auto_pair=maybe accepted"
	lab_guest $G "test ! -d /sys/module/vfpath"
	check_err $? "module loaded after a bad parameter"
	log_test "out-of-range or malformed parameters fail insmod, with a message"
}

lc_rmmod_under_traffic() {
	lab_guest $G "insmod $VFP_KO settle_ms=200 peer_notify=3 &&
		echo 99999 > /sys/class/net/$VFP_MASTER/vfpath/settle_ms" 2>/dev/null
	check_fail $? "sysfs settle_ms=99999 accepted"
	[ "$(vfp_sys $G settle_ms)" = 200 ]
	check_err $? "settle_ms from insmod not applied: $(vfp_sys $G settle_ms)"
	vfp_master_up $G && vfp_wait_path $G vf
	check_err $? "master not on the VF"
	vfp_flows_start $G rm 5
	check_err $? "flows did not start"
	sleep 2
	lab_guest $G "rmmod vfpath"
	check_err $? "rmmod failed under traffic"
	log_test "rmmod with traffic running"
}

lc_slaves_plain_nics() {
	local vf syn
	# The master and its addresses went with rmmod: the flows end here.
	lab_guest $G "killall flowgen; true"
	ip netns pids "$LAB_PEER_NS" | xargs -r kill 2>/dev/null
	vf=$(lab_guest_netdev_by_driver $G e1000e)
	syn=$(lab_guest_netdev_by_driver $G virtio_net)
	lab_guest $G "! ip link show $VFP_MASTER 2>/dev/null &&
		! ip link show $vf | grep -q SLAVE && ! ip link show $syn | grep -q SLAVE"
	check_err $? "master or slave flags left"
	lab_guest $G "ip link set $syn down && ip addr add $LAB_GUEST_IP4/24 dev $vf &&
		ping -c 3 -W 2 $LAB_PEER_IP4 >/dev/null && ip addr flush dev $vf"
	check_err $? "the released VF does not work as a plain NIC"
	lab_guest $G "ip link set $vf down && ip link set $syn up &&
		ip addr add $LAB_GUEST_IP4/24 dev $syn &&
		ping -c 3 -W 2 $LAB_PEER_IP4 >/dev/null && ip addr flush dev $syn"
	check_err $? "the released virtio-net does not work as a plain NIC"
	log_test "released slaves work as plain NICs (VF, then virtio-net)"
}

lc_insmod_repairs() {
	lab_guest $G "insmod $VFP_KO"
	check_err $? "insmod failed"
	busywait 10000 lab_guest $G "[ \$(ls /sys/class/net/$VFP_MASTER | grep -c '^lower_') = 2 ]"
	check_err $? "no re-pair"
	vfp_master_up $G && vfp_wait_path $G vf
	check_err $? "re-paired master carries no traffic on the VF"
	lab_guest $G "ip link del $VFP_MASTER && rmmod vfpath"
	check_err $? "ip link del of an auto master, then rmmod, failed"
	log_test "insmod again re-pairs; the new master carries traffic"
}

lc_dmesg_clean() {
	local out
	out=$(guest_dmesg_clean $G)
	check_err $? "dmesg: $out"
	log_test "dmesg: no WARNING/BUG/refcount, no 'waiting for' references"
}

lab_net_up
lab_guest_start $G auto
lab_guest $G "modprobe virtio_net && modprobe e1000e"
run_all_tests
exit $EXIT_STATUS
