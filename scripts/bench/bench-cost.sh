# shellcheck shell=bash
# make bench's cost scenarios (cost_*), sourced by scripts/bench/bench after
# bench-lib.sh: what a configuration's datapath costs the guest, in
# instructions per packet, on a guest of its own that QEMU runs with
# -icount (README, "make bench: the cost scenarios").
#
# Under -icount shift=0 the guest's clock advances one nanosecond per
# instruction it executes; device emulation and the host's load take none.
# tests/vcost reads the guest's busy time (elapsed minus idle, in ns, from
# /proc/timer_list) around a workload: busy ns are instructions. sleep=on:
# while the guest idles its clock follows the host's, so a guest waiting
# for the host (a TCP ACK, the next frame) does not see its timers expire
# at once, as with sleep=off (tried: TCP retransmitted on spurious RTOs,
# a reader's idle timeout fired between two frames). Only busy time counts,
# and busy time is instructions either way.
#
# Every frame that could reach the guest unasked is kept away, so that only
# the workload's own packets are counted: the peer's address is a permanent
# neighbour (no ARP while measuring), and the peer drops the transmit
# scenarios' datagrams before they could draw an ICMP port unreachable.

# shellcheck disable=SC2034 # scripts/bench/bench's
BENCH_COST_SCENARIOS="cost_tx_pktgen cost_tx_udp64 cost_tx_udp1400 cost_rx_udp cost_tcp cost_vxlan"
BENCH_COST_QEMU_ARGS="-icount shift=0,sleep=on,align=off -rtc clock=vm -seed 1"
# virtio-net's kicks handled at once by the vCPU's thread and its transmit
# on a timer of the guest's clock, not deferred to the host's main loop.
BENCH_COST_VIRTIO_OPTS=",ioeventfd=off,tx=timer"
BENCH_COST_VX_GUEST=198.19.0.2
BENCH_COST_VX_PEER=198.19.0.1
BENCH_COST_TCP_BYTES=30000000
BENCH_COST_TCP_RUNS=9
BENCH_COST_RX_COUNT=4000
BENCH_COST_RX_GAP_US=1000

# bench_cost_peer_up: the peer's half, once per lab: the drop rule and the
# VXLAN tunnel's end (VNI 42 over eth0 to the guest). The peer's tunnel
# computes its own inner checksums: left to offload, its TCP segments reach
# the guest through veth, bridge, tap and QEMU without a valid one (seen:
# the connection never completes; tx off on the peer's vxc0 or eth0 cures
# it), which is the host's path, not the guest's.
bench_cost_peer_up() {
	lab_peer ip link show vxc0 >/dev/null 2>&1 && return 0
	lab_peer nft 'table inet vfpath_cost { chain sink {
		type filter hook input priority 0; policy accept; udp dport 9 drop; }; }' &&
		lab_peer ip link add vxc0 type vxlan id 42 remote "$LAB_GUEST_IP4" \
			local "$LAB_PEER_IP4" dstport 4789 dev eth0 &&
		lab_peer ip addr add "$BENCH_COST_VX_PEER/24" dev vxc0 &&
		lab_peer ip link set vxc0 up &&
		lab_peer ethtool -K vxc0 tx off >/dev/null
}

# bench_cost_boot CONFIG GUEST: GUEST booted as CONFIG under -icount, its
# master addressed (bench_boot), the peer a permanent neighbour, the VXLAN
# tunnel's guest end over the master, and one TCP transfer to warm it up.
bench_cost_boot() {
	local c=$1 g=$2 mac vxmac
	bench_cost_peer_up || { lab_log "cost: the peer's drop rule or tunnel failed"; return 1; }
	LAB_QEMU_ARGS=$BENCH_COST_QEMU_ARGS LAB_VIRTIO_OPTS=$BENCH_COST_VIRTIO_OPTS \
		bench_boot "$c" "$g" || return 1
	# The host's bridge stands for an SR-IOV NIC's switch, which delivers
	# the VF's MAC to the VF whatever the standby sends: it does not learn
	# the guest from the virtio tap. Otherwise the standby's own IPv6
	# (MLD, ND from its link-local address: net_failover leaves it one)
	# moves the guest's MAC to that tap, and net_failover, which hands
	# what its standby receives to the standby alone while the primary is
	# up, is measured dropping the peer's frames (seen: 0 to 3563 of 4000
	# datagrams in cost_rx_udp, TCP ACKs in cost_tcp).
	if lab_host ip link show "$g-s" >/dev/null 2>&1; then
		lab_host bridge link set dev "$g-s" learning off ||
			{ lab_log "cost: learning off on $g-s failed"; return 1; }
		lab_host bridge fdb del "${LAB_MAC:-$LAB_GUEST_MAC}" dev "$g-s" master 2>/dev/null || true
	fi
	mac=$(lab_peer cat /sys/class/net/eth0/address)
	vxmac=$(lab_peer cat /sys/class/net/vxc0/address)
	lab_guest "$g" "ip neigh replace $LAB_PEER_IP4 lladdr $mac dev $BENCH_MASTER nud permanent &&
		ip link add vxc0 type vxlan id 42 remote $LAB_PEER_IP4 local $LAB_GUEST_IP4 \
			dstport 4789 dev $BENCH_MASTER &&
		ip addr add $BENCH_COST_VX_GUEST/24 dev vxc0 && ip link set vxc0 up &&
		ip neigh replace $BENCH_COST_VX_PEER lladdr $vxmac dev vxc0 nud permanent" >/dev/null ||
		{ lab_log "cost: $c: the guest's neighbour or tunnel failed"; return 1; }
	bench_cost_tcp_run "$g" "$LAB_PEER_IP4" 5000000 >/dev/null
}

