#!/usr/bin/env bash
# What a slave has while it is one, and what it gets back when released.
# The master's MAC is the slaves' (their receive filters pass only it):
# changed on the master, both slaves take it, or, for a STANDBY master,
# the change is refused as net_failover refuses it. Broadcasts, flooded
# by the host to both taps, are delivered once (from the transmitting
# path). An auto or STANDBY master keeps its slaves against `ip link set
# nomaster` (IFLA_MASTER=0, which systemd-networkd sends), as
# net_failover does; deleting it releases both. A slave released from a
# manual master with `ip link set nomaster` gets back its MTU,
# its MAC, its down state, no address the master gave it, and IPv6
# configures it again when it comes up. While enslaved, neither slave has
# an IPv6 address, also after it goes down and up again (IFF_SLAVE keeps
# addrconf off up to 6.1, IFF_NO_ADDRCONF since 6.2).
source "$(dirname "$0")/lib.sh"

ALL_TESTS="
	ss_setup
	ss_no_addrconf_on_slaves
	ss_mac_change
	ss_broadcast_once
	ss_keeps_slaves
	ss_deleted_releases
	ss_release_restores
	ss_manual_master_current_mac
	dmesg_clean
"
G=vm1
M=$VFP_MASTER
NEWMAC=02:00:5e:10:00:01
MCAST=01:00:5e:01:02:03
OTHERMAC=02:00:5e:10:00:07

mac_of() { lab_guest $G "cat /sys/class/net/$1/address"; }
mtu_of() { lab_guest $G "cat /sys/class/net/$1/mtu"; }
# peer_ping: the guest pings the peer afresh; the peer's ARP reply and
# echo replies go to the master's current MAC.
peer_ping() {
	ip -n "$LAB_PEER_NS" neigh flush all >/dev/null 2>&1
	lab_guest $G "ip neigh flush dev $M; ping -c 2 -W 2 $LAB_PEER_IP4 >/dev/null"
}
set_mode() { lab_guest $G "echo $1 > /sys/class/net/$M/vfpath/mode"; }

ss_setup() {
	vfp_setup_on_vf $G
	VF_MAC=$(mac_of "$VF") VF_MTU=$(mtu_of "$VF")
}

# slave_inet6: the slaves' IPv6 addresses, if any.
slave_inet6() { lab_guest $G "ip -6 addr show dev $VF; ip -6 addr show dev $SYN" | grep inet6; }

# Two slaves with one MAC would both claim one link-local address and
# each see the other's DAD probe.
ss_no_addrconf_on_slaves() {
	busywait 5000 lab_guest $G "ip -6 addr show dev $M scope link | grep -q fe80"
	check_err $? "the master has no IPv6 link-local: addrconf did not run"
	[ -z "$(slave_inet6)" ]
	check_err $? "a slave has IPv6 addresses: $(slave_inet6 | xargs)"
	# NETDEV_UP is where addrconf starts: a slave coming up again.
	lab_guest $G "ip link set $SYN down && ip link set $SYN up"
	check_err $? "virtio-net down/up failed"
	! busywait 2000 eval '[ -n "$(slave_inet6)" ]'
	check_err $? "after down/up a slave has IPv6 addresses: $(slave_inet6 | xargs)"
	vfp_wait_path $G vf
	check_err $? "the VF does not carry after virtio-net's down/up"
	log_test "no IPv6 address on either slave, also after one goes down and up"
}

ss_mac_change() {
	if [ "$VFP_PAIRING" = standby ]; then
		! lab_guest $G "ip link set $M address $NEWMAC" 2>/dev/null
		check_err $? "a STANDBY master took a new MAC (net_failover refuses)"
		[ "$(mac_of $M)" = "$LAB_GUEST_MAC" ] && [ "$(mac_of "$VF")" = "$LAB_GUEST_MAC" ] &&
			[ "$(mac_of "$SYN")" = "$LAB_GUEST_MAC" ]
		check_err $? "MACs changed: master $(mac_of $M), VF $(mac_of "$VF"), virtio-net $(mac_of "$SYN")"
		peer_ping
		check_err $? "the peer does not reach the guest"
		log_test "MAC change on a STANDBY master refused, as net_failover's"
		return
	fi
	lab_guest $G "ip link set $M address $NEWMAC"
	check_err $? "ip link set address failed"
	[ "$(mac_of "$VF")" = $NEWMAC ] && [ "$(mac_of "$SYN")" = $NEWMAC ]
	check_err $? "slaves did not take the master's MAC: VF $(mac_of "$VF"), virtio-net $(mac_of "$SYN")"
	peer_ping
	check_err $? "the peer does not reach the new MAC on the VF"
	set_mode synthetic && vfp_wait_path $G synthetic && peer_ping
	check_err $? "the peer does not reach the new MAC on virtio-net"
	set_mode auto && vfp_wait_path $G vf
	check_err $? "mode auto did not return to the VF"
	log_test "MAC change on the master: both slaves take it, the peer reaches it on both paths"
}

