# shellcheck shell=bash
# make bench's scenarios, one function each, run in this order on one
# booted guest per configuration and round (sourced by scripts/bench/bench).
# Each takes the guest's current name and leaves BENCH_GUEST at the name
# it runs under afterwards (a migration moves it to another QEMU).

BENCH_ALL_SCENARIOS="migration vf_unplug vf_replug vf_link_flap rx_only_replug"

# bench_on_vf GUEST: the configuration's master transmits through a VF.
bench_on_vf() {
	local g=$1
	case "$BENCH_CONFIG" in
	vfpath-*)
		lab_guest "$g" "grep -qx vf /sys/class/net/$BENCH_MASTER/vfpath/active_path" ;;
	bonding)
		lab_guest "$g" "a=\$(cat /sys/class/net/bond0/bonding/active_slave);
			[ -n \"\$a\" ] && readlink /sys/class/net/\$a/device/driver | grep -q e1000e" ;;
	net_failover)
		lab_guest "$g" "for d in /sys/class/net/*; do
			readlink \$d/device/driver 2>/dev/null | grep -q e1000e || continue
			[ \"\$(readlink \$d/master)\" ] && [ \"\$(cat \$d/carrier 2>/dev/null)\" = 1 ] && exit 0
		done; exit 1" ;;
	*) return 0 ;;
	esac
}

bench_wait_on_vf() {
	lab_busywait 30000 bench_on_vf "$1" || {
		lab_log "$BENCH_CONFIG: guest $1 not on a VF 30 s after $2"
		return 1
	}
}

# migration: a live migration to another QEMU under flows both ways, by
# vfpath-migrate (which leaves the VF to QEMU under failover=on).
bench_migration() {
	local g=$1 dst=$1m tl rc=0 flag=--no-vfpath t_ev wu events
	tl=$LAB_DIR/mig-timeline.json
	lab_guest_incoming "$g" "$dst"
	bench_trace_start "$g"
	bench_tap_watch "$g" "$dst"
	bench_flows_start "$g" mig 8 || return 1
	sleep 2
	# Only vfpath's master is waited for on the VF (vf_in_use).
	case "$BENCH_CONFIG" in vfpath-*) flag="" ;; esac
	t_ev=$(date +%s.%N)
	lab_vfpath_migrate ${flag:+"$flag"} "$g" "$dst" --out "$tl" >/dev/null 2>"$LAB_DIR/mig.err" || rc=$?
	if [ $rc -ne 0 ]; then
		lab_log "$BENCH_CONFIG: vfpath-migrate exit $rc: $(cat "$LAB_DIR/mig.err")"
		bench_tap_stop
		return 1
	fi
	lab_guest_stop "$g"
	BENCH_GUEST=$dst
	bench_flows_samples migration "$dst" mig || return 1
	bench_tap_stop
	[ "$BENCH_RUN" -ne 1 ] || cp "$LAB_DIR/taps.txt" "$BENCH_OUT/raw/migration-$BENCH_CONFIG.taps"
	events=$LAB_DIR/mig.events
	bench_tap_events >"$events"
	bench_sample migration downtime_ms ms "$(jq .qemu.downtime_ms "$tl")"
	if [ "$(jq .qemu_failover "$tl")" = true ]; then
		wu=$(jq '[.phases[] | select(.phase == "migration_wait-unplug") | .t_ms][0] as $a |
			[.phases[] | select(.phase == "migration_active") | .t_ms][0] as $b |
			if $a and $b then $b - $a else null end' "$tl")
		bench_value migration wait_unplug_ms ms "$wu" "QEMU reported no wait-unplug phase"
	else
		wu=$(lab_hop_span "$tl" vf_revoke device_deleted)
		bench_value migration wait_unplug_ms ms "$wu" "no DEVICE_DELETED in the timeline"
	fi
	bench_value migration time_on_synthetic_ms ms \
		"$(bench_span_ms "$events" data "-s$" data "-v$" "$t_ev")" \
		"the guest's flow never came back to a VF's tap"
	bench_value migration time_to_vf_ms ms "$(bench_time_to_vf_ms "$dst" "$BENCH_MASTER")" \
		"no flow frame on the destination's VF after it registered"
	bench_value migration peer_notify_ms ms \
		"$(bench_notify_ms "$events" "^$dst-v$" "$t_ev")" \
		"no gratuitous ARP from the guest on the destination VF's tap"
	bench_wait_on_vf "$dst" migration
}

