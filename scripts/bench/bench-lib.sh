# shellcheck shell=bash
# make bench's configurations and observation tools, sourced by
# scripts/bench/bench (only) after scripts/lab/lab.sh: booting each
# configuration's guest, flows, tap watches, traces, and the sample
# writers. A scenario (bench-scenarios.sh) measures one guest and writes
# samples:
#   bench_sample SCENARIO METRIC UNIT VALUE
#   bench_absent SCENARIO METRIC REASON    (never a zero for "could not")
#
# What is measured where (README, "make bench"):
# - loss and gaps: flowgen's reports (1000 pps each way, sequence numbers);
# - which path carries what, and when: tcpdump on the host's taps (the
#   host's clock, which runs on while QEMU pauses the guest): the switch to
#   a path is the first flow frame from the guest on its tap;
# - time_to_vf_ms: the guest's own clock (ftrace: a kprobe on
#   netdev_register_kobject and net:net_dev_start_xmit), since a VF's
#   registration is not visible from the host.

BENCH_ALL_CONFIGS="vfpath-auto vfpath-standby vfpath-standby-patched net_failover bonding raw-vf"
BENCH_FLOW_LEN=106	# flowgen's 64-byte UDP payload as an Ethernet frame
BENCH_RATE=1000

bench_sample() {
	jq -nc --arg s "$1" --arg c "$BENCH_CONFIG" --argjson r "$BENCH_RUN" \
		--arg m "$2" --arg u "$3" --argjson v "$4" \
		'{scenario: $s, config: $c, run: $r, metric: $m, unit: $u, value: $v}' \
		>>"$BENCH_SAMPLES"
}

bench_absent() {
	jq -nc --arg s "$1" --arg c "$BENCH_CONFIG" --argjson r "$BENCH_RUN" \
		--arg m "$2" --arg why "$3" \
		'{scenario: $s, config: $c, run: $r, metric: $m, absent: $why}' \
		>>"$BENCH_SAMPLES"
}

# bench_value SCENARIO METRIC UNIT VALUE REASON: a sample, or absent with
# REASON when VALUE is empty or "null".
bench_value() {
	if [ -n "$4" ] && [ "$4" != null ]; then
		bench_sample "$1" "$2" "$3" "$4"
	else
		bench_absent "$1" "$2" "$5"
	fi
}

# --- configurations ------------------------------------------------------

# bench_boot CONFIG GUEST: boots GUEST as CONFIG, addresses its master (or
# its only NIC) and waits until the peer answers. Sets BENCH_MASTER.
bench_boot() {
	local c=$1 g=$2
	case "$c" in
	vfpath-auto)
		lab_guest_start "$g" auto
		lab_guest "$g" "modprobe virtio_net && modprobe e1000e &&
			insmod /lib/modules/vfpath/vfpath.ko" >/dev/null || return 1
		BENCH_MASTER=vfp5f0002
		;;
	vfpath-standby|vfpath-standby-patched)
		# -patched: the same on QEMU with qemu-patches/ (scripts/build/build-qemu)
		local qemu=stock
		[ "$c" = vfpath-standby ] || qemu=patched
		QEMU=$qemu lab_guest_start "$g" failover
		lab_guest "$g" "insmod /lib/modules/vfpath/vfpath.ko &&
			insmod /lib/modules/vfpath/net_failover.ko &&
			modprobe virtio_net && modprobe e1000e" >/dev/null || return 1
		BENCH_MASTER=eth0
		;;
	net_failover)
		lab_guest_start "$g" failover
		lab_guest "$g" "modprobe virtio_net && modprobe e1000e" >/dev/null || return 1
		lab_busywait 10000 eval "[ -n \"\$(lab_guest_netdev_by_driver $g net_failover)\" ]" ||
			return 1
		BENCH_MASTER=$(lab_guest_netdev_by_driver "$g" net_failover)
		;;
	bonding)
		lab_guest_start "$g" auto
		lab_guest "$g" "modprobe virtio_net && modprobe e1000e &&
			modprobe bonding max_bonds=0" >/dev/null || return 1
		bench_bond_up "$g" || return 1
		BENCH_MASTER=bond0
		;;
	raw-vf)
		lab_guest_start "$g" vf
		lab_guest "$g" "modprobe e1000e" >/dev/null || return 1
		lab_busywait 10000 eval "[ -n \"\$(lab_guest_netdev_by_driver $g e1000e)\" ]" ||
			return 1
		BENCH_MASTER=$(lab_guest_netdev_by_driver "$g" e1000e)
		;;
	*) lab_die "unknown configuration '$c' ($BENCH_ALL_CONFIGS)" ;;
	esac
	echo "$c" >"$(lab_guest_dir "$g")/config"
	lab_guest_net "$g" "$BENCH_MASTER" &&
		lab_busywait 15000 lab_guest "$g" "ping -c 1 -W 1 $LAB_PEER_IP4 >/dev/null"
}

