#!/usr/bin/env bash
# QEMU failover=on (libvirt <teaming>) with no change to QEMU, libvirt or
# virtio_net: our drop-in net_failover.ko serves stock virtio_net's
# net_failover_create()/destroy() with a vfpath master.
#
#   QEMU: virtio-net failover=on (net0) + e1000e failover_pair_id=net0 (vf0)
#   guest: insmod vfpath.ko net_failover.ko (ours), modprobe virtio_net
#          -> eth0 vfpath master, eth1 standby ("sby"), eth2 the VF
#
# Then a live migration to a second QEMU on the same bridge: QEMU unplugs
# the primary on the source (wait-unplug), migrates, re-plugs it on the
# destination, with flowgen running both ways.
source "$(dirname "$0")/lib.sh"

ALL_TESTS="
	sb_primary_hidden_until_standby
	sb_ours_not_the_kernels
	sb_traffic_on_vf
	sb_unload_destroys_master
	sb_live_migration
	sb_mtu_before_standby_joins
	dmesg_clean
"
G=vm1
D=vm1b		# the migration's destination
M=eth0
VFP_MASTER=$M	# whatever VFP_PAIRING says: this test is the standby mode
PCI_E1000E=0x10d3
MIG_SECS=14

e1000e_present() {
	lab_guest $G "grep -qx $PCI_E1000E /sys/bus/pci/devices/*/device"
}

load_ours() {
	lab_guest $G "insmod $VFP_KO && insmod $VFP_DROPIN_KO &&
		echo 1 > /sys/kernel/tracing/events/vfpath/enable"
}

sb_primary_hidden_until_standby() {
	! e1000e_present
	check_err $? "the primary is visible before the guest acked STANDBY"
	load_ours
	check_err $? "insmod vfpath.ko net_failover.ko failed"
	lab_guest $G "modprobe virtio_net"
	check_err $? "modprobe virtio_net failed"
	busywait 10000 e1000e_present
	check_err $? "the primary did not appear after STANDBY was acked"
	lab_guest $G "modprobe e1000e"
	busywait 10000 eval '[ "$(vfp_lowers $G $M)" = "eth1 eth2" ]'
	check_err $? "master $M has slaves '$(vfp_lowers $G $M)', want 'eth1 eth2'"
	log_test "primary hidden until STANDBY, then enslaved: $M over eth1 (sby) + eth2"
}

sb_ours_not_the_kernels() {
	local ver drv sby
	ver=$(lab_guest $G "cat /sys/module/net_failover/version 2>/dev/null")
	[ "$ver" = "$(lab_guest $G "cat /sys/module/vfpath/version")" ]
	check_err $? "net_failover loaded is not ours (version '$ver')"
	lab_guest $G "grep -q O /sys/module/net_failover/taint &&
		lsmod | grep -q '^net_failover .*virtio_net'"
	check_err $? "virtio_net does not use our (out-of-tree) net_failover"
	drv=$(lab_guest $G "ethtool -i $M" | awk '/^driver:/ {print $2}')
	[ "$drv" = vfpath ]
	check_err $? "master $M driver '$drv'"
	sby=$(lab_guest $G "cat /sys/class/net/eth1/phys_port_name")
	[ "$sby" = sby ]
	check_err $? "standby phys_port_name '$sby'"
	lab_guest $G "[ \$(readlink /sys/class/net/$M/device) = \$(readlink /sys/class/net/eth1/device) ]"
	check_err $? "master's parent is not the standby's virtio device"
	log_test "net_failover is ours (version $ver, out-of-tree), master driver vfpath"
}

sb_traffic_on_vf() {
	vfp_master_up $G $M && vfp_wait_path $G vf
	check_err $? "no traffic through $M on the VF"
	log_test "traffic through the master on the VF"
}

# rmmod virtio_net: the master goes with it, the VF stays a plain NIC, and
# our modules then unload (nothing holds them). Loading again re-forms the
# master, adopting the VF that is already there.
sb_unload_destroys_master() {
	lab_guest $G "rmmod virtio_net"
	check_err $? "rmmod virtio_net failed"
	lab_guest $G "! test -e /sys/class/net/$M && test -e /sys/class/net/eth2 &&
		! test -e /sys/class/net/eth2/master"
	check_err $? "after rmmod: $(lab_guest $G "ip -br link | xargs")"
	lab_guest $G "rmmod net_failover && rmmod vfpath"
	check_err $? "our modules still held after the master went"
	load_ours && lab_guest $G "modprobe virtio_net"
	check_err $? "reload failed"
	busywait 10000 eval '[ "$(vfp_lowers $G $M)" = "eth1 eth2" ]'
	check_err $? "after reload: master $M slaves '$(vfp_lowers $G $M)'"
	vfp_master_up $G $M && vfp_wait_path $G vf
	check_err $? "no traffic on the VF after the reload"
	log_test "rmmod virtio_net destroys the master; reload adopts the existing VF"
}

