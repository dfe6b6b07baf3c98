#!/usr/bin/env bash
# vfpath-migrate's QMP back-end: a live migration with a VF, Hyper-V style
# (revoke the VF, migrate over virtio-net, offer a VF on the destination),
# there and back between QEMU processes on one bridge, under flowgen both
# ways and a long-lived TCP connection. Then the failure paths: a
# destination that refuses, and a guest that never releases its VF.
#
#   vm1 (source) --migrate--> vm1b --migrate--> vm1c (the source host again)
#
# Loss bound per direction: rate x QEMU's downtime + 2. It holds because
# the lab's host does what a host network must at switch-over: when the
# source stops the guest, the guest's MAC moves to the destination's port,
# where frames queue until the guest resumes: there by a command
# (--on-stop with `bridge fdb replace`), back by vfpath-migrate itself
# (--move-mac, netlink from the process that sees the STOP).
# (Without it the stopped source's tap keeps the MAC until the source QEMU
# quits, and loss is rate x (stop -> source quit), measured in README.)
source "$(dirname "$0")/lib.sh"

ALL_TESTS="
	mg_paired
	mg_there
	mg_back
	mg_refused_destination
	mg_guest_never_releases
	dmesg_clean
"
G=vm1
SECS=8

mg_paired() {
	vfp_master_up $G && vfp_wait_path $G vf
	check_err $? "master not up on the VF"
	lab_tcp_start $G
	check_err $? "TCP echo connection did not start"
	log_test "paired on the VF; a TCP connection to the peer echoes"
}

# hop SRC DST NAME VIA: migrates under flows (lab_hop), the switch-over
# done by VIA (move: vfpath-migrate itself; command: --on-stop); checks
# and reports.
hop() {
	local src=$1 dst=$2 n=$3 via=$4 tl paused down moved bound lost_in lost_out rc=0
	tl=$LAB_DIR/$n-timeline.json
	LAB_SWITCH_OVER=$via lab_hop "$src" "$dst" "$n" $SECS "$VFP_RATE" || rc=$?
	[ $rc -eq 0 ] && [ "$(jq -r .result "$tl")" = ok ]
	check_err $? "${LAB_HOP_ERR:-"timeline result $(jq -r .result "$tl" 2>/dev/null)"}"
	G=$dst
	vfp_path_is "$dst" vf &&
		[ "$(lab_guest "$dst" "ls /sys/class/net/$VFP_MASTER | grep -c '^lower_'")" = 2 ]
	check_err $? "$dst: path $(vfp_sys "$dst" active_path), slaves $(vfp_lowers "$dst" $VFP_MASTER)"
	lost_in=$(jq -r .flows.to_guest.lost "$tl")
	lost_out=$(jq -r .flows.from_guest.lost "$tl")
	paused=$(jq -r .paused_ms "$tl")
	down=$(jq -r .qemu.downtime_ms "$tl")
	moved=$(jq -r .switch_over.done_after_stop_ms "$tl")
	[ "$(jq -r .switch_over.via "$tl")" = "$via" ]
	check_err $? "switch-over $(jq -c .switch_over "$tl"), not by $via"
	bound=$((VFP_RATE * down / 1000 + 2))
	[ "$lost_in" -le "$bound" ] && [ "$lost_out" -le "$bound" ]
	check_err $? "lost $lost_in to / $lost_out from guest, bound $bound (downtime $down ms, MAC moved $moved ms after stop)"
	lab_tcp_alive "$dst"
	check_err $? "the TCP connection died"
	log_info "$src -> $dst: lost $lost_in to guest, $lost_out from guest; QEMU downtime $down ms, guest paused $paused ms, MAC moved $moved ms after stop, total $(jq -r .qemu.total_ms "$tl") ms"
	log_info "phases (ms): $(jq -r '[.phases[] | "\(.phase)=\(.t_ms)"] | join(" ")' "$tl")"
	log_test "$src -> $dst: switch-over by $via, on the new VF, loss within rate x downtime + 2 ($lost_in, $lost_out <= $bound), TCP alive"
}

