#!/usr/bin/env bash
# The lab reproduces stock behaviour, the anchor vfpath must beat: with QEMU
# failover=on the guest's in-kernel net_failover forms its three netdevs, a
# QMP device_del of the e1000e primary removes it, and traffic keeps flowing
# over virtio-net. Loss and gaps are reported, not judged: they are the
# anchor's numbers.
source "$(dirname "$0")/lib.sh"

ALL_TESTS="
	nf_three_netdevs
	nf_traffic_on_primary
	nf_unplug_under_traffic
	dmesg_clean
"
G=vm1
RATE=1000
DURATION=8

nf_count_netdevs() {
	[ "$(lab_guest $G "ls /sys/class/net | grep -c '^eth'")" = "$1" ]
}

nf_three_netdevs() {
	lab_guest $G "modprobe virtio_net && modprobe e1000e"
	check_err $? "modprobe failed"
	# QEMU plugs the primary only once the guest has negotiated STANDBY.
	busywait 30000 nf_count_netdevs 3
	check_err $? "no three netdevs: $(lab_guest $G 'ip -br link')"
	MASTER=$(lab_guest_netdev_by_driver $G net_failover)
	STANDBY=$(lab_guest_netdev_by_driver $G virtio_net)
	PRIMARY=$(lab_guest_netdev_by_driver $G e1000e)
	[ -n "$MASTER" ] && [ -n "$STANDBY" ] && [ -n "$PRIMARY" ]
	check_err $? "drivers: master=$MASTER standby=$STANDBY primary=$PRIMARY"
	[ "$(lab_guest $G "cat /sys/class/net/$STANDBY/phys_port_name")" = sby ]
	check_err $? "standby $STANDBY has no phys_port_name sby"
	lab_guest $G "test -d /sys/module/net_failover"
	check_err $? "in-kernel net_failover not loaded"
	log_test "failover=on: net_failover master $MASTER, standby $STANDBY, primary $PRIMARY"
}

nf_tx_packets() {
	lab_guest $G "cat /sys/class/net/$1/statistics/tx_packets"
}

nf_traffic_on_primary() {
	local before after
	lab_guest_net $G "$MASTER"
	check_err $? "addressing $MASTER failed"
	busywait 10000 lab_guest $G "ping -c 1 -W 1 $LAB_PEER_IP4 >/dev/null"
	check_err $? "peer not reachable over IPv4"
	busywait 10000 lab_guest $G "ping -c 1 -W 1 $LAB_PEER_IP6 >/dev/null"
	check_err $? "peer not reachable over IPv6"
	before=$(nf_tx_packets "$PRIMARY")
	lab_guest $G "ping -c 20 -i 0.05 -W 1 $LAB_PEER_IP4 >/dev/null"
	check_err $? "ping over the master lost packets"
	after=$(nf_tx_packets "$PRIMARY")
	[ $((after - before)) -ge 20 ]
	check_err $? "primary tx_packets $before -> $after: not on the VF"
	log_test "traffic goes through the primary (e1000e)"
}

nf_unplug_under_traffic() {
	local t_del t_gone rx_g rx_p
	fg_guest_recv $G to_guest 7001 --duration $((DURATION + 20))
	check_err $? "guest receiver did not start"
	fg_ns_recv "$LAB_PEER_NS" from_guest 7002 --duration $((DURATION + 20))
	check_err $? "peer receiver did not start"
	fg_ns_send "$LAB_PEER_NS" to_guest_tx "$LAB_GUEST_IP4" 7001 \
		--rate $RATE --duration $DURATION
	fg_guest_send $G from_guest_tx "$LAB_PEER_IP4" 7002 \
		--rate $RATE --duration $DURATION
	sleep 3
	t_del=$(lab_now_ms)
	lab_qmp $G device_del '{"id": "vf0"}' wait DEVICE_DELETED device=vf0 >/dev/null
	check_err $? "device_del vf0 did not complete"
	t_gone=$(lab_now_ms)
	busywait 10000 nf_count_netdevs 2
	check_err $? "primary still present in the guest"
	fg_guest_report $G to_guest 60000 && fg_wait from_guest 60000
	check_err $? "flow reports missing"
	rx_g=$LAB_DIR/to_guest.json
	rx_p=$LAB_DIR/from_guest.json
	log_info "device_del -> DEVICE_DELETED: $((t_gone - t_del)) ms (ACPI PCI hotplug)"
	log_info "to guest:   lost $(json "$rx_g" lost)/$(json "$rx_g" expected), max gap $(json "$rx_g" max_gap_ms) ms"
	log_info "from guest: lost $(json "$rx_p" lost)/$(json "$rx_p" expected), max gap $(json "$rx_p" max_gap_ms) ms"
	# Traffic keeps flowing: both flows ran to their FIN, and their last
	# packets arrived within the last second of the flow, after the unplug.
	[ "$(json "$rx_g" fin)" = true ] && [ "$(json "$rx_p" fin)" = true ]
	check_err $? "a flow did not finish"
	jq -e ".span_ms >= $(((DURATION - 1) * 1000))" "$rx_g" >/dev/null &&
		jq -e ".span_ms >= $(((DURATION - 1) * 1000))" "$rx_p" >/dev/null
	check_err $? "traffic stopped after the unplug"
	log_test "device_del of the primary under traffic: flows continue"
}

lab_net_up
lab_guest_start $G failover
run_all_tests
exit $EXIT_STATUS