sb_live_migration() {
	local mig status total down setup
	lab_guest_incoming $G $D
	vfp_flows_start $G mg $MIG_SECS
	check_err $? "flows did not start"
	sleep 3
	mig=$(lab_migrate $G $D)
	check_err $? "migration failed: $mig"
	status=$(tail -n 1 <<<"$mig" | jq -r .status)
	total=$(tail -n 1 <<<"$mig" | jq -r '."total-time"')
	down=$(tail -n 1 <<<"$mig" | jq -r .downtime)
	setup=$(tail -n 1 <<<"$mig" | jq -r '."setup-time"')
	[ "$status" = completed ]
	check_err $? "migration status '$status'"
	G=$D	# the guest runs there now
	vfp_wait_path $G vf 30000
	check_err $? "not back on a VF on the destination: $(vfp_sys $G active_path)"
	[ "$(vfp_lowers $G $M)" = "eth1 eth2" ]
	check_err $? "destination master slaves '$(vfp_lowers $G $M)'"
	vfp_flows_wait $G mg
	check_err $? "flow reports incomplete"
	log_info "migration: setup ${setup} ms, total ${total} ms, downtime ${down} ms"
	log_info "lost to guest $LOST_IN, from guest $LOST_OUT at ${VFP_RATE} pps"
	log_info "switches: $(lab_guest $G "grep -o 'reason=[a-z_]*' /sys/kernel/tracing/trace | xargs")"
	log_test "failover=on live migration: on the new VF after it, flows both ways complete"
}

# An MTU set on a STANDBY master in the moment between its registration
# and its standby's (udev or networkd may, on the master's uevent) must
# be within the standby's limits: refused, the standby would never join.
# A virtio-net with host_mtu=1500 has max_mtu 1500. RTNL held by dummy's
# module init makes the window wide and the order certain: virtio_net's
# probe waits (to register the master), the MTU request waits behind it,
# and the probe's second RTNL hold (the standby) comes after that.
sb_mtu_before_standby_joins() {
	local g=vm3 out
	LAB_MAC=52:54:00:5f:00:03 LAB_VIRTIO_OPTS=",host_mtu=1500" lab_guest_start $g failover
	# failover.ko too: modprobe virtio_net would load it (the kernel's
	# net_failover needs it), and its init waits for RTNL as well.
	lab_guest $g "insmod $VFP_KO && insmod $VFP_DROPIN_KO && modprobe failover"
	check_err $? "insmod failed"
	# virtio_net's probe is seen waiting in vfpath_standby_create (for
	# RTNL, to register the master) before the MTU request is made.
	out=$(lab_guest $g "{ $VFP_HOLD_RTNL; } >/dev/null 2>&1 & sleep 0.3
		{ modprobe virtio_net; } >/dev/null 2>&1 & i=0
		while ! cat /proc/[0-9]*/stack 2>/dev/null | grep -q vfpath_standby_create &&
			[ \$i -lt 100 ]; do sleep 0.1; i=\$((i + 1)); done
		cat /proc/[0-9]*/stack 2>/dev/null | grep -q vfpath_standby_create && echo probe waiting
		$VFP_RTNL_HELD && echo held
		vfpath-ctl mtu eth0 9000 2>&1; echo rc=\$?; wait")
	log_info "MTU 9000 on eth0 while the standby had not joined: $(xargs <<<"$out")"
	# The request waited behind the probe for RTNL and found the master
	# (not ENODEV), so it ran before the standby registered.
	grep -q 'probe waiting' <<<"$out" && grep -q held <<<"$out" && ! grep -q 'No such device' <<<"$out"
	check_err $? "the MTU request did not land between master and standby: $(xargs <<<"$out")"
	busywait 10000 lab_guest $g "test -e /sys/class/net/eth0/lower_eth1"
	check_err $? "the standby never joined: $(lab_guest $g "ip -br link | grep -v dummy; dmesg | grep -i 'refused\|vfpath' | tail -n 3" | xargs)"
	[ "$(lab_guest $g "cat /sys/class/net/eth0/mtu")" = 1500 ] && grep -q 'maximum' <<<"$out"
	check_err $? "the master took an MTU its standby cannot: $(lab_guest $g "cat /sys/class/net/eth0/mtu")"
	log_test "a STANDBY master is bounded by its standby's MTU before the standby joins"
}

lab_net_up
lab_guest_start $G failover
run_all_tests
exit $EXIT_STATUS
