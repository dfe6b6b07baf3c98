#!/usr/bin/env bash
# Orderly VF hot-unplug and re-plug under traffic (VFP_PAIRING: auto or standby):
# zero packets lost in both directions, transmit back on the VF after
# settle_ms, and the switch announced on the VF's tap (a gratuitous ARP
# seen by tcpdump on the host side).
#
#   peer ==== br0 ==+== vm1-s (virtio-net) == eth0 \
#                   |                               vfp5f0002 198.18.0.2
#                   +== vm1-v (e1000e, "VF") == eth1 /
#                       device_del at 3 s, device_add at 7 s
source "$(dirname "$0")/lib.sh"

ALL_TESTS="
	ur_paired_on_vf
	ur_unplug_replug_no_loss
	ur_back_on_vf_and_announced
	ur_counters
	ur_virtio_announce_repeated
	dmesg_clean
"
G=vm1
SECS=12

ur_paired_on_vf() {
	[ "$(vfp_lowers $G $VFP_MASTER)" = "$VFP_SLAVES" ]
	check_err $? "master slaves: '$(vfp_lowers $G $VFP_MASTER)', want '$VFP_SLAVES'"
	vfp_master_up $G
	check_err $? "peer not reachable through $VFP_MASTER"
	vfp_wait_path $G vf
	check_err $? "transmit not on the VF: $(vfp_sys $G active_path)"
	log_test "$VFP_PAIRING pair $VFP_MASTER ($VFP_SLAVES), transmit on the VF"
}

ur_unplug_replug_no_loss() {
	local t0 t1
	# -Q in: what the guest sent through the VF, not what the bridge
	# flooded onto its tap from the virtio-net one.
	lab_host tcpdump -i $G-v -Q in -n -e -l "arp and ether src $LAB_GUEST_MAC" \
		>"$LAB_DIR/vf-tap.txt" 2>/dev/null &
	vfp_flows_start $G ur $SECS
	check_err $? "flows did not start"
	sleep 3
	t0=$(lab_now_ms)
	lab_vf_unplug $G
	check_err $? "device_del of the VF did not complete"
	t1=$(lab_now_ms)
	log_info "device_del -> DEVICE_DELETED: $((t1 - t0)) ms"
	busywait 10000 vfp_path_is $G synthetic
	check_err $? "transmit not on virtio-net after the unplug"
	sleep 3
	T_PLUG=$(lab_now_ms)
	lab_vf_plug $G
	check_err $? "device_add of a VF failed"
	vfp_flows_wait $G ur
	check_err $? "flow reports incomplete"
	[ "$LOST_IN" = 0 ] && [ "$LOST_OUT" = 0 ]
	check_err $? "lost to guest $LOST_IN, from guest $LOST_OUT"
	log_test "VF unplug and re-plug at ${VFP_RATE} pps both ways: 0 lost"
}

ur_back_on_vf_and_announced() {
	local garps rx0 rx1
	vfp_wait_path $G vf 20000
	check_err $? "transmit not back on the VF: $(vfp_sys $G active_path)"
	[ "$(vfp_lowers $G $VFP_MASTER)" = "$VFP_SLAVES" ] ||
		[ "$(lab_guest $G "ls /sys/class/net/$VFP_MASTER/ | grep -c '^lower_'")" = 2 ]
	check_err $? "the new VF did not join $VFP_MASTER"
	busywait 5000 grep -q "Request who-has $LAB_GUEST_IP4 tell $LAB_GUEST_IP4" "$LAB_DIR/vf-tap.txt"
	check_err $? "no gratuitous ARP on the VF's tap"
	garps=$(grep -c "who-has $LAB_GUEST_IP4 tell $LAB_GUEST_IP4" "$LAB_DIR/vf-tap.txt")
	pkill -f "tcpdump -i $G-v" 2>/dev/null
	# The guest's traffic really leaves through the VF: its tap's receive
	# counter moves by what a 1 s burst sends (active_path alone could lie).
	rx0=$(lab_host cat /sys/class/net/$G-v/statistics/rx_packets)
	lab_guest $G "flowgen send --dst $LAB_PEER_IP4 --port 7009 --rate $VFP_RATE --count $VFP_RATE >/dev/null"
	rx1=$(lab_host cat /sys/class/net/$G-v/statistics/rx_packets)
	[ $((rx1 - rx0)) -ge "$VFP_RATE" ]
	check_err $? "the VF's tap received $((rx1 - rx0)) frames of the guest's $VFP_RATE"
	log_info "gratuitous ARPs seen on the VF's tap: $garps"
	log_test "transmit back on the new VF (its tap counts the frames), announced on its tap"
}