# bench_bond_up GUEST: bonding active-backup over virtio-net and the e1000e
# as Documentation/networking/bonding.rst describes it for a VF with a
# paravirtual backup: miimon=100, the VF primary, one gratuitous ARP and
# one unsolicited NA on failover. A VF that arrives later is enslaved by a
# watcher in the guest, what a udev rule (or NetworkManager) does on a real
# one, and becomes primary again.
bench_bond_up() {
	local g=$1 vf syn
	lab_busywait 10000 eval "[ -n \"\$(lab_guest_netdev_by_driver $g e1000e)\" ]" || return 1
	vf=$(lab_guest_netdev_by_driver "$g" e1000e)
	syn=$(lab_guest_netdev_by_driver "$g" virtio_net)
	lab_guest "$g" "ip link add bond0 type bond mode active-backup miimon 100 \
			num_grat_arp 1 num_unsol_na 1 &&
		ip link set $syn down && ip link set $syn master bond0 &&
		ip link set $vf down && ip link set $vf master bond0 &&
		ip link set bond0 type bond primary $vf && ip link set bond0 up" >/dev/null ||
		return 1
	# The watcher: every e1000e netdev that registers joins the bond. A
	# netdev registers inside the driver's probe, before the device is
	# bound, so after each event it looks again for up to 3 s. (Full
	# paths: the guest's busybox sh prefers its own, smaller, ip.)
	lab_guest "$g" "cat > /tmp/bond-watch.sh <<'EOF'
scan() {
	pending=0
	for d in /sys/class/net/eth*; do
		dev=\${d##*/}
		[ -e \$d/master ] && continue
		drv=\$(readlink \$d/device/driver 2>/dev/null) || { pending=1; continue; }
		case \$drv in *e1000e) ;; *) continue ;; esac
		/usr/sbin/ip link set \$dev down; /usr/sbin/ip link set \$dev master bond0 &&
			echo \$dev > /sys/class/net/bond0/bonding/primary
	done
}
/usr/sbin/ip monitor link | while read -r _; do
	i=0
	while [ \$i -lt 30 ]; do
		scan
		[ \$pending = 0 ] && break
		sleep 0.1
		i=\$((i + 1))
	done
done
EOF
setsid sh /tmp/bond-watch.sh </dev/null >/dev/null 2>&1 &" >/dev/null
}

# --- observation ---------------------------------------------------------

# bench_tap_watch GUEST...: tcpdump on GUEST-s and GUEST-v of each GUEST
# (host clock), one per direction, until bench_tap_stop. Lines:
# "EPOCH TAP in|out ..." (in: sent by the guest; out: sent to it, flooded
# frames included).
BENCH_TAP_PIDS=()
bench_tap_watch() {
	local g tap dir
	: >"$LAB_DIR/taps.txt"
	for g in "$@"; do
		for tap in "$g-s" "$g-v"; do
			lab_host ip link show "$tap" >/dev/null 2>&1 || continue
			for dir in in out; do
				lab_host tcpdump -i "$tap" -Q "$dir" -q -nn -tt -l -s 96 'udp or arp' \
					2>/dev/null | awk -v tag="$tap $dir" \
					'{ $1 = $1 " " tag; print; fflush() }' >>"$LAB_DIR/taps.txt" &
				BENCH_TAP_PIDS+=($!)
			done
		done
	done
	sleep 0.5	# tcpdump's socket is open well before a scenario's event
}

bench_tap_stop() {
	sleep 0.2
	pkill -f "tcpdump -i [^ ]*-[sv] -Q (in|out) -q -nn -tt -l -s 96" 2>/dev/null || true
	wait "${BENCH_TAP_PIDS[@]}" 2>/dev/null || true
	BENCH_TAP_PIDS=()
}

# bench_tap_events: what the guest sent, as seen on the taps: its path
# changes ("data TAP EPOCH": the first flow frame from the guest on TAP
# after one on another tap) and its ARPs ("arp TAP EPOCH").
bench_tap_events() {
	sort -n "$LAB_DIR/taps.txt" | awk -v ip="$LAB_GUEST_IP4" '
		$3 != "in" { next }
		$0 ~ ("IP " ip "\\.[0-9]+ > [0-9.]+\\.7002: UDP") {
			if ($2 != last) { print "data", $2, $1; last = $2 }
			next
		}
		/ARP/ { print "arp", $2, $1 }'
}

# bench_span_ms EVENTS KIND1 TAP1 KIND2 TAP2 [AFTER]: ms from the first
# KIND1 on TAP1 (after epoch AFTER) to the first KIND2 on TAP2 after that;
# TAPs are awk patterns ("-s$", "-v$"). Empty if either is missing.
bench_span_ms() {
	awk -v k1="$2" -v p1="$3" -v k2="$4" -v p2="$5" -v after="${6:-0}" '
		t1 == "" && $1 == k1 && $2 ~ p1 && $3 > after { t1 = $3; next }
		t1 != "" && $1 == k2 && $2 ~ p2 { printf "%.1f\n", ($3 - t1) * 1000; exit }' "$1"
}

