#!/usr/bin/env bash
# MTU and VLANs through the master. MTU 9000 set on the master reaches both
# slaves and carries jumbo datagrams both ways; an MTU beyond one slave's
# maximum is refused before either slave changes; a VF joining later takes
# the master's MTU, or is refused when it cannot. A VLAN device on the
# master carries traffic
# while the path switches back and forth, nothing lost to the last frame.
source "$(dirname "$0")/lib.sh"

ALL_TESTS="
	mv_jumbo
	mv_mtu_beyond_a_slave
	mv_features_from_slaves
	mv_udp_gso_through_master
	mv_address_lists_and_flags
	mv_flags_while_down
	mv_vlan_across_switches
	mv_vf_joins_at_master_mtu
	mv_vf_refused_mtu
	dmesg_clean
"
G=vm1
M=$VFP_MASTER

mtu_of() { lab_guest $G "cat /sys/class/net/$1/mtu"; }
# slaves_get: SLAVES, the master's two slaves; a failure of the case if
# it does not have two, so that a loop over them cannot pass empty.
slaves_get() {
	SLAVES=$(lab_guest $G "ls /sys/class/net/$M | sed -n 's/^lower_//p'" | xargs)
	[ "$(wc -w <<<"$SLAVES")" -eq 2 ] || check_err 1 "$M has slaves '$SLAVES', not two"
}

host_mtu() {
	local d
	for d in br0 $G-s $G-v "$LAB_ID-p"; do
		ip -n "$LAB_HOST_NS" link set "$d" mtu "$1"
	done
	ip -n "$LAB_PEER_NS" link set eth0 mtu "$1"
}

mv_jumbo() {
	local s
	host_mtu 9000
	lab_guest $G "ip link set $M mtu 9000"
	check_err $? "MTU 9000 refused"
	slaves_get
	for s in $SLAVES; do
		[ "$(mtu_of "$s")" = 9000 ]
		check_err $? "slave $s has MTU $(mtu_of "$s")"
	done
	fg_guest_recv $G j-in 7101 --duration 30 &&
		fg_ns_recv "$LAB_PEER_NS" j-out 7102 --duration 30
	check_err $? "receivers did not start"
	fg_ns_send "$LAB_PEER_NS" j-in-tx "$LAB_GUEST_IP4" 7101 --rate 200 --count 400 --size 8900
	fg_guest_send $G j-out-tx "$LAB_PEER_IP4" 7102 --rate 200 --count 400 --size 8900
	fg_guest_report $G j-in 30000 && fg_wait j-out 30000
	check_err $? "flows incomplete"
	[ "$(json "$LAB_DIR/j-in.json" unique)" = 400 ] &&
		[ "$(json "$LAB_DIR/j-out.json" unique)" = 400 ]
	check_err $? "jumbo datagrams: $(json "$LAB_DIR/j-in.json" unique)/400 in, $(json "$LAB_DIR/j-out.json" unique)/400 out"
	log_test "MTU 9000 on the master: both slaves 9000, 8900-byte datagrams both ways"
}

# e1000e stops at 9198; virtio-net takes 9500. The master's bounds are the
# slaves' intersection, so 9500 is refused before either slave changes.
# (The rollback of a slave already changed, when the other refuses an MTU
# within its bounds, cannot be reached here: in 6.1 neither e1000e on
# QEMU's 82574 nor virtio-net refuses an MTU within max_mtu, and Debian's
# kernel has no netdev notifier error injection.)
mv_mtu_beyond_a_slave() {
	local s
	lab_guest $G "ip link set $M mtu 9500" 2>/dev/null
	check_fail $? "MTU 9500 accepted although the VF cannot"
	[ "$(mtu_of $M)" = 9000 ]
	check_err $? "master MTU now $(mtu_of $M)"
	slaves_get
	for s in $SLAVES; do
		[ "$(mtu_of "$s")" = 9000 ]
		check_err $? "slave $s left at MTU $(mtu_of "$s")"
	done
	log_test "MTU beyond one slave's maximum: refused, both slaves still at 9000"
}

maxmtu_of() { lab_guest $G "ip -d -j link show $1" | jq -r '.[0].max_mtu'; }
feature_of() { lab_guest $G "ethtool -k $1" | awk -v f="$2:" '$1 == f {print $2}'; }