ur_counters() {
	local unbind ready lat
	unbind=$(vfp_sys $G switches_vf_unbind)
	ready=$(vfp_sys $G switches_vf_ready)
	[ "$unbind" = 1 ] && [ "$ready" = 2 ]
	check_err $? "switches: vf_unbind=$unbind (want 1), vf_ready=$ready (want 2)"
	[ "$(vfp_sys $G last_switch_reason)" = vf_ready ]
	check_err $? "last reason $(vfp_sys $G last_switch_reason)"
	lab_guest $G "ethtool -S $VFP_MASTER" | grep -E 'tx_packets|rx_packets|switches:|peer_notif' |
		tr -s ' ' | sed 's/^/INFO: /'
	# Switch latency: VF carrier up (kernel log) -> vfpath:vfpath_switch
	# (tracepoint); both are stamped with the guest's local clock.
	lat=$(lab_guest $G "up=\$(dmesg | grep 'NIC Link is Up' | tail -n 1 |
			sed 's/^\[ *\([0-9.]*\)\].*/\1/')
		sw=\$(grep 'reason=vf_ready' /sys/kernel/tracing/trace | tail -n 1 |
			awk '{ sub(/:\$/, \"\", \$4); print \$4 }')
		awk -v a=\$up -v b=\$sw 'BEGIN { printf \"%.0f\", (b - a) * 1000 }'")
	log_info "last VF carrier-up -> switch to it: ${lat:-?} ms (settle_ms $(vfp_sys $G settle_ms))"
	# Not before settle_ms (a lower bound of the design, not a speed limit).
	[[ "$lat" =~ ^[0-9]+$ ]] && [ "$lat" -ge "$(vfp_sys $G settle_ms)" ]
	check_err $? "switched to the VF ${lat:-?} ms after its carrier came up, settle_ms is $(vfp_sys $G settle_ms)"
	log_test "switch counters: vf_unbind=1, vf_ready=2; the switch waited settle_ms"
}

# After a migration QEMU has virtio-net ask the guest to announce itself
# (VIRTIO_NET_S_ANNOUNCE -> NETDEV_NOTIFY_PEERS on the synthetic slave,
# which has no address of its own). QMP announce-self does the same
# without a migration; the master must announce its addresses on its
# active path, peer_notify times, without switching.
ur_virtio_announce_repeated() {
	local n0 s0 garps nas v6
	lab_guest $G "echo 3 > /sys/class/net/$VFP_MASTER/vfpath/peer_notify &&
		echo 50 > /sys/class/net/$VFP_MASTER/vfpath/peer_notify_interval_ms"
	check_err $? "setting peer_notify 3, interval 50 ms failed"
	# Each announcement: one gratuitous ARP, one NA per IPv6 address.
	v6=$(lab_guest $G "ip -6 -j addr show dev $VFP_MASTER" | jq '[.[].addr_info[]] | length')
	n0=$(vfp_sys $G peer_notifications)
	s0=$(vfp_sys $G switches)
	lab_host tcpdump -i $G-v -Q in -n -l "ether src $LAB_GUEST_MAC and (arp or icmp6)" \
		>"$LAB_DIR/vf-tap-announce.txt" 2>/dev/null &
	sleep 1		# tcpdump has no "listening" signal once -l goes to a file
	lab_qmp $G announce-self '{"initial": 50, "max": 100, "rounds": 1, "step": 50}' >/dev/null
	check_err $? "QMP announce-self failed"
	busywait 5000 eval '[ "$(vfp_sys $G peer_notifications)" -ge $((n0 + 3)) ]'
	check_err $? "peer_notifications $(vfp_sys $G peer_notifications), want $((n0 + 3))"
	busywait 5000 eval '[ "$(grep -c "who-has $LAB_GUEST_IP4 tell $LAB_GUEST_IP4" "$LAB_DIR/vf-tap-announce.txt")" -ge 3 ]'
	check_err $? "gratuitous ARPs on the VF's tap: $(grep -c "tell $LAB_GUEST_IP4" "$LAB_DIR/vf-tap-announce.txt")"
	# Exactly three: ten intervals more without a fourth.
	sleep 0.5
	garps=$(grep -c "who-has $LAB_GUEST_IP4 tell $LAB_GUEST_IP4" "$LAB_DIR/vf-tap-announce.txt")
	nas=$(grep -c "neighbor advertisement" "$LAB_DIR/vf-tap-announce.txt")
	pkill -f "tcpdump -i $G-v" 2>/dev/null
	[ "$(vfp_sys $G peer_notifications)" = $((n0 + 3)) ]
	check_err $? "peer_notifications $n0 -> $(vfp_sys $G peer_notifications), want +3"
	[ "$garps" = 3 ] && [ "$nas" = $((3 * v6)) ]
	check_err $? "on the VF's tap: $garps gratuitous ARPs (want 3), $nas NAs (want 3 x $v6 addresses)"
	[ "$(vfp_sys $G switches)" = "$s0" ]
	check_err $? "the announcement switched the path"
	log_info "after announce-self: $garps gratuitous ARPs, $nas NAs ($v6 IPv6 addresses) on the VF's tap"
	log_test "virtio-net's announce (NOTIFY_PEERS) repeated as the master's, exactly 3 times"
}

vfp_boot $G
run_all_tests
exit $EXIT_STATUS
