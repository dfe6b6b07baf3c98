#!/usr/bin/env bash
# Module lifecycle with pairs present: bad parameters are refused with a
# message; rmmod with traffic running releases the slaves intact (they
# work on as plain NICs); insmod again re-pairs them; no reference leaks:
# the released slaves unregister at once when their drivers let go.
source "$(dirname "$0")/lib.sh"

ALL_TESTS="
	lc_bad_parameters
	lc_rmmod_under_traffic
	lc_slaves_plain_nics
	lc_insmod_repairs
	lc_released_slaves_unregister
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

# master_packets: the master's rx and tx packet counters, "RX TX".
master_packets() {
	lab_guest $G "cat /sys/class/net/$VFP_MASTER/statistics/rx_packets \
		/sys/class/net/$VFP_MASTER/statistics/tx_packets" | xargs
}

lc_rmmod_under_traffic() {
	local p0 p1
	lab_guest $G "insmod $VFP_KO settle_ms=200 peer_notify=3"
	check_err $? "insmod with good parameters failed"
	lab_guest $G "echo 99999 > /sys/class/net/$VFP_MASTER/vfpath/settle_ms" 2>/dev/null
	check_fail $? "sysfs settle_ms=99999 accepted"
	[ "$(vfp_sys $G settle_ms)" = 200 ]
	check_err $? "settle_ms from insmod not applied: $(vfp_sys $G settle_ms)"
	vfp_master_up $G && vfp_wait_path $G vf
	check_err $? "master not on the VF"
	# 30 s of flows, ended by rmmod (lc_slaves_plain_nics kills them):
	# the peer's sender starts first, and on the debug kernel the
	# guest's starts seconds later; 5 s flows had the peer's done by then.
	vfp_flows_start $G rm 30
	check_err $? "flows did not start"
	sleep 1
	p0=$(master_packets)
	sleep 1
	p1=$(master_packets)
	# Both ways moving through the master in the second before rmmod
	# (VFP_RATE a second each way; a tenth of it shows the flows run).
	[ "${p1% *}" -ge $((${p0% *} + VFP_RATE / 10)) ] &&
		[ "${p1#* }" -ge $((${p0#* } + VFP_RATE / 10)) ]
	check_err $? "no traffic through the master before rmmod: rx tx $p0 -> $p1"
	lab_flows_running $G rm
	check_err $? "a flow had ended before rmmod: the master was not under traffic both ways"
	# What the master asked of its slaves must go with it.
	lab_guest $G "ip link set $VFP_MASTER promisc on allmulticast on"
	check_err $? "promisc/allmulti on the master failed"
	lab_guest $G "rmmod vfpath"
	check_err $? "rmmod failed under traffic"
	log_test "rmmod with traffic running both ways through the master"
}

lc_slaves_plain_nics() {
	local vf syn d
	# The master and its addresses went with rmmod: the flows end here.
	lab_guest $G "killall flowgen; true"
	ip netns pids "$LAB_PEER_NS" | xargs -r kill 2>/dev/null
	vf=$(lab_guest_netdev_by_driver $G e1000e)
	syn=$(lab_guest_netdev_by_driver $G virtio_net)
	lab_guest $G "! ip link show $VFP_MASTER 2>/dev/null &&
		! ip link show $vf | grep -q SLAVE && ! ip link show $syn | grep -q SLAVE"
	check_err $? "master or slave flags left"
	for d in "$vf" "$syn"; do
		[ "$(lab_guest $G "ip -d -j link show $d" | jq -r '.[0].promiscuity')" = 0 ] &&
			[ $(($(lab_guest $G "cat /sys/class/net/$d/flags") & 0x300)) -eq 0 ]
		check_err $? "released $d still promiscuous or allmulti: promiscuity $(lab_guest $G "ip -d -j link show $d" | jq -r '.[0].promiscuity'), flags $(lab_guest $G "cat /sys/class/net/$d/flags")"
	done
	# They were down when they joined (paired at insmod): down again.
	lab_guest $G "! ip link show $vf | grep -q ',UP' && ! ip link show $syn | grep -q ',UP'"
	check_err $? "released slaves left up: $(lab_guest $G "ip -br link" | xargs)"
	lab_guest $G "ip link set $vf up && ip addr add $LAB_GUEST_IP4/24 dev $vf &&
		ping -c 3 -W 2 $LAB_PEER_IP4 >/dev/null && ip addr flush dev $vf"
	check_err $? "the released VF does not work as a plain NIC"
	lab_guest $G "ip link set $vf down && ip link set $syn up &&
		ip addr add $LAB_GUEST_IP4/24 dev $syn &&
		ping -c 3 -W 2 $LAB_PEER_IP4 >/dev/null && ip addr flush dev $syn"
	check_err $? "the released virtio-net does not work as a plain NIC"
	log_test "released slaves: down as they joined, not promiscuous, work as plain NICs (VF, then virtio-net)"
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

# unbind_within DRIVER-DIR DEVICE MS: unbinds DEVICE from its driver; a
# leaked reference blocks the unbind for good in netdev_wait_allrefs.
unbind_within() { vfp_guest_within $G "$3" "echo $2 > $1/unbind"; }

# The slaves vfpath released (rmmod and ip link del above) hold no
# reference of ours: their drivers unregister them without waiting
# (a reference left would keep unregister_netdevice waiting for good).
lc_released_slaves_unregister() {
	local vf syn bdf vdev
	vf=$(lab_guest_netdev_by_driver $G e1000e)
	syn=$(lab_guest_netdev_by_driver $G virtio_net)
	[ -n "$vf" ] && [ -n "$syn" ]
	check_err $? "released slaves not found: VF '$vf', virtio-net '$syn'"
	bdf=$(lab_guest $G "basename \$(readlink /sys/class/net/$vf/device)")
	vdev=$(lab_guest $G "basename \$(readlink /sys/class/net/$syn/device)")
	unbind_within /sys/bus/pci/drivers/e1000e "$bdf" 5000
	check_err $? "unbinding the released VF $vf ($bdf) did not return in 5 s"
	unbind_within /sys/bus/virtio/drivers/virtio_net "$vdev" 5000
	check_err $? "unbinding the released virtio-net $syn ($vdev) did not return in 5 s"
	lab_guest $G "! ls -d /sys/class/net/$vf /sys/class/net/$syn 2>/dev/null"
	check_err $? "netdevs left after unbind: $(lab_guest $G "ls /sys/class/net" | xargs)"
	log_test "released slaves unregister at once: no reference left on them"
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