# bench_cost_per JSON COUNT: vcost's busy_ns over COUNT, or nothing.
bench_cost_per() {
	jq -r --argjson n "${2:-0}" 'if $n > 0 and (.busy_ns | type) == "number"
		then .busy_ns / $n | round else empty end' <<<"$1" 2>/dev/null
}

# bench_cost_tcp_run GUEST DST BYTES: one TCP transfer of BYTES from the
# guest to the peer's sink at DST; prints vcost's line.
bench_cost_tcp_run() {
	local g=$1 dst=$2 bytes=$3 sink out
	# Not through lab_peer: ip netns exec execs the sink, so $! is the sink.
	ip netns exec "$LAB_PEER_NS" "$LAB_BUILD/bin/vcost" tcp-sink --port 5001 >/dev/null &
	sink=$!
	lab_busywait 5000 eval "lab_peer ss -Htln 'sport = :5001' | grep -q ." ||
		{ kill "$sink" 2>/dev/null; return 1; }
	out=$(LAB_EXEC_TIMEOUT_MS=30000 lab_guest "$g" "vcost tcp-send --dst $dst --port 5001 --bytes $bytes") ||
		{
			lab_log "cost: TCP to $dst: $(tail -n 2 <<<"$out" | paste -sd ' ')"
			lab_log "cost: the peer's TCP: $(lab_peer nstat -az TcpInSegs TcpOutSegs TcpRetransSegs \
				TcpInCsumErrors TcpExtTCPTimeouts 2>&1 | tail -n +2 | awk '{ printf "%s=%s ", $1, $2 }')"
			lab_log "cost: the guest's TCP: $(lab_guest "$g" "grep Tcp: /proc/net/snmp | tail -n 1; grep Udp: /proc/net/snmp | tail -n 1")"
			kill "$sink" 2>/dev/null
			wait "$sink" 2>/dev/null
			return 1
		}
	wait "$sink" || return 1
	tail -n 1 <<<"$out"
}

