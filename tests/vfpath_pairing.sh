#!/usr/bin/env bash
# How pairs form, and what is never enslaved. One guest, booted without the
# VF plugged (it is hot-plugged by the first case), with a second PCI NIC
# (e1000e "vf1", another MAC) on its own root port for the refusal cases.
# Each case after the first starts with reset (modules unloaded, the
# refusal cases' devices deleted) and sets up what it needs itself.
source "$(dirname "$0")/lib.sh"

ALL_TESTS="
	pair_virtio_first_vf_hotplugged
	pair_vf_driver_first
	pair_module_after_both
	pair_other_netns
	pair_manual
	pair_auto_refusals
	pair_manual_refusals
	pair_dmesg_clean
"
G=vm1
OTHER_MAC=52:54:00:5f:00:99

# reset: no vfpath, no NIC driver (both e1000e unbound), none of the
# devices the refusal cases add; a failure of the case if that fails.
reset() {
	lab_guest $G "for d in mv0 mv1 d0 va m1 m2; do ip link del \$d 2>/dev/null; done
		ip netns del other 2>/dev/null
		rmmod vfpath 2>/dev/null; rmmod virtio_net e1000e 2>/dev/null
		! test -d /sys/module/vfpath && ! test -d /sys/module/virtio_net &&
		! test -d /sys/module/e1000e"
	check_err $? "reset: modules still loaded: $(lab_guest $G "ls -d /sys/module/vfpath /sys/module/virtio_net /sys/module/e1000e 2>/dev/null" | xargs)"
}

