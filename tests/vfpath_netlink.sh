#!/usr/bin/env bash
# IFLA_INFO_DATA of a vfpath master, through vfpath-ctl (libmnl): the state
# is reported, settings are applied at creation and later, values out of
# range and read-only attributes are refused with the kernel's extack
# message, slaves report their role and can be given the other one, and
# every switch, whatever caused it, is one RTM_NEWLINK of the master that
# says its info data changed (IFLA_EVENT) and carries the new path.
source "$(dirname "$0")/lib.sh"

ALL_TESTS="
	nl_show_master_and_slaves
	nl_set_mode_and_monitor
	nl_switch_by_link_newlink
	nl_sysfs_setting_newlink
	nl_add_with_settings
	nl_refusals
	nl_strict_attributes
	nl_address_validated
	nl_slave_role
	dmesg_clean
"
G=vm1
M=$VFP_MASTER
IFLA_VFPATH_MODE=2	# failover/vfpath_uapi.h

ctl_field() { lab_guest $G "vfpath-ctl show $1" | jq -r ".$2"; }

nl_show_master_and_slaves() {
	local syn vf
	vfp_master_up $G && vfp_wait_path $G vf
	check_err $? "master not on the VF"
	[ "$(ctl_field $M active_path)" = vf ] && [ "$(ctl_field $M mode)" = auto ] &&
		[ "$(ctl_field $M settle_ms)" = 100 ] &&
		[ "$(ctl_field $M switches)" = "$(vfp_sys $G switches)" ]
	check_err $? "show: $(lab_guest $G "vfpath-ctl show $M")"
	syn=$(lab_guest_netdev_by_driver $G virtio_net)
	vf=$(lab_guest_netdev_by_driver $G e1000e)
	[ "$(ctl_field "$syn" role)" = synthetic ] && [ "$(ctl_field "$vf" role)" = vf ]
	check_err $? "roles: $syn=$(ctl_field "$syn" role) $vf=$(ctl_field "$vf" role)"
	log_test "IFLA_INFO_DATA: active path, mode, settings; slaves' roles"
}

# mon_start: vfpath-ctl monitor on the master, in the background, until
# mon_paths; returns once it is subscribed.
mon_start() {
	lab_guest $G "rm -f /tmp/mon.json /tmp/mon.err
		setsid vfpath-ctl monitor $M </dev/null >/tmp/mon.json 2>/tmp/mon.err &" &&
		busywait 5000 lab_guest $G "grep -q monitoring /tmp/mon.err"
}

# mon_paths: stops the monitor and prints, on one line, the path each
# switch notification carried: the master's RTM_NEWLINKs whose IFLA_EVENT
# is the one NETDEV_BONDING_FAILOVER becomes (IFLA_EVENT_BONDING_FAILOVER,
# bonding's for a change of active slave).
# The RTM_NEWLINKs of a changelink itself, or of an announcement, say
# "none" and "notify_peers" and are not counted.
mon_paths() {
	lab_guest $G "killall vfpath-ctl; true"
	lab_guest $G "cat /tmp/mon.json" |
		jq -r 'select(.event == "bonding_failover") | .active_path' | xargs
}

nl_set_mode_and_monitor() {
	local paths
	mon_start
	check_err $? "vfpath-ctl monitor did not start: $(lab_guest $G "cat /tmp/mon.err")"
	lab_guest $G "vfpath-ctl set $M mode synthetic settle_ms 250 peer_notify 3"
	check_err $? "set failed"
	[ "$(ctl_field $M active_path)" = synthetic ] && [ "$(ctl_field $M settle_ms)" = 250 ] &&
		[ "$(vfp_sys $G peer_notify)" = 3 ] && [ "$(ctl_field $M last_reason)" = manual ]
	check_err $? "after set: $(lab_guest $G "vfpath-ctl show $M")"
	lab_guest $G "vfpath-ctl set $M mode auto"
	vfp_wait_path $G vf
	check_err $? "mode auto did not return to the VF"
	paths=$(mon_paths)
	[ "$paths" = "synthetic vf" ]
	check_err $? "switch notifications carried '$paths', want 'synthetic vf'"
	log_test "set mode/settle_ms/peer_notify by netlink; one RTM_NEWLINK per switch"
}

set_link() { vfp_set_link $G "$1"; }

# Switches no netlink request caused (the VF's link cut and restored by
# the host): each is still one RTM_NEWLINK, in order, with the new path.
nl_switch_by_link_newlink() {
	local s0 s1 paths
	mon_start
	check_err $? "vfpath-ctl monitor did not start"
	s0=$(vfp_sys $G switches)
	set_link false && busywait 5000 vfp_path_is $G synthetic
	check_err $? "no switch to synthetic on the VF's link down"
	set_link true && vfp_wait_path $G vf
	check_err $? "no switch back to the VF on link up"
	s1=$(vfp_sys $G switches)
	paths=$(mon_paths)
	[ $((s1 - s0)) -eq 2 ] && [ "$paths" = "synthetic vf" ]
	check_err $? "switches $s0 -> $s1, notifications carried '$paths', want 'synthetic vf'"
	log_test "switches on the VF's link down and up: one RTM_NEWLINK each, with the path"
}

# A setting written through sysfs reaches netlink listeners as a
# changelink's does: an RTM_NEWLINK of the master with the new value.
mon_count() { lab_guest $G "grep -c -F '$1' /tmp/mon.json"; }
settle_321_seen() { [ "$(mon_count '"settle_ms": 321')" -ge 1 ]; }