# Bounds are the slaves' intersection, offloads their union (a frame the
# active slave cannot offload is finished in software on that slave).
mv_features_from_slaves() {
	local vf syn want s
	vf=$(lab_guest_netdev_by_driver $G e1000e)
	syn=$(lab_guest_netdev_by_driver $G virtio_net)
	want=$(for s in "$vf" "$syn"; do maxmtu_of "$s"; done | sort -n | head -n 1)
	[ "$(maxmtu_of $M)" = "$want" ]
	check_err $? "master max_mtu $(maxmtu_of $M), slaves' least $want"
	[ "$(feature_of $M scatter-gather)" = on ]
	check_err $? "master without scatter-gather although both slaves have it"
	lab_guest $G "ethtool -K $vf sg off" >/dev/null
	[ "$(feature_of $M scatter-gather)" = on ]
	check_err $? "master lost scatter-gather with one slave still offering it"
	lab_guest $G "ethtool -K $syn sg off" >/dev/null
	busywait 5000 eval '[ "$(feature_of $M scatter-gather)" = off ]'
	check_err $? "master kept scatter-gather that no slave offers"
	lab_guest $G "ethtool -K $vf sg on && ethtool -K $syn sg on" >/dev/null
	busywait 5000 eval '[ "$(feature_of $M scatter-gather)" = on ] &&
		[ "$(feature_of $M tcp-segmentation-offload)" = on ]'
	check_err $? "master did not get scatter-gather and TSO back"
	# Tunnel GSO is the master's to offer (net_failover's does): the
	# slave segments what it cannot do itself.
	[ "$(feature_of $M tx-udp_tnl-segmentation)" = on ] &&
		[ "$(feature_of $M tx-gre-segmentation)" = on ]
	check_err $? "master without tunnel GSO: udp_tnl $(feature_of $M tx-udp_tnl-segmentation), gre $(feature_of $M tx-gre-segmentation)"
	log_test "master bounds from both slaves (max_mtu $want), offloads while any slave has them, tunnel GSO"
}

# UDP GSO is offered by the master though neither slave has it: one
# super-datagram crosses the master and the slave's dev_queue_xmit()
# segments it (make bench's cost_vxlan: otherwise each segment crosses the
# master on its own). What the peer receives is every segment, whole, on
# either path.
mv_udp_gso_through_master() {
	local path out n
	[ "$(feature_of $M tx-udp-segmentation)" = on ]
	check_err $? "master without UDP GSO: tx-udp-segmentation $(feature_of $M tx-udp-segmentation)"
	for path in vf synthetic; do
		[ $path = vf ] || lab_guest $G "echo synthetic > /sys/class/net/$M/vfpath/mode"
		vfp_wait_path $G $path
		check_err $? "transmit not on $path"
		lab_peer "$LAB_BUILD/bin/vcost" udp-recv --port 9 >"$LAB_DIR/gso-$path.json" 2>&1 &
		busywait 5000 eval "lab_peer ss -Huln 'sport = :9' | grep -q ."
		out=$(lab_guest $G "vcost udp-send --dst $LAB_PEER_IP4 --port 9 --size 14000 --gso 1400 --count 20")
		check_err $? "$path: vcost udp-send: $(tail -n 1 <<<"$out")"
		busywait 5000 eval "grep -q packets '$LAB_DIR/gso-$path.json'"
		n=$(jq -r .packets "$LAB_DIR/gso-$path.json" 2>/dev/null)
		[ "$n" = 200 ]
		check_err $? "$path: the peer received ${n:-nothing} of 200 segments: $(head -c 200 "$LAB_DIR/gso-$path.json")"
		log_info "$path: 20 datagrams of 14000 B as 1400 B segments: the peer got ${n:-0}"
	done
	lab_guest $G "echo auto > /sys/class/net/$M/vfpath/mode"
	vfp_wait_path $G vf
	log_test "UDP GSO offered by the master without either slave's: every segment arrives, on both paths"
}

# slave_has SLAVE ADDR: ADDR is in SLAVE's unicast or multicast list.
slave_has() { lab_guest $G "bridge fdb show dev $1" | grep -q "^$2 "; }
flag_count() { lab_guest $G "ip -d -j link show $1" | jq -r ".[0].$2"; }
# IFF_ALLMULTI set by a counter is not in ip link's flags (only the user's
# own request is); sysfs shows dev->flags as they are.
allmulti_on() { [ $(($(lab_guest $G "cat /sys/class/net/$1/flags") & 0x200)) -ne 0 ]; }

