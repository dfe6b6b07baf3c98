#!/usr/bin/env bash
# vfpath-migrate's libvirt back-end, with real libvirt: two libvirtd on
# this machine ("hosts" a and b, scripts/lab/lab-libvirt.sh), a TCG domain
# with a virtio interface and an e1000e interface (alias ua-vf0) with the
# same MAC on the lab bridge, vfpath pairing them by MAC. The VF is
# revoked with detach-device-alias, the domain moves with
# `virsh migrate --live`, and a VF is attached on the destination; there
# and back under flowgen both ways and a TCP connection, with the host's
# switch-over at the source's STOP (seen through libvirt's QEMU events).
# Then an unreachable destination (nothing is touched) and a migration
# that fails after the VF was revoked (the VF goes back to the source).
source "$(dirname "$0")/lib.sh"
source "$TESTS_DIR/../scripts/lab/lab-libvirt.sh"

ALL_TESTS="
	lv_paired
	lv_there
	lv_back
	lv_refused_destination
	lv_failed_migration
	dmesg_clean
"
G=lva
SECS=10
DOM=""

lv_paired() {
	lab_guest $G "modprobe virtio_net && modprobe e1000e && insmod $VFP_KO"
	check_err $? "loading the modules failed"
	vfp_master_up $G && vfp_wait_path $G vf
	check_err $? "master not up on the VF"
	lab_tcp_start $G
	check_err $? "no TCP connection"
	log_test "libvirt domain on host a: paired by MAC, on the VF, TCP up"
}

# hop FROM TO SRCG DSTG NAME VIA: the switch-over by VIA (move:
# vfpath-lv-events itself; command: --on-stop).
hop() {
	local tl=$LAB_DIR/$5-timeline.json via=$6 rc=0 li lo down bound
	LAB_SWITCH_OVER=$via lab_lv_hop "$1" "$2" "$DOM" "$3" "$4" "$5" $SECS "$VFP_RATE" || rc=$?
	[ $rc -eq 0 ] && [ "$(jq -r .result "$tl")" = ok ]
	check_err $? "vfpath-migrate exit $rc: $(jq -r .error "$tl" 2>/dev/null)"
	G=$4
	[ "$(lab_virsh "$2" domstate "$DOM")" = running ] &&
		! lab_virsh "$1" domstate "$DOM" >/dev/null 2>&1
	check_err $? "domain not (only) on host $2"
	vfp_path_is $G vf &&
		[ "$(lab_guest $G "ls /sys/class/net/$VFP_MASTER | grep -c '^lower_'")" = 2 ]
	check_err $? "$G: path $(vfp_sys $G active_path), slaves $(vfp_lowers $G $VFP_MASTER)"
	lab_tcp_alive $G
	check_err $? "the TCP connection died"
	li=$(jq -r .flows.to_guest.lost "$tl")
	lo=$(jq -r .flows.from_guest.lost "$tl")
	down=$(jq -r .qemu.downtime_ms "$tl")
	[[ "$down" =~ ^[0-9]+$ ]] && bound=$((VFP_RATE * down / 1000 + 2)) || bound=-1
	[[ "$li" =~ ^[0-9]+$ && "$lo" =~ ^[0-9]+$ ]] && [ "$li" -le "$bound" ] && [ "$lo" -le "$bound" ]
	check_err $? "lost $li to / $lo from guest, bound $bound (libvirt's total downtime $down ms)"
	jq -e --arg via "$via" '.switch_over | .via == $via and (.fired_after_stop_ms | numbers)' "$tl" >/dev/null
	check_err $? "no switch-over at the source's STOP: $(jq -c .switch_over "$tl")"
	log_info "host $1 -> $2: lost $li to guest, $lo from guest; libvirt downtime $down ms, paused $(jq -r .paused_ms "$tl") ms, total $(jq -r .qemu.total_ms "$tl") ms; switch-over $(jq -c .switch_over "$tl")"
	log_info "phases (ms): $(jq -r '[.phases[] | "\(.phase)=\(.t_ms)"] | join(" ")' "$tl")"
	log_test "virsh migrate --live host $1 -> $2: switch-over by $via at STOP, on the new VF, loss within rate x downtime + 2, TCP alive"
}

