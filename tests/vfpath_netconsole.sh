#!/usr/bin/env bash
# netconsole on the master: the kernel's log lines reach the peer by UDP
# through the slave that transmits (netpoll per slave), while on the VF,
# after a switch to virtio-net and back, across the VF leaving and a new
# one joining, from hard-IRQ context (a keyboard SysRq), and after
# netconsole is reloaded; the master goes away under netconsole (auto
# pairing: rmmod vfpath); the guest's kernel log stays free of warnings.
#
#   peer eth0 (tcpdump udp 6666) == br0 ==+== vm1-s (virtio-net) == \
#                                         |            netconsole on MASTER
#                                         +== vm1-v (e1000e, "VF") == /
#   the taps are captured too (-Q in: what the guest sent through each)
source "$(dirname "$0")/lib.sh"

ALL_TESTS="
	nc_setup
	nc_on_vf
	nc_on_synthetic
	nc_back_on_vf
	nc_from_hardirq
	nc_vf_unplug_replug
	nc_reload
	$([ "$VFP_PAIRING" = auto ] && echo nc_master_gone)
	dmesg_clean
"
G=vm1
M=$VFP_MASTER
NC_PORT=6666

set_mode() { lab_guest $G "echo $1 > /sys/class/net/$M/vfpath/mode"; }

# capture NAME NS-CMD IFACE [ARGS]: tcpdump of netconsole's UDP on IFACE
# into $LAB_DIR/NAME.txt (payload as text); waits until it listens.
capture() {
	local name=$1 run=$2 ifc=$3
	shift 3
	# A subshell's child: lab_cleanup ends it with its namespace.
	($run tcpdump -i "$ifc" "$@" -n -l -A "udp port $NC_PORT" \
		>"$LAB_DIR/$name.txt" 2>"$LAB_DIR/$name.err" &)
	busywait 10000 grep -qs 'listening on' "$LAB_DIR/$name.err"
}

seen() { grep -q "$2" "$LAB_DIR/$1.txt"; }

# nc_line TAG VIA: logs a marker line in the guest (KERN_CRIT, above the
# console level "quiet" leaves netconsole) and checks that the peer got
# it, sent through tap VIA (v or s) and not the other.
nc_line() {
	local mark="vfpath-nc-$1-$RANDOM" other=s
	[ "$2" = v ] || other=v
	lab_guest $G "echo '<2>$mark' > /dev/kmsg" || { echo "could not write to /dev/kmsg"; return 1; }
	busywait 5000 seen peer "$mark" || { echo "'$mark' did not reach the peer"; return 1; }
	busywait 5000 seen "tap-$2" "$mark" || { echo "'$mark' did not leave through $G-$2"; return 1; }
	! seen "tap-$other" "$mark" || { echo "'$mark' left through $G-$other too"; return 1; }
}

# nc_check TAG VIA [WHEN]: nc_line as a check of the current case.
nc_check() {
	local out
	out=$(nc_line "$1" "$2")
	check_err $? "${3:+$3: }$out"
}

# nc_mode MODE PATH: sets the master's mode, waits for transmit on PATH.
nc_mode() {
	set_mode "$1" && vfp_wait_path $G "$2"
	check_err $? "mode $1 did not bring transmit to $2: $(vfp_sys $G active_path)"
}

# nc_load: netconsole on the master, to the peer's netconsole port.
nc_load() {
	lab_guest $G "modprobe netconsole \
		netconsole=@/$M,$NC_PORT@$LAB_PEER_IP4/$(lab_peer cat /sys/class/net/eth0/address)"
}

nc_setup() {
	vfp_master_up $G && vfp_wait_path $G vf
	check_err $? "master not on the VF"
	capture peer lab_peer eth0 && capture tap-v lab_host $G-v -Q in &&
		capture tap-s lab_host $G-s -Q in
	check_err $? "tcpdump did not start"
	nc_load
	check_err $? "modprobe netconsole on $M refused"
	lab_guest $G "dmesg | grep -q 'netconsole: network logging started'"
	check_err $? "netconsole did not start: $(lab_guest $G "dmesg | grep -i netconsole | tail -n 3" | xargs)"
	log_test "$VFP_PAIRING pair on the VF, netconsole on $M to the peer"
}

nc_on_vf() {
	nc_check on-vf v
	log_test "a log line reaches the peer through the VF"
}

nc_on_synthetic() {
	nc_mode synthetic synthetic
	nc_check on-syn s
	log_test "after a switch to virtio-net, through virtio-net"
}

nc_back_on_vf() {
	nc_mode auto vf
	nc_check back-on-vf v
	log_test "back on the VF, through the VF"
}

# A SysRq from the keyboard prints in the keyboard's interrupt handler:
# netconsole then transmits in hard-IRQ context, where the master must
# not go through dev_queue_xmit() (local_bh_enable() warns there).
nc_from_hardirq() {
	local n0 out
	n0=$(grep -c 'HELP' "$LAB_DIR/peer.txt")
	lab_qmp $G send-key '{"keys": [{"type": "qcode", "data": "alt"},
		{"type": "qcode", "data": "sysrq"}, {"type": "qcode", "data": "h"}]}' >/dev/null
	check_err $? "QMP send-key alt-sysrq-h failed"
	busywait 10000 lab_guest $G "dmesg | grep -q 'sysrq: HELP'"
	check_err $? "the guest did not see the SysRq"
	busywait 5000 eval '[ "$(grep -c HELP "$LAB_DIR/peer.txt")" -gt "$n0" ]'
	check_err $? "SysRq help text (printed in the keyboard IRQ) did not reach the peer"
	out=$(guest_dmesg_clean $G)
	check_err $? "dmesg: $out"
	log_test "a line printed in hard IRQ (SysRq key) arrives, no warning"
}

nc_vf_unplug_replug() {
	lab_vf_unplug $G
	check_err $? "device_del of the VF did not complete"
	busywait 10000 vfp_path_is $G synthetic
	check_err $? "transmit not on virtio-net after the unplug"
	nc_check vf-gone s "VF gone"
	lab_vf_plug $G
	check_err $? "device_add of a VF failed"
	vfp_wait_path $G vf 20000
	check_err $? "transmit not back on the new VF: $(vfp_sys $G active_path)"
	nc_check new-vf v "new VF"
	log_test "VF unplugged: through virtio-net; a new VF joins: through it"
}

# Its last netpoll gone, the master frees the slaves'; set up again, it
# gives them new ones.
nc_reload() {
	lab_guest $G "rmmod netconsole" && nc_load
	check_err $? "netconsole did not reload on $M"
	nc_check reloaded v
	log_test "netconsole unloaded and loaded again: through the VF"
}

# The master unregisters under netconsole: netconsole lets go of it
# (NETDEV_UNREGISTER), the slaves' netpolls are freed, nothing hangs.
nc_master_gone() {
	vfp_guest_within $G 30000 "rmmod vfpath"
	check_err $? "rmmod vfpath under netconsole failed or hung"
	lab_guest $G "dmesg | grep -q 'network logging stopped on interface $M as it unregistered'"
	check_err $? "netconsole did not let go of $M"
	lab_guest $G "ip link show $M" >/dev/null 2>&1
	check_fail $? "$M still exists"
	log_test "rmmod vfpath under netconsole: master gone, nothing hangs"
}

vfp_boot $G
run_all_tests
exit $EXIT_STATUS