nl_sysfs_setting_newlink() {
	mon_start
	check_err $? "vfpath-ctl monitor did not start"
	lab_guest $G "echo 321 > /sys/class/net/$M/vfpath/settle_ms"
	check_err $? "sysfs settle_ms 321 refused"
	busywait 5000 settle_321_seen
	check_err $? "no RTM_NEWLINK carried settle_ms 321 after the sysfs write"
	mon_paths >/dev/null
	lab_guest $G "echo 250 > /sys/class/net/$M/vfpath/settle_ms"
	log_test "a setting written through sysfs is an RTM_NEWLINK with the new value"
}

nl_add_with_settings() {
	lab_guest $G "vfpath-ctl add m9 settle_ms 500 peer_notify 0 mode synthetic"
	check_err $? "add with settings failed"
	[ "$(ctl_field m9 settle_ms)" = 500 ] && [ "$(ctl_field m9 mode)" = synthetic ] &&
		[ "$(ctl_field m9 peer_notify)" = 0 ]
	check_err $? "m9: $(lab_guest $G "vfpath-ctl show m9")"
	lab_guest $G "ip link del m9"
	log_test "a master created with settings in IFLA_INFO_DATA"
}

# refused ARGS PATTERN: vfpath-ctl set must fail, the kernel saying PATTERN.
refused() {
	local out
	out=$(lab_guest $G "vfpath-ctl set $M $1 2>&1")
	[ $? -ne 0 ] && grep -qi "$2" <<<"$out" || { RETMSG="$1: '$out'"; return 1; }
}

nl_refusals() {
	refused "settle_ms 60001" "out of range"
	check_err $? "$RETMSG"
	refused "peer_notify_interval_ms 0" "out of range"
	check_err $? "$RETMSG"
	[ "$(ctl_field $M settle_ms)" = 250 ]
	check_err $? "a refused set changed settle_ms"
	lab_guest $G "vfpath-ctl show nosuchdev" 2>/dev/null
	check_fail $? "show of a missing device succeeded"
	lab_guest $G "vfpath-ctl show lo" 2>/dev/null
	check_fail $? "show of a non-vfpath device succeeded"
	lab_guest $G "vfpath-ctl set $M frobs 1" 2>/dev/null
	[ $? -eq 2 ]
	check_err $? "unknown setting not refused with usage"
	log_test "out-of-range values refused with the kernel's message; bad devices"
}

# Attributes are validated strictly (a new family): a u8 sent as a u32 is
# refused, not read by its first byte.
nl_strict_attributes() {
	refused "raw_u32:$IFLA_VFPATH_MODE 1" "invalid attribute length"
	check_err $? "$RETMSG"
	[ "$(ctl_field $M mode)" = auto ]
	check_err $? "a refused mode changed the mode: $(ctl_field $M mode)"
	log_test "IFLA_INFO_DATA validated strictly: a u8 given as a u32 refused"
}

# A master's address must be a unicast MAC, given at creation or later.
nl_address_validated() {
	local a out
	for a in 01:00:5e:00:00:01 00:00:00:00:00:00; do
		out=$(lab_guest $G "ip link add m8 address $a type vfpath 2>&1")
		[ $? -ne 0 ] && grep -q "unicast MAC" <<<"$out" && ! lab_guest $G "ip link show m8" 2>/dev/null
		check_err $? "ip link add with address $a: '$out'"
	done
	lab_guest $G "ip link add m8 address 02:00:5e:10:00:08 type vfpath &&
		[ \$(cat /sys/class/net/m8/address) = 02:00:5e:10:00:08 ] && ip link del m8"
	check_err $? "a master with a unicast address was not created"
	log_test "a master's address must be a unicast MAC (multicast, zero refused)"
}

# Roles are inferred from the bus; IFLA_VFPATH_SLAVE_ROLE overrides that
# (a vDPA virtio-net passed through is the fast path). Giving a slave the
# role another holds swaps them; traffic follows the VF role.
# roles_are DEV1 ROLE1 DEV2 ROLE2: transmit is on the VF role again and
# each device reports its role.
roles_are() {
	vfp_wait_path $G vf && [ "$(ctl_field "$1" role)" = "$2" ] &&
		[ "$(ctl_field "$3" role)" = "$4" ] ||
		{ RETMSG="$1=$(ctl_field "$1" role) $3=$(ctl_field "$3" role)"; return 1; }
}

nl_slave_role() {
	local syn vf tx0 tx1
	syn=$(lab_guest_netdev_by_driver $G virtio_net)
	vf=$(lab_guest_netdev_by_driver $G e1000e)
	lab_guest $G "vfpath-ctl role $syn vf"
	check_err $? "giving virtio-net the VF role failed"
	roles_are "$syn" vf "$vf" synthetic
	check_err $? "after swap: $RETMSG"
	tx0=$(lab_guest $G "cat /sys/class/net/$syn/statistics/tx_packets")
	lab_guest $G "ping -c 3 -W 2 $LAB_PEER_IP4 >/dev/null"
	check_err $? "no traffic with the roles swapped"
	tx1=$(lab_guest $G "cat /sys/class/net/$syn/statistics/tx_packets")
	[ $((tx1 - tx0)) -ge 3 ]
	check_err $? "virtio-net in the VF role sent $((tx1 - tx0)) of 3 pings"
	lab_guest $G "vfpath-ctl role $vf vf"
	check_err $? "swapping back failed"
	roles_are "$syn" synthetic "$vf" vf
	check_err $? "after swap back: $RETMSG"
	lab_guest $G "vfpath-ctl role lo vf" 2>/dev/null
	check_fail $? "role for a device that is no slave succeeded"
	lab_guest $G "vfpath-ctl role $vf fast" 2>/dev/null
	[ $? -eq 2 ]
	check_err $? "bad role name not refused with usage"
	log_test "slave roles set by IFLA_VFPATH_SLAVE_ROLE (swap and back), traffic follows"
}

vfp_boot $G
run_all_tests
exit $EXIT_STATUS