# bcast_once NAME: 500 broadcasts from the peer reach the guest's socket
# once each; the copies that came on the other path were dropped.
bcast_once() {
	local d0 d1
	d0=$(vfp_sys $G rx_other_path_mcast)
	fg_guest_recv $G "$1" 7010 --duration 30 --expect 500 &&
		fg_ns_send "$LAB_PEER_NS" "$1-tx" 198.18.0.255 7010 --rate 1000 --count 500 &&
		fg_guest_report $G "$1" 30000
	check_err $? "no report from the guest's receiver"
	d1=$(vfp_sys $G rx_other_path_mcast)
	log_info "$1: unique $(json "$LAB_DIR/$1.json" unique), duplicated $(json "$LAB_DIR/$1.json" duplicated), rx_other_path_mcast +$((d1 - d0))"
	[ "$(json "$LAB_DIR/$1.json" unique)" = 500 ] && [ "$(json "$LAB_DIR/$1.json" duplicated)" = 0 ]
	check_err $? "500 broadcasts sent: $(json "$LAB_DIR/$1.json" unique) unique, $(json "$LAB_DIR/$1.json" duplicated) duplicated"
	[ $((d1 - d0)) -ge 450 ]
	check_err $? "the other path's copies were not seen: rx_other_path_mcast +$((d1 - d0))"
}

ss_broadcast_once() {
	bcast_once bc-vf
	set_mode synthetic && vfp_wait_path $G synthetic
	check_err $? "mode synthetic did not switch"
	bcast_once bc-syn
	set_mode auto && vfp_wait_path $G vf
	check_err $? "mode auto did not return to the VF"
	log_test "broadcasts flooded to both taps are delivered once, on either path"
}

# is_slave_of DEV MASTER: DEV's upper is MASTER.
is_slave_of() { lab_guest $G "[ \"\$(basename \"\$(readlink /sys/class/net/$1/master)\")\" = $2 ]"; }

# systemd-networkd sends IFLA_MASTER=0 for a slave that a .network of its
# own matches (netplan's match by MAC matches both slaves): an auto or
# STANDBY master must keep its pair, as net_failover (no ndo_del_slave)
# keeps its own.
ss_keeps_slaves() {
	local change0 s
	change0=$(vfp_sys $G switches_slave_change)
	for s in "$VF" "$SYN"; do
		! lab_guest $G "ip link set $s nomaster 2>/dev/null"
		check_err $? "ip link set $s nomaster succeeded on the $VFP_PAIRING master"
		is_slave_of "$s" "$M"
		check_err $? "$s is no longer a slave of $M"
	done
	[ "$(vfp_sys $G switches_slave_change)" = "$change0" ]
	check_err $? "slave_change counted $change0 -> $(vfp_sys $G switches_slave_change)"
	vfp_path_is $G vf && peer_ping
	check_err $? "after the refused nomaster the VF does not carry"
	lab_guest $G "dmesg | grep -q '$VF stays a slave'"
	check_err $? "no message says why nomaster was refused"
	log_test "the $VFP_PAIRING master keeps its slaves against nomaster (IFLA_MASTER=0)"
}

# Deleting the auto or STANDBY master releases both slaves as they were;
# the cases after this one run on a manual master of the same name, with
# the same slaves, which nomaster releases.
ss_deleted_releases() {
	lab_guest $G "ip link del $M"
	check_err $? "ip link del $M failed"
	! is_slave_of "$VF" "$M" && ! is_slave_of "$SYN" "$M" &&
		! lab_guest $G "ip link show $VF | grep -q SLAVE; ip link show $SYN | grep -q SLAVE"
	check_err $? "a slave of the deleted master still is one"
	[ "$(mtu_of "$VF")" = "$VF_MTU" ] && [ "$(mac_of "$VF")" = "$VF_MAC" ]
	check_err $? "released VF: MTU $(mtu_of "$VF") (was $VF_MTU), MAC $(mac_of "$VF") (was $VF_MAC)"
	lab_guest $G "ip link add $M type vfpath && ip link set $SYN master $M &&
		ip link set $VF master $M"
	check_err $? "the manual master $M over $SYN and $VF not made"
	vfp_master_up $G && vfp_wait_path $G vf
	check_err $? "the manual master does not carry on the VF"
	log_test "deleting the $VFP_PAIRING master releases both slaves as they were"
}