netdev_of_mac_driver() {
	lab_guest $G "for d in /sys/class/net/*; do n=\${d##*/}
		[ \"\$(cat \$d/address)\" = '$1' ] &&
		[ \"\$(ethtool -i \$n 2>/dev/null | awk '/^driver/ {print \$2}')\" = '$2' ] &&
		echo \$n; done; true" | head -n 1
}

has_master() { lab_guest $G "test -d /sys/class/net/$VFP_MASTER"; }
two_lowers() { [ "$(lab_guest $G "ls -d /sys/class/net/$VFP_MASTER/lower_* 2>/dev/null | wc -l")" = 2 ]; }

pair_virtio_first_vf_hotplugged() {
	lab_guest $G "modprobe virtio_net && modprobe e1000e && insmod $VFP_KO"
	check_err $? "module load failed"
	! has_master
	check_err $? "a master formed with no VF present"
	lab_vf_plug $G
	check_err $? "device_add failed"
	busywait 15000 two_lowers
	check_err $? "VF did not pair: $(vfp_lowers $G $VFP_MASTER)"
	log_test "virtio-net first, VF hot-plugged: paired as $VFP_MASTER"
}

pair_vf_driver_first() {
	reset
	lab_guest $G "modprobe e1000e && insmod $VFP_KO && sleep 0.5 && modprobe virtio_net"
	check_err $? "module load failed"
	busywait 15000 two_lowers
	check_err $? "no pair: $(vfp_lowers $G $VFP_MASTER)"
	log_test "VF driver loaded before virtio_net: paired"
}

pair_module_after_both() {
	reset
	lab_guest $G "modprobe e1000e && modprobe virtio_net && sleep 0.5 && insmod $VFP_KO"
	check_err $? "module load failed"
	busywait 15000 two_lowers
	check_err $? "no pair: $(vfp_lowers $G $VFP_MASTER)"
	log_test "vfpath loaded after both NICs exist: paired"
}

# A VF in another netns is not paired; back in the master's, it pairs.
pair_other_netns() {
	local vf
	reset
	lab_guest $G "modprobe e1000e && modprobe virtio_net"
	check_err $? "loading the NIC drivers failed"
	vf=$(netdev_of_mac_driver $LAB_GUEST_MAC e1000e)
	lab_guest $G "ip netns add other && ip link set $vf netns other && insmod $VFP_KO && sleep 0.5"
	check_err $? "setup failed"
	! has_master
	check_err $? "paired with a VF in another netns"
	lab_guest $G "ip -n other link set $vf netns 1"
	busywait 15000 two_lowers
	check_err $? "VF back in the netns did not pair"
	lab_guest $G "ip netns del other"
	log_test "VF in another netns not paired; paired when it comes back"
}

pair_manual() {
	local syn vf
	reset
	lab_guest $G "modprobe e1000e && modprobe virtio_net && insmod $VFP_KO auto_pair=0 && sleep 0.5"
	check_err $? "loading the drivers and vfpath auto_pair=0 failed"
	! has_master
	check_err $? "auto_pair=0 still paired"
	syn=$(netdev_of_mac_driver $LAB_GUEST_MAC virtio_net)
	vf=$(netdev_of_mac_driver $LAB_GUEST_MAC e1000e)
	lab_guest $G "ip link add m0 type vfpath && ip link set $syn master m0 &&
		ip link set $vf master m0"
	check_err $? "manual enslave failed"
	[ "$(vfp_lowers $G m0)" = "$(echo "$syn $vf" | xargs -n1 | sort | xargs)" ]
	check_err $? "m0 slaves: $(vfp_lowers $G m0)"
	[ "$(lab_guest $G "cat /sys/class/net/m0/address")" = "$LAB_GUEST_MAC" ]
	check_err $? "m0 did not take its first slave's MAC"
	vfp_master_up $G m0
	check_err $? "no traffic through m0"
	busywait 10000 lab_guest $G "[ \$(cat /sys/class/net/m0/vfpath/active_path) = vf ]"
	check_err $? "m0 not on its VF"
	log_test "manual: ip link add type vfpath + set master, traffic on the VF"
}

# refused DEV MASTER PATTERN: enslaving must fail with PATTERN in the message.
refused() {
	local out
	out=$(lab_guest $G "ip link set $1 master $2 2>&1")
	[ $? -ne 0 ] && grep -q "$3" <<<"$out" || { RETMSG="$1: '$out'"; return 1; }
}

# bad_macs: a dummy and a veth with the VF's MAC; bad_macvlan: a macvlan
# with it, on the veth (which then has an upper).
bad_macs() {
	lab_guest $G "modprobe dummy numdummies=0 &&
		ip link add d0 address $LAB_GUEST_MAC type dummy &&
		ip link add va address $LAB_GUEST_MAC type veth peer name vb"
}
bad_macvlan() { lab_guest $G "ip link add link va name mv1 address $LAB_GUEST_MAC type macvlan"; }

master_of() { lab_guest $G "basename \$(readlink /sys/class/net/$1/master) 2>/dev/null"; }

# Auto pairing sees devices with the VF's MAC that are no VF (dummy, veth,
# macvlan), registered before virtio-net and the VF: none is paired, no
# master forms with virtio-net alone, the VF pairs with virtio-net.
pair_auto_refusals() {
	local syn vf d
	reset
	bad_macs && bad_macvlan
	check_err $? "creating the look-alikes failed"
	lab_guest $G "insmod $VFP_KO && modprobe virtio_net"
	check_err $? "loading vfpath and virtio_net failed"
	syn=$(netdev_of_mac_driver $LAB_GUEST_MAC virtio_net)
	[ -n "$syn" ] && ! has_master
	check_err $? "a master formed from virtio-net '$syn' and a look-alike: $(vfp_lowers $G $VFP_MASTER)"
	lab_guest $G "modprobe e1000e"
	check_err $? "loading e1000e failed"
	busywait 15000 two_lowers
	check_err $? "the VF did not pair: $(vfp_lowers $G $VFP_MASTER)"
	vf=$(netdev_of_mac_driver $LAB_GUEST_MAC e1000e)
	[ "$(vfp_lowers $G $VFP_MASTER)" = "$(echo "$syn $vf" | xargs -n1 | sort | xargs)" ]
	check_err $? "$VFP_MASTER slaves: $(vfp_lowers $G $VFP_MASTER), want $syn $vf"
	for d in d0 va mv1; do
		[ -z "$(master_of $d)" ]
		check_err $? "$d was enslaved to $(master_of $d)"
	done
	log_test "auto pairing: dummy/veth/macvlan with the VF's MAC never paired"
}

# Enslaving by hand: what is no VF or virtio-net, a second VF, a master,
# a device with an upper are refused with a message.
pair_manual_refusals() {
	local vf1
	reset
	lab_guest $G "modprobe virtio_net && modprobe e1000e && insmod $VFP_KO"
	check_err $? "loading the drivers and vfpath failed"
	busywait 15000 two_lowers
	check_err $? "no auto pair to refuse a second VF to: $(vfp_lowers $G $VFP_MASTER)"
	bad_macs && lab_guest $G "ip link add m1 type vfpath && ip link add m2 type vfpath"
	check_err $? "setup failed"
	vf1=$(netdev_of_mac_driver $OTHER_MAC e1000e)
	[ -n "$vf1" ]
	check_err $? "no e1000e with $OTHER_MAC"
	refused d0 m1 "virtio-net or a PCI" && refused va m1 "virtio-net or a PCI" &&
		bad_macvlan && refused mv1 m1 "virtio-net or a PCI"
	check_err $? "$RETMSG"
	[ "$(vfp_lowers $G m1)" = "" ]
	check_err $? "m1 has slaves: $(vfp_lowers $G m1)"
	refused "$vf1" $VFP_MASTER "already has a VF"
	check_err $? "$RETMSG"
	refused m2 m1 "master cannot be a slave"
	check_err $? "$RETMSG"
	# (A slave of another master is not a case: the kernel's set-master
	# first takes it out of its master, as with bonding.)
	lab_guest $G "ip link add link $vf1 name mv0 type macvlan" &&
		refused "$vf1" m1 "already has an upper device"
	check_err $? "$RETMSG"
	log_test "refused by hand: dummy/veth/macvlan with the VF's MAC, second VF, master, upper"
}

pair_dmesg_clean() {
	local out
	reset
	out=$(guest_dmesg_clean $G)
	check_err $? "dmesg: $out"
	log_test "dmesg free of WARNING/BUG/refcount messages"
}

lab_net_up
lab_tap_add $G-x
lab_guest_start $G vf-later \
	-netdev tap,id=hn2,ifname=$G-x,script=no,downscript=no \
	-device pcie-root-port,id=rp2,slot=2,chassis=2 \
	-device e1000e,netdev=hn2,mac=$OTHER_MAC,bus=rp2,id=vf1,romfile=
run_all_tests
exit $EXIT_STATUS
