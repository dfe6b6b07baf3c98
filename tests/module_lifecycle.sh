#!/usr/bin/env bash
# vfpath.ko in the lab guest: it loads, the "vfpath" link kind creates and
# deletes masters, unload removes masters that are left, and the kernel log
# stays clean.
source "$(dirname "$0")/lib.sh"

ALL_TESTS="
	mod_load
	mod_link_add_del
	mod_link_no_path_no_carrier
	mod_unload_with_masters
	mod_reload
	dmesg_clean
"
G=vm1
KO=/lib/modules/vfpath/vfpath.ko

mod_load() {
	lab_guest $G "insmod $KO"
	check_err $? "insmod failed"
	lab_guest $G "test -d /sys/module/vfpath && dmesg | grep -q 'vfpath: version'"
	check_err $? "module not loaded or no load message"
	log_test "insmod vfpath.ko"
}

mod_link_add_del() {
	local kind
	lab_guest $G "ip link add vfp0 type vfpath"
	check_err $? "ip link add type vfpath failed"
	kind=$(lab_guest $G "ip -d -j link show vfp0" | jq -r '.[0].linkinfo.info_kind')
	[ "$kind" = vfpath ]
	check_err $? "link kind is '$kind'"
	lab_guest $G "ip link add vfp0 type vfpath" 2>/dev/null
	check_fail $? "a second vfp0 was created"
	lab_guest $G "ip link del vfp0 && ! ip link show vfp0 2>/dev/null"
	check_err $? "ip link del failed"
	log_test "ip link add/del type vfpath"
}

# With no slave there is no path: the master is up without carrier.
mod_link_no_path_no_carrier() {
	local carrier
	lab_guest $G "ip link add vfp1 type vfpath && ip link set vfp1 up"
	check_err $? "ip link set up failed"
	carrier=$(lab_guest $G "cat /sys/class/net/vfp1/carrier; cat /sys/class/net/vfp1/vfpath/active_path" | xargs)
	[ "$carrier" = "0 none" ]
	check_err $? "carrier/active_path '$carrier', want '0 none'"
	log_test "no slave: master up without carrier, active path none"
}

mod_unload_with_masters() {
	lab_guest $G "ip link add vfp2 type vfpath && rmmod vfpath"
	check_err $? "rmmod failed with masters present"
	lab_guest $G "! ip link show vfp1 2>/dev/null && ! ip link show vfp2 2>/dev/null &&
		test ! -d /sys/module/vfpath"
	check_err $? "masters or module left after rmmod"
	log_test "rmmod removes the masters left"
}

mod_reload() {
	lab_guest $G "modprobe dummy 2>/dev/null; insmod $KO && ip link add vfp3 type vfpath &&
		rmmod vfpath && insmod $KO && rmmod vfpath"
	check_err $? "reload cycle failed"
	log_test "insmod/rmmod cycle"
}

lab_net_up
lab_guest_start $G virtio
log_info "guest booted in $(lab_guest_boot_ms $G) ms"
run_all_tests
exit $EXIT_STATUS