ss_release_restores() {
	local unreg0 change0 ll
	# A MAC of the master's own makes the VF's given-back MAC differ
	# from the master's, so their link-locals differ too. Not over a
	# STANDBY virtio-net: virtio_net refuses its MAC changes.
	[ "$VFP_PAIRING" = standby ] || lab_guest $G "ip link set $M address $NEWMAC"
	lab_guest $G "ip link set $M mtu 1400 && ip maddr add $MCAST dev $M"
	check_err $? "MTU or multicast address on the master failed"
	[ "$(mtu_of "$VF")" = 1400 ] && lab_guest $G "ip maddr show dev $VF | grep -q $MCAST"
	check_err $? "the VF did not take the master's MTU and multicast address"
	unreg0=$(vfp_sys $G switches_vf_unregister) change0=$(vfp_sys $G switches_slave_change)
	lab_guest $G "ip link set $VF nomaster"
	check_err $? "ip link set nomaster failed"
	[ "$(mtu_of "$VF")" = "$VF_MTU" ] && [ "$(mac_of "$VF")" = "$VF_MAC" ]
	check_err $? "released VF: MTU $(mtu_of "$VF") (was $VF_MTU), MAC $(mac_of "$VF") (was $VF_MAC)"
	! lab_guest $G "ip maddr show dev $VF | grep -q $MCAST" &&
		! lab_guest $G "ip link show $VF | grep -q SLAVE"
	check_err $? "released VF keeps the master's multicast address or IFF_SLAVE"
	! lab_guest $G "ip link show $VF | grep -q ',UP'"
	check_err $? "released VF is up; it was down when it joined"
	[ "$(vfp_sys $G switches_vf_unregister)" = "$unreg0" ] &&
		[ "$(vfp_sys $G switches_slave_change)" -gt "$change0" ]
	check_err $? "nomaster counted as vf_unregister ($unreg0 -> $(vfp_sys $G switches_vf_unregister)), slave_change $change0 -> $(vfp_sys $G switches_slave_change)"
	lab_guest $G "ip link set $VF up"
	busywait 5000 lab_guest $G "ip -6 addr show dev $VF scope link | grep -q fe80"
	check_err $? "released VF up, but no IPv6 link-local: $(lab_guest $G "ip -6 addr show dev $VF" | xargs)"
	ll=$(lab_guest $G "ip -6 addr show dev $VF scope link" | awk '/inet6/ {print $2}')
	lab_guest $G "ip link set $VF down && ip link set $VF master $M"
	check_err $? "the VF did not join again"
	[ "$(mtu_of "$VF")" = 1400 ] && vfp_wait_path $G vf
	check_err $? "the VF rejoined without the master's MTU, or carries nothing"
	lab_guest $G "ip maddr del $MCAST dev $M && ip link set $M mtu 1500"
	[ "$VFP_PAIRING" = standby ] || lab_guest $G "ip link set $M address $LAB_GUEST_MAC"
	peer_ping
	check_err $? "the peer does not reach the guest after the VF rejoined"
	log_info "released VF: MTU $VF_MTU, MAC $VF_MAC, down; up: link-local ${ll:-none}"
	log_test "a released slave gets back its MTU, MAC, down state and IPv6 link-local"
}

# A manual master takes its first slave's MAC as the slave filters it now,
# not its permanent one (a virtio-net given a random MAC has a zero one).
ss_manual_master_current_mac() {
	lab_guest $G "ip link set $VF nomaster && ip link set $VF address $OTHERMAC &&
		ip link add m7 type vfpath && ip link set $VF master m7"
	check_err $? "the VF did not join a new manual master"
	[ "$(mac_of m7)" = $OTHERMAC ] && [ "$(mac_of "$VF")" = $OTHERMAC ]
	check_err $? "manual master m7 took $(mac_of m7); its slave filters $(mac_of "$VF")"
	lab_guest $G "ip link del m7 && ip link set $VF address $VF_MAC && ip link set $VF master $M"
	check_err $? "the VF did not go back to $M"
	vfp_wait_path $G vf && peer_ping
	check_err $? "back in $M, the VF carries nothing"
	log_test "a manual master takes its first slave's current MAC, not its permanent one"
}

vfp_boot $G
run_all_tests
exit $EXIT_STATUS