# bench_notify_ms EVENTS TAPRE AFTER: first guest ARP on a tap matching
# TAPRE minus the switch to it (first flow frame there), both after epoch
# AFTER. Negative: the announcement went out before the first data frame.
bench_notify_ms() {
	awk -v p="$2" -v after="$3" '
		$3 > after && $2 ~ p && $1 == "data" && sw == "" { sw = $3 }
		$3 > after && $2 ~ p && $1 == "arp" && arp == "" { arp = $3 }
		END { if (sw != "" && arp != "") printf "%.1f\n", (arp - sw) * 1000 }' "$1"
}

# bench_trace_start GUEST: the guest records VF registrations and its data
# transmits (ftrace, in its own clock).
bench_trace_start() {
	lab_guest "$1" "cd /sys/kernel/tracing &&
		echo 0 > tracing_on && echo > trace && echo 4096 > buffer_size_kb &&
		{ grep -q benchreg kprobe_events ||
		  echo 'p:benchreg netdev_register_kobject name=+0(%di):string' >> kprobe_events; } &&
		echo 1 > events/kprobes/benchreg/enable &&
		echo 'len == $BENCH_FLOW_LEN' > events/net/net_dev_start_xmit/filter &&
		echo 1 > events/net/net_dev_start_xmit/enable && echo 1 > tracing_on" >/dev/null
}

# bench_time_to_vf_ms GUEST MASTER: from the last VF registration to the
# first flow frame transmitted on that device, in the guest's clock.
bench_time_to_vf_ms() {
	lab_guest "$1" "cd /sys/kernel/tracing && echo 0 > tracing_on &&
		awk -v master=$2 '
		function ts() { for (i = 1; i <= NF; i++) if (\$i ~ /^[0-9]+\\.[0-9]+:\$/) return substr(\$i, 1, length(\$i) - 1) }
		/ benchreg: / { n = \$0; sub(/.*name=\"/, \"\", n); sub(/\".*/, \"\", n); reg = n; treg = ts(); tx = \"\"; next }
		/ net_dev_start_xmit: / && reg != \"\" && tx == \"\" {
			d = \$0; sub(/.*dev=/, \"\", d); sub(/ .*/, \"\", d)
			if (d == reg) tx = ts()
		}
		END { if (tx != \"\") printf \"%.1f\\n\", (tx - treg) * 1000 }' trace;
		echo 0 > events/net/net_dev_start_xmit/enable; echo 1 > tracing_on"
}

# --- flows ---------------------------------------------------------------

# bench_flows_start GUEST NAME SECS [in]: flowgen at BENCH_RATE, both ways
# (or only peer -> guest with "in"). Counted flows, so that a receiver
# whose FIN was lost (net_failover drops what arrives on its standby) still
# knows what it missed, and gives up after 4 s of silence.
bench_flows_start() {
	local g=$1 n=$2 secs=$3 count recv
	count=$((BENCH_RATE * secs))
	recv=(--expect "$count" --idle-ms 4000 --duration $((secs + 30)))
	fg_guest_recv "$g" "$n-in" 7001 "${recv[@]}" || return 1
	if [ "${4:-}" != in ]; then
		fg_ns_recv "$LAB_PEER_NS" "$n-out" 7002 "${recv[@]}" || return 1
		fg_guest_send "$g" "$n-out-tx" "$LAB_PEER_IP4" 7002 \
			--rate "$BENCH_RATE" --count "$count" || return 1
	fi
	fg_ns_send "$LAB_PEER_NS" "$n-in-tx" "$LAB_GUEST_IP4" 7001 \
		--rate "$BENCH_RATE" --count "$count"
}

# bench_flows_samples SCENARIO GUEST NAME [in]: waits for the reports and
# records loss and gaps per direction.
bench_flows_samples() {
	local s=$1 g=$2 n=$3
	fg_guest_report "$g" "$n-in" 90000 || return 1
	bench_sample "$s" lost_to_guest packets "$(jq .lost "$LAB_DIR/$n-in.json")"
	bench_sample "$s" max_gap_to_guest_ms ms "$(jq .max_gap_ms "$LAB_DIR/$n-in.json")"
	[ "${4:-}" != in ] || return 0
	fg_wait "$n-out" 90000 || return 1
	bench_sample "$s" lost_from_guest packets "$(jq .lost "$LAB_DIR/$n-out.json")"
	bench_sample "$s" max_gap_from_guest_ms ms "$(jq .max_gap_ms "$LAB_DIR/$n-out.json")"
}