mg_there() { hop vm1 vm1b there command; }
mg_back() { hop vm1b vm1c back move; }

# A destination that is not there: the migration fails, the VF goes back
# to the source and the guest uses it again.
mg_refused_destination() {
	local tl=$LAB_DIR/refused.json rc=0
	lab_guest_incoming $G vm1d
	"$LAB_TOP/scripts/host/vfpath-migrate" --src "$(lab_guest_dir $G)/qmp.sock" \
		--dst "$(lab_guest_dir vm1d)/qmp.sock" --uri "unix:$LAB_DIR/nobody.sock" \
		--vf-device "$(lab_vf_device_json $G)" --src-ga "$(lab_guest_dir $G)/qga.sock" \
		--out "$tl" 2>"$LAB_DIR/refused.err" || rc=$?
	[ $rc -eq 1 ] && [ "$(jq -r .result "$tl")" = failed ]
	check_err $? "exit $rc, result $(jq -r .result "$tl" 2>/dev/null)"
	grep -q "VF $(lab_vf_id $G) plugged back on the source" "$LAB_DIR/refused.err"
	check_err $? "error message: $(cat "$LAB_DIR/refused.err")"
	vfp_path_is $G vf && lab_guest $G "ping -c 2 -W 2 $LAB_PEER_IP4 >/dev/null"
	check_err $? "guest not back on its VF: $(vfp_sys $G active_path)"
	log_info "$(cat "$LAB_DIR/refused.err")"
	log_test "refused destination: exit 1, VF plugged back, guest on it"
}

# A guest that never lets its VF go: native PCIe hotplug (ACPI hotplug
# off) and a guest kernel without pciehp (pcie_ports=compat) ignore the
# attention button. vfpath-migrate must give up within its timeout and
# leave the guest as it was.
mg_guest_never_releases() {
	local tl=$LAB_DIR/stuck.json rc=0 t0 t1 g=stuck
	LAB_APPEND="pcie_ports=compat" lab_guest_start $g auto \
		-global ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off
	# Up, but silent: it shares vm1's MAC on the bridge.
	lab_guest $g "sysctl -qw net.ipv6.conf.default.disable_ipv6=1 &&
		modprobe virtio_net && modprobe e1000e && insmod $VFP_KO &&
		ip link set $VFP_MASTER up"
	vfp_wait_path $g vf
	check_err $? "second guest not on its VF"
	lab_guest_incoming $g stuckd
	t0=$(lab_now_ms)
	"$LAB_TOP/scripts/host/vfpath-migrate" --src "$(lab_guest_dir $g)/qmp.sock" \
		--dst "$(lab_guest_dir stuckd)/qmp.sock" \
		--uri "unix:$(lab_guest_dir stuckd)/migrate.sock" \
		--vf-device "$(lab_vf_device_json $g)" --release-timeout-ms 3000 \
		--out "$tl" 2>"$LAB_DIR/stuck.err" || rc=$?
	t1=$(lab_now_ms)
	[ $rc -eq 1 ] && grep -q "did not release VF" "$LAB_DIR/stuck.err"
	check_err $? "exit $rc: $(cat "$LAB_DIR/stuck.err")"
	[ $((t1 - t0)) -lt 8000 ]
	check_err $? "gave up after $((t1 - t0)) ms (timeout 3000)"
	vfp_path_is $g vf && lab_guest $g "test -e /sys/class/net/$VFP_MASTER/lower_eth1"
	check_err $? "guest changed: path $(vfp_sys $g active_path)"
	[ "$(lab_qmp $g query-status | jq -r .status)" = running ]
	check_err $? "source not running"
	log_info "$(cat "$LAB_DIR/stuck.err") (after $((t1 - t0)) ms)"
	log_test "guest that never releases: clear error within the timeout, guest intact"
}

vfp_boot $G
run_all_tests
exit $EXIT_STATUS
