#!/usr/bin/env bash
# vfpath under RTNL contention. RTNL held by dummy's module init
# (VFP_HOLD_RTNL, lib.sh) makes work items and other tasks wait for it in
# a known order (first come, first served), which opens windows that are
# otherwise microseconds wide:
# - a settle work that waited for RTNL while the VF left and another came
#   back must not settle the new one at once (settle_ms counts from the
#   new VF's arrival);
# - an unbind of a PCI device that no master uses must not wait for RTNL;
# - (auto pairing) once rmmod has begun, auto_pair cannot be turned on.
source "$(dirname "$0")/lib.sh"

ALL_TESTS="
	rt_setup
	rt_settle_after_rtnl_wait
	rt_pci_unbind_without_rtnl
"
[ "$VFP_PAIRING" = standby ] || ALL_TESTS+=" rt_auto_pair_while_unloading"
ALL_TESTS+=" dmesg_clean"
G=vm1
M=$VFP_MASTER
STUB_DEV=0000:00:1f.3

dummies_gone() { lab_guest $G "rmmod dummy 2>/dev/null; ! test -d /sys/module/dummy"; }

rt_setup() { vfp_setup_on_vf $G; }

# The virtio-net plays the VF (its carrier is back the moment it is up),
# leaves and comes back; its settle work comes due while RTNL is held,
# and waits behind a role swap that makes the e1000e the VF. The e1000e
# must then wait its own settle_ms, not inherit the expired work's.
rt_settle_after_rtnl_wait() {
	local out
	lab_guest $G "echo 1500 > /sys/class/net/$M/vfpath/settle_ms && vfpath-ctl role $SYN vf"
	check_err $? "settle_ms or role swap failed"
	vfp_wait_path $G vf
	check_err $? "virtio-net as the VF never carried"
	# Lines: "held" if dummy's init held RTNL when the swap was asked
	# for; the path 0.4 s after the swap; when virtio-net came back and
	# when the swap returned.
	out=$(lab_guest $G "ip link set $SYN down && ip link set $SYN up && t0=\$(cut -d' ' -f1 /proc/uptime)
		{ sleep 0.3; $VFP_HOLD_RTNL; } >/dev/null 2>&1 &
		sleep 0.6; $VFP_RTNL_HELD && echo held
		vfpath-ctl role $VF vf >/dev/null; t1=\$(cut -d' ' -f1 /proc/uptime); sleep 0.4
		cat /sys/class/net/$M/vfpath/active_path; echo \$t0 \$t1")
	log_info "RTNL $(head -n 1 <<<"$out"); 0.4 s after the swap: $(sed -n 2p <<<"$out"); back, swapped at (s): $(tail -n 1 <<<"$out")"
	[ "$(head -n 1 <<<"$out")" = held ] && tail -n 1 <<<"$out" | awk '{ exit !($2 - $1 > 1.5) }'
	check_err $? "the swap did not wait for RTNL past virtio-net's settle time: $(xargs <<<"$out")"
	[ "$(sed -n 2p <<<"$out")" = synthetic ]
	check_err $? "the e1000e carried 0.4 s after it became the VF (settle_ms 1500): the expired work settled it"
	vfp_wait_path $G vf 10000
	check_err $? "the e1000e never settled"
	busywait 30000 dummies_gone
	lab_guest $G "echo 100 > /sys/class/net/$M/vfpath/settle_ms"
	log_test "settle_ms counts from the new VF's arrival, even after a settle work waited for RTNL"
}

# An unbind of a PCI device that is no VF's parent returns while RTNL
# is held (vfpath's bus notifier looks first, without RTNL).
rt_pci_unbind_without_rtnl() {
	local out
	lab_guest $G "modprobe pci-stub && echo pci-stub > /sys/bus/pci/devices/$STUB_DEV/driver_override &&
		echo $STUB_DEV > /sys/bus/pci/drivers_probe && test -e /sys/bus/pci/drivers/pci-stub/$STUB_DEV"
	check_err $? "could not bind $STUB_DEV to pci-stub"
	out=$(lab_guest $G "{ $VFP_HOLD_RTNL; } >/dev/null 2>&1 & sleep 0.5
		t0=\$(cut -d' ' -f1 /proc/uptime); $VFP_RTNL_HELD && h=held
		echo $STUB_DEV > /sys/bus/pci/drivers/pci-stub/unbind
		t1=\$(cut -d' ' -f1 /proc/uptime); echo \$t0 \$t1 \${h:-free}")
	log_info "unbind of $STUB_DEV (pci-stub), RTNL $(awk '{print $3}' <<<"$out"): from $(awk '{print $1 " to " $2}' <<<"$out") s"
	[ "$(awk '{print $3}' <<<"$out")" = held ]
	check_err $? "RTNL was not held when the unbind began"
	awk 'NR == 1 { exit !($2 - $1 < 1.0) }' <<<"$out"
	check_err $? "the unbind waited for RTNL: $(head -n 1 <<<"$out")"
	busywait 30000 dummies_gone
	log_test "a PCI unbind no master cares about does not wait for RTNL"
}

# rmmod waits for RTNL in the module's exit; from then on a write of
# auto_pair is refused (once exit moved on, a master made by it would
# outlive the module).
rt_auto_pair_while_unloading() {
	local rc=0
	lab_guest $G "{ $VFP_HOLD_RTNL; } >/dev/null 2>&1 & sleep 0.5; setsid rmmod vfpath </dev/null >/tmp/rmmod.log 2>&1 &"
	busywait 3000 lab_guest $G "grep -q going /sys/module/vfpath/initstate"
	check_err $? "rmmod did not start: $(lab_guest $G "cat /sys/module/vfpath/initstate /tmp/rmmod.log" 2>&1 | xargs)"
	lab_guest $G "echo 1 > /sys/module/vfpath/parameters/auto_pair" 2>/dev/null || rc=$?
	[ $rc -ne 0 ]
	check_err $? "auto_pair=1 accepted while vfpath was unloading"
	busywait 30000 lab_guest $G "! test -d /sys/module/vfpath"
	check_err $? "rmmod did not finish"
	lab_guest $G "! ip link show $M 2>/dev/null"
	check_err $? "a master outlived the module"
	busywait 30000 dummies_gone
	lab_guest $G "insmod $VFP_KO" && vfp_master_up $G && vfp_wait_path $G vf
	check_err $? "insmod again did not pair"
	log_test "auto_pair cannot be turned on once rmmod has begun"
}

vfp_boot $G
run_all_tests
exit $EXIT_STATUS