# cost_tx_pktgen: the guest's pktgen sends 30000 64-byte frames through the
# master (or the bare VF) by dev_queue_xmit (xmit_mode queue_xmit, as a
# socket's frames go: pktgen's default hands frames straight to the
# driver, past the master's hop to its slave).
bench_cost_tx_pktgen() {
	local g=$1 mac out
	mac=$(lab_peer cat /sys/class/net/eth0/address)
	out=$(lab_guest "$g" "modprobe pktgen && cd /proc/net/pktgen &&
		echo rem_device_all > kpktgend_0 && echo 'add_device $BENCH_MASTER' > kpktgend_0 &&
		for c in 'xmit_mode queue_xmit' 'count 30000' 'clone_skb 0' 'pkt_size 64' 'delay 0' \
			'dst $LAB_PEER_IP4' 'dst_mac $mac' 'udp_dst_min 9' 'udp_dst_max 9'; do
			echo \"\$c\" > $BENCH_MASTER || exit 1
		done && vcost run -- sh -c 'echo start > pgctrl' && grep -c 'Result: OK: .* 30000 (' $BENCH_MASTER") ||
		true
	[ "$(tail -n 1 <<<"$out")" = 1 ] || out=""
	bench_value cost_tx_pktgen insns_per_packet insns \
		"$(bench_cost_per "$(tail -n 2 <<<"$out" | head -n 1)" 30000)" \
		"pktgen did not send its 30000 frames: $(tail -n 2 <<<"$out" | head -c 200)"
}

# bench_cost_udp_tx SCENARIO SIZE COUNT GUEST: a UDP socket's sendmmsg, 32
# datagrams a call, as an application sends.
bench_cost_udp_tx() {
	local s=$1 size=$2 n=$3 g=$4 out
	out=$(lab_guest "$g" "vcost udp-send --dst $LAB_PEER_IP4 --size $size --count $n") || true
	bench_value "$s" insns_per_packet insns "$(bench_cost_per "$(tail -n 1 <<<"$out")" "$n")" \
		"vcost udp-send failed: $(tail -n 1 <<<"$out" | head -c 200)"
}
bench_cost_tx_udp64() { bench_cost_udp_tx cost_tx_udp64 64 50000 "$1"; }
bench_cost_tx_udp1400() { bench_cost_udp_tx cost_tx_udp1400 1400 30000 "$1"; }

# cost_rx_udp: the peer sends 64-byte datagrams 1 ms apart to a UDP reader
# in the guest (recvmmsg): one frame at a time, so a frame's cost is its
# own (interrupt, NAPI, the master's rx_handler, the socket, the wake-up),
# not shared with whatever the host happened to deliver with it.
bench_cost_rx_udp() {
	local g=$1 out n
	# Its socket is an IPv6 one (on ::, taking IPv4 too): /proc/net/udp6.
	# The host's bridge learns the guest on its VF's tap (net_failover,
	# which announces nothing, would otherwise be measured dropping them
	# on its standby).
	if ! lab_guest "$g" "ping -c 1 -W 1 $LAB_PEER_IP4 >/dev/null; rm -f /tmp/vcost-rx
		(vcost udp-recv --port 7 >/tmp/vcost-rx 2>&1 & echo \$! >/tmp/vcost-rx.pid)" ||
		! lab_busywait 5000 lab_guest "$g" "grep -q ':0007 ' /proc/net/udp6"; then
		bench_absent cost_rx_udp insns_per_packet "the guest's reader did not start"
		return 0
	fi
	lab_peer "$LAB_BUILD/bin/vcost" udp-send --dst "$LAB_GUEST_IP4" --port 7 \
		--gap-us "$BENCH_COST_RX_GAP_US" --count "$BENCH_COST_RX_COUNT" >/dev/null
	lab_busywait 10000 lab_guest "$g" "grep -q busy_ns /tmp/vcost-rx" || true
	out=$(lab_guest "$g" "tail -n 1 /tmp/vcost-rx; kill \$(cat /tmp/vcost-rx.pid) 2>/dev/null; true")
	n=$(jq -r '.packets // 0' <<<"$(head -n 1 <<<"$out")" 2>/dev/null || echo 0)
	# A frame lost on the way would make the cost per frame received a
	# mix; none is lost on the lab's bridge, and a run that loses any says so.
	[ "${n:-0}" -eq "$BENCH_COST_RX_COUNT" ] || {
		bench_absent cost_rx_udp insns_per_packet \
			"the reader got ${n:-0} of $BENCH_COST_RX_COUNT datagrams: $(head -c 200 <<<"$out")"
		return 0
	}
	bench_value cost_rx_udp insns_per_packet insns "$(bench_cost_per "$out" "$n")" \
		"vcost udp-recv gave no cost: $(head -c 200 <<<"$out")"
}

# cost_tcp: TCP streams of 30 MB to the peer over the master,
# BENCH_COST_TCP_RUNS of them; their busy time over their MSS-sized
# (1448-byte) segments, the ACKs the guest handles included. Of all the
# scenarios this one follows the host's timing most (how many ACKs arrive,
# and how many per interrupt: one stream's figure varies by about 4%),
# hence the sum over several, not one stream or their median.
bench_cost_tcp() {
	local g=$1 out busy=0 i ns
	for ((i = 0; i < BENCH_COST_TCP_RUNS; i++)); do
		out=$(bench_cost_tcp_run "$g" "$LAB_PEER_IP4" "$BENCH_COST_TCP_BYTES" 2>"$LAB_DIR/cost-tcp.err") ||
			break
		ns=$(jq -r '.busy_ns | numbers' <<<"$out" 2>/dev/null) || break
		[ -n "$ns" ] || break
		busy=$((busy + ns))
	done
	[ "$i" -eq "$BENCH_COST_TCP_RUNS" ] || busy=""
	bench_value cost_tcp insns_per_packet insns \
		"$(bench_cost_per "{\"busy_ns\": ${busy:-null}}" $((BENCH_COST_TCP_RUNS * BENCH_COST_TCP_BYTES / 1448)))" \
		"a TCP transfer to the peer failed: $(tail -n 3 "$LAB_DIR/cost-tcp.err" | paste -sd ' ' | head -c 300)"
}

# cost_vxlan: UDP GSO through a VXLAN tunnel (VNI 42) over the master: 500
# super-datagrams of 46 x 1400 bytes, segmented by the stack. Where a master
# lacks its VF's tunnel offloads, segmentation happens before the master
# and every segment crosses it; with them, one super-frame crosses it and
# the VF (or dev_queue_xmit() on the VF) segments. UDP, not TCP: no ACKs,
# so the figure repeats.
bench_cost_vxlan() {
	local g=$1 out
	out=$(lab_guest "$g" "vcost udp-send --dst $BENCH_COST_VX_PEER --size $((46 * 1400)) \
		--gso 1400 --count 500 --batch 8") || true
	bench_value cost_vxlan insns_per_packet insns \
		"$(bench_cost_per "$(tail -n 1 <<<"$out")" $((500 * 46)))" \
		"vcost udp-send through the tunnel failed: $(tail -n 1 <<<"$out" | head -c 200)"
}