# What the stack asks of the master reaches both slaves, and leaves them
# when withdrawn: a unicast address (a macvlan on the master), a multicast
# group, promiscuous and all-multicast mode.
mv_address_lists_and_flags() {
	local s uc=52:54:00:5f:00:42 mc=33:33:00:00:12:34
	lab_guest $G "ip link add link $M name mvl0 address $uc type macvlan && ip link set mvl0 up &&
		ip maddr add $mc dev $M && ip link set $M promisc on allmulticast on"
	check_err $? "setting addresses and flags on $M failed"
	slaves_get
	for s in $SLAVES; do
		slave_has "$s" "$uc" && slave_has "$s" "$mc"
		check_err $? "slave $s lacks $uc or $mc: $(lab_guest $G "bridge fdb show dev $s" | xargs)"
		[ "$(flag_count "$s" promiscuity)" -ge 1 ] && allmulti_on "$s"
		check_err $? "slave $s: promiscuity $(flag_count "$s" promiscuity), flags $(lab_guest $G "cat /sys/class/net/$s/flags")"
	done
	lab_guest $G "ip link del mvl0 && ip maddr del $mc dev $M &&
		ip link set $M promisc off allmulticast off"
	slaves_get
	for s in $SLAVES; do
		! slave_has "$s" "$uc" && ! slave_has "$s" "$mc" &&
			[ "$(flag_count "$s" promiscuity)" = 0 ] && ! allmulti_on "$s"
		check_err $? "slave $s kept something: $(lab_guest $G "ip -d link show $s | head -3 | xargs")"
	done
	log_test "unicast/multicast lists, promisc and allmulti reach both slaves and leave them"
}

# promisc/allmulti set while the master is down reach its slaves too, a VF
# that joins the down master gets them, and clearing them leaves every
# slave's count at zero (not below: stuck promiscuous, later -EOVERFLOW).
mv_flags_while_down() {
	local s vf
	lab_guest $G "ip link set $M down && ip link set $M promisc on allmulticast on"
	check_err $? "promisc/allmulti on the down master failed"
	lab_vf_unplug $G && lab_vf_plug $G
	check_err $? "VF unplug/plug failed"
	busywait 15000 lab_guest $G "[ \$(ls /sys/class/net/$M | grep -c '^lower_') = 2 ]"
	check_err $? "the VF did not rejoin the down master"
	slaves_get
	for s in $SLAVES; do
		[ "$(flag_count "$s" promiscuity)" = 1 ] && allmulti_on "$s"
		check_err $? "slave $s of the down master: promiscuity $(flag_count "$s" promiscuity), flags $(lab_guest $G "cat /sys/class/net/$s/flags")"
	done
	lab_guest $G "ip link set $M promisc off allmulticast off && ip link set $M up"
	check_err $? "clearing the flags or bringing the master up failed"
	for s in $SLAVES; do
		[ "$(flag_count "$s" promiscuity)" = 0 ] && ! allmulti_on "$s"
		check_err $? "slave $s after promisc off: promiscuity $(flag_count "$s" promiscuity), flags $(lab_guest $G "cat /sys/class/net/$s/flags")"
	done
	vf=$(lab_guest_netdev_by_driver $G e1000e)
	lab_guest $G "dmesg | grep -q '$vf: promiscuity touches roof'"
	check_fail $? "the new VF's promiscuity overflowed"
	# Its address stayed: only the peer's answer and the path to wait for.
	busywait 15000 lab_guest $G "ping -c 1 -W 1 $LAB_PEER_IP4 >/dev/null" && vfp_wait_path $G vf
	check_err $? "the master is not back on the VF"
	log_test "promisc/allmulti while the master is down: a joining VF gets them, counts balanced"
}

# The peer of the VLAN is a second lab guest (the host kernel here has no
# 8021q): virtio-net only, its own MAC, eth0.10 198.18.10.1.
P=vlanpeer

