#!/usr/bin/env bash
# ethtool on the master tells what the traffic gets now: driver and
# version (-i), the per-path counters (-S), and the link settings
# (speed, duplex: `ethtool MASTER`, /sys/class/net/MASTER/speed) and
# timestamping capabilities (-T) of the slave that transmits, following
# it when the path switches.
source "$(dirname "$0")/lib.sh"

ALL_TESTS="
	et_setup
	et_driver_and_counters
	et_link_settings_follow_path
	et_ts_info_follows_path
	et_hwtstamp_follows_path
	dmesg_clean
"
G=vm1
M=$VFP_MASTER

# speed_duplex DEV: "SPEED DUPLEX" as ethtool prints them.
speed_duplex() {
	lab_guest $G "ethtool $1" | awk '/Speed:/ {s = $2} /Duplex:/ {d = $2} END {print s, d}'
}
ts_info() { lab_guest $G "ethtool -T $1" | sed 1d; }
set_mode() { lab_guest $G "echo $1 > /sys/class/net/$M/vfpath/mode"; }

et_setup() { vfp_setup_on_vf $G; }

et_driver_and_counters() {
	lab_guest $G "ethtool -i $M" | grep -q '^driver: vfpath$'
	check_err $? "ethtool -i: $(lab_guest $G "ethtool -i $M" | head -n 2 | xargs)"
	[ "$(lab_guest $G "ethtool -S $M" | awk '$1 == "switches:" {print $2}')" = "$(vfp_sys $G switches)" ]
	check_err $? "ethtool -S switches differs from sysfs"
	log_test "ethtool -i names vfpath, -S has the counters sysfs has"
}

et_link_settings_follow_path() {
	local vf_sd syn_sd
	vf_sd=$(speed_duplex "$VF") syn_sd=$(speed_duplex "$SYN")
	log_info "VF $VF: $vf_sd; virtio-net $SYN: $syn_sd"
	[ "$(speed_duplex $M)" = "$vf_sd" ] && [ "$vf_sd" != "Unknown! Unknown!" ]
	check_err $? "on the VF: master '$(speed_duplex $M)', VF '$vf_sd'"
	[ "$(lab_guest $G "cat /sys/class/net/$M/speed")" = "$(lab_guest $G "cat /sys/class/net/$VF/speed")" ]
	check_err $? "sysfs speed: master $(lab_guest $G "cat /sys/class/net/$M/speed" 2>&1), VF $(lab_guest $G "cat /sys/class/net/$VF/speed")"
	set_mode synthetic && vfp_wait_path $G synthetic
	check_err $? "mode synthetic did not switch"
	[ "$(speed_duplex $M)" = "$syn_sd" ]
	check_err $? "on virtio-net: master '$(speed_duplex $M)', virtio-net '$syn_sd'"
	set_mode auto && vfp_wait_path $G vf
	check_err $? "mode auto did not return to the VF"
	[ "$(speed_duplex $M)" = "$vf_sd" ]
	check_err $? "back on the VF: master '$(speed_duplex $M)'"
	log_test "speed and duplex are the transmitting slave's, and follow a switch"
}

et_ts_info_follows_path() {
	local vf_ts
	vf_ts=$(ts_info "$VF")
	[ "$(ts_info $M)" = "$vf_ts" ]
	check_err $? "ethtool -T: master '$(ts_info $M | xargs)', VF '$(echo "$vf_ts" | xargs)'"
	set_mode synthetic && vfp_wait_path $G synthetic
	[ "$(ts_info $M)" = "$(ts_info "$SYN")" ]
	check_err $? "ethtool -T on virtio-net: master '$(ts_info $M | xargs)', virtio-net '$(ts_info "$SYN" | xargs)'"
	set_mode auto && vfp_wait_path $G vf
	check_err $? "mode auto did not return to the VF"
	log_info "ethtool -T on the VF: $(echo "$vf_ts" | xargs)"
	log_test "ethtool -T is the transmitting slave's (PTP on the master)"
}

# hwts DEV [TX RX]: SIOCGHWTSTAMP (SIOCSHWTSTAMP) of DEV, as JSON, or the error.
hwts() { lab_guest $G "vfpath-ctl hwtstamp $* 2>&1"; }
hwts_field() { jq -r ".$2" <<<"$1" 2>/dev/null; }

et_hwtstamp_follows_path() {
	local m v
	# Set through the master: the VF has it (tx on, rx all), and the
	# master reports it with the bonded-PHC flag (HWTSTAMP_FLAG_BONDED_PHC_INDEX).
	m=$(hwts $M 1 1)
	check_err $? "SIOCSHWTSTAMP on the master (VF path): $m"
	v=$(hwts "$VF")
	check_err $? "SIOCGHWTSTAMP on the VF: $v"
	[ "$(hwts_field "$v" tx_type)" = 1 ] && [ "$(hwts_field "$v" rx_filter)" != 0 ]
	check_err $? "the VF did not get the master's config: $v"
	m=$(hwts $M)
	[ "$(hwts_field "$m" tx_type)" = "$(hwts_field "$v" tx_type)" ] &&
		[ "$(hwts_field "$m" rx_filter)" = "$(hwts_field "$v" rx_filter)" ] &&
		[ $(($(hwts_field "$m" flags) & 1)) = 1 ]
	check_err $? "SIOCGHWTSTAMP: master '$m', VF '$v'"
	set_mode synthetic && vfp_wait_path $G synthetic
	m=$(hwts $M)
	[ $? -ne 0 ] && grep -q "not supported" <<<"$m"
	check_err $? "on virtio-net (no timestamping) the master answered: $m"
	set_mode auto && vfp_wait_path $G vf
	check_err $? "mode auto did not return to the VF"
	hwts $M 0 0 >/dev/null
	log_info "hwtstamp via the master on the VF: $v"
	log_test "SIOC[SG]HWTSTAMP go to the transmitting slave"
}

vfp_boot $G
run_all_tests
exit $EXIT_STATUS