# bench_event SCENARIO GUEST NAME SECS CMD...: flows both ways for SECS s
# with the guest's taps watched; 1.5 s in, CMD (the scenario's event).
# Records the flows' samples, leaves the taps' events in $LAB_DIR/NAME.events
# and the event's epoch in BENCH_T_EV.
bench_event() {
	local s=$1 g=$2 n=$3 secs=$4
	shift 4
	bench_tap_watch "$g"
	bench_flows_start "$g" "$n" "$secs" || return 1
	sleep 1.5
	BENCH_T_EV=$(date +%s.%N)
	"$@" || return 1
	bench_flows_samples "$s" "$g" "$n" || return 1
	bench_tap_stop
	bench_tap_events >"$LAB_DIR/$n.events"
}

# vf_unplug: an orderly hot-unplug of the VF (QMP device_del).
bench_vf_unplug() {
	local g=$1
	bench_event vf_unplug "$g" unp 5 lab_vf_unplug "$g" || return 1
	bench_value vf_unplug peer_notify_ms ms \
		"$(bench_notify_ms "$LAB_DIR/unp.events" "-s$" "$BENCH_T_EV")" \
		"no gratuitous ARP from the guest on the synthetic path's tap"
	BENCH_GUEST=$g
}

# vf_replug: a VF hot-plugged back (QMP device_add).
bench_vf_replug() {
	local g=$1
	bench_trace_start "$g"
	bench_event vf_replug "$g" rep 5 lab_vf_plug "$g" || return 1
	bench_value vf_replug time_to_vf_ms ms "$(bench_time_to_vf_ms "$g" "$BENCH_MASTER")" \
		"no flow frame on the new VF after it registered"
	bench_value vf_replug time_on_synthetic_ms ms \
		"$(bench_span_ms "$LAB_DIR/rep.events" data "-s$" data "-v$" 0)" \
		"the guest's flow never reached the VF's tap"
	bench_value vf_replug peer_notify_ms ms \
		"$(bench_notify_ms "$LAB_DIR/rep.events" "-v$" "$BENCH_T_EV")" \
		"no gratuitous ARP from the guest on the VF's tap"
	BENCH_GUEST=$g
	bench_wait_on_vf "$g" vf_replug
}

# bench_link_flap GUEST: the VF's link down for 2 s, then up (QMP set_link).
bench_link_flap() {
	local id
	id=$(lab_vf_id "$1")
	lab_qmp "$1" set_link "{\"name\": \"$id\", \"up\": false}" >/dev/null &&
		sleep 2 && lab_qmp "$1" set_link "{\"name\": \"$id\", \"up\": true}" >/dev/null
}

# vf_link_flap: the VF loses its link for 2 s.
bench_vf_link_flap() {
	local g=$1 t_syn
	bench_event vf_link_flap "$g" flap 6 bench_link_flap "$g" || return 1
	bench_value vf_link_flap time_on_synthetic_ms ms \
		"$(bench_span_ms "$LAB_DIR/flap.events" data "-s$" data "-v$" "$BENCH_T_EV")" \
		"the guest's flow did not move to the synthetic path and back"
	t_syn=$(awk -v a="$BENCH_T_EV" '$1 == "data" && $2 ~ /-s$/ && $3 > a { print $3; exit }' \
		"$LAB_DIR/flap.events")
	bench_value vf_link_flap peer_notify_ms ms \
		"$(bench_notify_ms "$LAB_DIR/flap.events" "-v$" "${t_syn:-$BENCH_T_EV}")" \
		"no gratuitous ARP from the guest on the VF's tap when the link came back"
	BENCH_GUEST=$g
	bench_wait_on_vf "$g" vf_link_flap
}

# rx_only_replug: the VF is hot-plugged while only the peer sends: the
# guest has nothing to say, so only an announcement tells the host's
# bridge where the guest now listens.
bench_rx_only_replug() {
	local g=$1
	lab_vf_unplug "$g" || return 1
	sleep 1
	bench_flows_start "$g" rxo 5 in || return 1
	sleep 1.5
	lab_vf_plug "$g" || return 1
	bench_flows_samples rx_only_replug "$g" rxo in || return 1
	BENCH_GUEST=$g
}