mv_vlan_across_switches() {
	local i n
	lab_guest $G "ip link add link $M name vlan10 type vlan id 10 &&
		ip addr add 198.18.10.2/24 dev vlan10 && ip link set vlan10 up"
	check_err $? "VLAN on the master failed"
	ip -n "$LAB_HOST_NS" link set $P-s mtu 9000
	lab_guest $P "modprobe virtio_net && ip link set eth0 mtu 9000 up &&
		ip link add link eth0 name eth0.10 type vlan id 10 &&
		ip addr add 198.18.10.1/24 dev eth0.10 && ip link set eth0.10 up"
	check_err $? "VLAN on the peer guest failed"
	busywait 10000 lab_guest $G "ping -c 1 -W 1 198.18.10.1 >/dev/null"
	check_err $? "no reply over VLAN 10"
	n=$((VFP_RATE * 6))
	fg_guest_recv $G v-in 7201 --duration 40 --expect $n &&
		fg_guest_recv $P v-out 7202 --duration 40 --expect $n
	check_err $? "receivers did not start"
	fg_guest_send $P v-in-tx 198.18.10.2 7201 --rate "$VFP_RATE" --count $n
	fg_guest_send $G v-out-tx 198.18.10.1 7202 --rate "$VFP_RATE" --count $n
	for i in 1 2; do
		sleep 1
		lab_guest $G "echo synthetic > /sys/class/net/$M/vfpath/mode"
		sleep 1
		lab_guest $G "echo auto > /sys/class/net/$M/vfpath/mode"
	done
	fg_guest_report $G v-in 30000 && fg_guest_report $P v-out 30000
	check_err $? "flows incomplete"
	log_info "VLAN 10, 4 switches: lost to guest $(json "$LAB_DIR/v-in.json" lost), from guest $(json "$LAB_DIR/v-out.json" lost)"
	# Judged against what was sent (--expect) and only with the sender's
	# FIN seen, so that a loss at the tail counts too.
	[ "$(json "$LAB_DIR/v-in.json" fin)" = true ] && [ "$(json "$LAB_DIR/v-out.json" fin)" = true ]
	check_err $? "no FIN: to guest $(json "$LAB_DIR/v-in.json" fin), from guest $(json "$LAB_DIR/v-out.json" fin)"
	[ "$(json "$LAB_DIR/v-in.json" lost)" = 0 ] && [ "$(json "$LAB_DIR/v-out.json" lost)" = 0 ] &&
		[ "$(json "$LAB_DIR/v-in.json" unique)" = $n ] && [ "$(json "$LAB_DIR/v-out.json" unique)" = $n ]
	check_err $? "loss over the VLAN across switches"
	[ "$(vfp_sys $G switches_manual)" -ge 4 ]
	check_err $? "switches_manual $(vfp_sys $G switches_manual)"
	log_test "VLAN 10 on the master: 0 lost across 4 manual switches"
}

mv_vf_joins_at_master_mtu() {
	local vf
	lab_vf_unplug $G
	check_err $? "unplug failed"
	lab_vf_plug $G
	busywait 15000 lab_guest $G "[ \$(ls /sys/class/net/$M | grep -c '^lower_') = 2 ]"
	check_err $? "the VF did not rejoin"
	vf=$(lab_guest_netdev_by_driver $G e1000e)
	[ "$(mtu_of "$vf")" = 9000 ]
	check_err $? "new VF $vf has MTU $(mtu_of "$vf")"
	lab_guest $G "ip link show vlan10 >/dev/null"
	check_err $? "VLAN device lost"
	log_test "a VF joining later takes the master's MTU 9000"
}

mv_vf_refused_mtu() {
	lab_vf_unplug $G
	lab_guest $G "ip link set $M mtu 9500"
	check_err $? "master alone (virtio-net) refused MTU 9500"
	lab_vf_plug $G
	busywait 15000 lab_guest $G "dmesg | grep -q 'refused MTU 9500'"
	check_err $? "no refusal message for the VF"
	[ "$(lab_guest $G "ls /sys/class/net/$M | grep -c '^lower_'")" = 1 ]
	check_err $? "a VF that cannot take MTU 9500 was enslaved"
	log_test "a VF that cannot take the master's MTU is refused, with a message"
}

vfp_boot $G
LAB_MAC=52:54:00:5f:00:77 lab_guest_start $P virtio
vfp_master_up $G && vfp_wait_path $G vf
run_all_tests
exit $EXIT_STATUS
