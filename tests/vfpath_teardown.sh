#!/usr/bin/env bash
# A master goes away while processes read its sysfs files: unregistering
# it (ip link del, rmmod, virtio-net removed under an auto master) holds
# RTNL and waits for sysfs readers to leave; a reader that waits for RTNL
# inside a show would deadlock both for good. Each teardown must finish
# with readers running, and RTNL must be free afterwards.
source "$(dirname "$0")/lib.sh"

ALL_TESTS="
	td_setup
	td_virtio_remove_cycles
	td_link_del
	td_rmmod
	dmesg_clean
"
G=vm1
M=$VFP_MASTER
CYCLES=${TD_CYCLES:-5}

# readers_start: four shells reading every file of the master's vfpath/
# directory (and its carrier) in a loop, until readers_stop.
readers_start() {
	lab_guest $G "touch /tmp/td.run; for i in 1 2 3 4; do setsid sh -c 'while [ -e /tmp/td.run ]; do
		cat /sys/class/net/$M/vfpath/* /sys/class/net/$M/carrier >/dev/null 2>&1
		done' </dev/null >/dev/null 2>&1 & done"
}
readers_stop() { lab_guest $G "rm -f /tmp/td.run"; }

within() { vfp_guest_within $G "$@"; }

# rtnl_free: a netlink request that needs RTNL answers (in 5 s).
rtnl_free() { within 5000 "ip link add td0 type veth peer name td1 && ip link del td0"; }

virtio_pci() { lab_guest $G "basename \$(readlink -f /sys/class/net/$1/device/..)"; }
two_lowers() { [ "$(lab_guest $G "ls -d /sys/class/net/$M/lower_* 2>/dev/null | wc -l")" = 2 ]; }

td_setup() {
	vfp_master_up $G && vfp_wait_path $G vf
	check_err $? "master not on the VF"
	log_test "$VFP_PAIRING pair up"
}

# The auto master goes with its virtio-net; a PCI rescan brings virtio-net
# back and the pair forms again. CYCLES times, readers running throughout.
td_virtio_remove_cycles() {
	local i syn bdf
	readers_start
	check_err $? "readers did not start"
	for i in $(seq "$CYCLES"); do
		[ "$RET" -eq 0 ] || break
		syn=$(lab_guest_netdev_by_driver $G virtio_net)
		bdf=$(virtio_pci "$syn")
		within 10000 "echo 1 > /sys/bus/pci/devices/$bdf/remove"
		check_err $? "cycle $i: removing virtio-net $syn ($bdf) did not finish in 10 s"
		[ "$RET" -eq 0 ] || break
		rtnl_free
		check_err $? "cycle $i: RTNL not free after the removal"
		lab_guest $G "echo 1 > /sys/bus/pci/rescan" && busywait 15000 two_lowers
		check_err $? "cycle $i: no pair after the rescan: $(vfp_lowers $G $M)"
	done
	readers_stop
	log_test "virtio-net removed and back $CYCLES times under sysfs readers"
}

td_link_del() {
	readers_start
	within 10000 "ip link del $M"
	check_err $? "ip link del $M under sysfs readers did not finish in 10 s"
	rtnl_free
	check_err $? "RTNL not free after ip link del"
	readers_stop
	log_test "ip link del of the master under sysfs readers"
}

td_rmmod() {
	lab_guest $G "ip link add vfpx type vfpath"
	check_err $? "ip link add failed"
	M=vfpx readers_start
	within 10000 "rmmod vfpath"
	check_err $? "rmmod under sysfs readers did not finish in 10 s"
	rtnl_free
	check_err $? "RTNL not free after rmmod"
	readers_stop
	log_test "rmmod with a master under sysfs readers"
}

vfp_boot $G
run_all_tests
exit $EXIT_STATUS