lv_there() { hop a b lva lvb there command; }
lv_back() { hop b a lvb lva back move; }

# No daemon at the destination: refused before anything is changed.
lv_refused_destination() {
	local tl=$LAB_DIR/refused.json rc=0
	lab_lv_vf_xml $G >"$LAB_DIR/refused-vf.xml"
	"$LAB_TOP/scripts/host/vfpath-migrate" --domain "$DOM" --from "$(lab_lv_uri a)" \
		--to "qemu+unix:///system?socket=$LAB_DIR/nobody/libvirt-sock" \
		--vf-alias ua-vf0 --vf-xml "$LAB_DIR/refused-vf.xml" \
		--src-ga "$(lab_guest_dir $G)/qga.sock" --out "$tl" 2>"$LAB_DIR/refused.err" || rc=$?
	[ $rc -eq 1 ] && grep -q "nobody/libvirt-sock" "$LAB_DIR/refused.err" &&
		grep -q "nothing changed" "$LAB_DIR/refused.err" &&
		! jq -e '.phases[] | select(.phase == "vf_revoke")' "$tl" >/dev/null
	check_err $? "exit $rc: $(cat "$LAB_DIR/refused.err")"
	vfp_path_is $G vf && lab_guest $G "ping -c 2 -W 2 $LAB_PEER_IP4 >/dev/null"
	check_err $? "guest not on its VF: $(vfp_sys $G active_path)"
	log_info "$(cat "$LAB_DIR/refused.err")"
	log_test "unreachable destination: exit 1, named, VF never revoked, guest on it"
}

# A destination that cannot take the migration stream (its migrate URI is
# a socket in a directory that does not exist): virsh migrate fails after
# the VF was revoked, and the VF is attached back on host a.
lv_failed_migration() {
	local tl=$LAB_DIR/failed.json rc=0
	lab_lv_vf_xml $G >"$LAB_DIR/failed-vf.xml"
	lab_lv_dst_xml a "$DOM" $G lvb >"$LAB_DIR/failed-dst.xml"
	"$LAB_TOP/scripts/host/vfpath-migrate" --domain "$DOM" --from "$(lab_lv_uri a)" \
		--to "qemu+unix:///system?socket=$(lab_lv_dir b)/sock/libvirt-sock" \
		--migrateuri "unix://$LAB_DIR/no-such-dir/m.sock" --migrate-xml "$LAB_DIR/failed-dst.xml" \
		--vf-alias ua-vf0 --vf-xml "$LAB_DIR/failed-vf.xml" \
		--src-ga "$(lab_guest_dir $G)/qga.sock" --out "$tl" 2>"$LAB_DIR/failed.err" || rc=$?
	[ $rc -eq 1 ] && grep -q "virsh migrate to .* failed" "$LAB_DIR/failed.err" &&
		grep -q "VF ua-vf0 plugged back on the source" "$LAB_DIR/failed.err" &&
		jq -e '.phases[] | select(.phase == "vf_restored")' "$tl" >/dev/null
	check_err $? "exit $rc: $(cat "$LAB_DIR/failed.err")"
	[ "$(lab_virsh a domstate "$DOM")" = running ] && ! lab_virsh b domstate "$DOM" >/dev/null 2>&1
	check_err $? "domain not (only) on host a"
	vfp_path_is $G vf && lab_guest $G "ping -c 2 -W 2 $LAB_PEER_IP4 >/dev/null"
	check_err $? "guest not back on its VF: $(vfp_sys $G active_path)"
	log_info "$(cat "$LAB_DIR/failed.err")"
	log_test "migration fails after the revoke: exit 1, VF attached back on host a, guest on it"
}

if ! command -v libvirtd >/dev/null || ! command -v virsh >/dev/null; then
	log_skip "vfpath-migrate's libvirt back-end" "libvirt missing: make check installs it (scripts/build/setup)"
	exit 4
fi
lab_net_up
lab_lv_up a
lab_lv_up b
DOM=vfpath-$LAB_ID-lv
lab_lv_start a "$DOM" $G
run_all_tests
exit $EXIT_STATUS
