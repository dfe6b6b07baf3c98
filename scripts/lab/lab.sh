# shellcheck shell=bash
# The vfpath lab, as a library. Offers: the host and peer namespaces with
# the bridge (lab_net_up), guests booted under QEMU and driven through QMP
# and their agent (lab_guest_start, lab_guest, lab_qmp), VF plug/unplug,
# migrations through vfpath-migrate (lab_guest_incoming, lab_vfpath_migrate,
# lab_hop), flowgen helpers (fg_*), a TCP probe, the taps' counters, and
# lab_cleanup. Sourced by scripts/lab/lab, demo and stress, by
# scripts/bench/bench and by every test (through tests/lib.sh). It builds
# nothing; `make lab-deps` (which every caller runs first) leaves the
# kernel, initramfs and tools in build/.
#
#   netns vfp-ID-peer            netns vfp-ID-host
#  +--------------------+      +-----------------------------------------+
#  | eth0 198.18.0.1/24 |      |  br0 ----+---- ID-p (veth to the peer)   |
#  |      fd00::1/64    |=veth=|          +---- GUEST-s  (tap, virtio-net) |
#  +--------------------+      |          +---- GUEST-v  (tap, e1000e)     |
#                              |  qemu-system-x86_64 -accel tcg -M q35    |
#                              |   guest NICs share MAC 52:54:00:5f:00:02 |
#                              |   guest address 198.18.0.2, fd00::2     |
#                              +-----------------------------------------+
#
# Every namespace, tap and QEMU process belongs to one lab instance (ID) and
# goes away in lab_cleanup, which callers run from `trap ... EXIT`.

LAB_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LAB_BUILD=${LAB_BUILD:-$LAB_TOP/build}
LAB_QMP=$LAB_BUILD/bin/vfpath-qmp
LAB_BOOT_TIMEOUT=${LAB_BOOT_TIMEOUT:-120}

# LAB_KERNEL=debug: the guest boots the debug kernel of
# scripts/build/debug-kernel (lockdep, KASAN, kmemleak, the netdev refcount
# tracker...; `make lab-deps LAB_KERNEL=debug` builds it and what the lab
# boots on it) instead of Debian's; unset (or "debian"): Debian's, as
# LAB_KVER and scripts/lab/kernel-version say.
case "${LAB_KERNEL:-}" in
"" | debian | debug) ;;
*) echo "lab: error: LAB_KERNEL must be debug, debian or unset, not '$LAB_KERNEL'" >&2; exit 1 ;;
esac
lab_debug_kernel() { [ "${LAB_KERNEL:-}" = debug ]; }
# KASAN's shadow takes an eighth of the guest's memory, its quarantine and
# kmemleak's and lockdep's records more: 512 MB is not enough there.
if lab_debug_kernel; then LAB_MEM=${LAB_MEM:-1024}; else LAB_MEM=${LAB_MEM:-512}; fi
# What the debug kernel's command line adds (before LAB_APPEND, which can
# override it): a WARN, a KASAN or a UBSAN report kills the guest, as in
# the kernel's own CI (lockdep and RCU splats, hung tasks and leaks do
# not: the dmesg and kmemleak checks of tests/lib.sh catch those);
# loglevel=5 puts warnings on the serial console despite "quiet", so that
# the splat of a guest that died is in its serial.log.
LAB_DEBUG_APPEND=""
if lab_debug_kernel; then LAB_DEBUG_APPEND="panic_on_warn=1 loglevel=5"; fi

LAB_PEER_IP4=198.18.0.1
LAB_PEER_IP6=fd00::1
LAB_GUEST_IP4=198.18.0.2
LAB_GUEST_IP6=fd00::2
LAB_PREFIX4=24
LAB_PREFIX6=64
LAB_GUEST_MAC=52:54:00:5f:00:02

LAB_ID=""
LAB_DIR=""
LAB_HOST_NS=""
LAB_PEER_NS=""
LAB_GUESTS=()

lab_log() { echo "lab: $*" >&2; }
lab_die() { echo "lab: error: $*" >&2; exit 1; }

lab_now_ms() { date +%s%3N; }

# lab_err_trap NAME: a script under set -e that dies says where: the
# command, its status and the call stack, as "NAME: ..." (set -E: in
# functions too; only the script's own shell, not a subshell's).
lab_err_trap() {
	set -E
	# shellcheck disable=SC2064 # NAME is fixed now, the rest at the trap
	trap "rc=\$?; [ \"\$BASHPID\" != \$\$ ] || echo \"$1: \\\"\$BASH_COMMAND\\\" exited \$rc in \${FUNCNAME[*]:-main} (lines \$LINENO \${BASH_LINENO[*]})\" >&2" ERR
}

# lab_busywait TIMEOUT_MS CMD...: runs CMD until it succeeds or time is up.
lab_busywait() {
	local timeout=$1 start
	shift
	start=$(lab_now_ms)
	until "$@"; do
		[ $(($(lab_now_ms) - start)) -lt "$timeout" ] || return 1
		sleep 0.1
	done
}

# The guest's kernel: $LAB_KVER, else Debian's default (scripts/lab/kernel-version);
# make lab-deps (LAB_KVER=... for another) builds what it boots into lab_img.
# With LAB_KERNEL=debug, the debug kernel's release (6.1.N-vfpath-debug).
lab_kernel_version() {
	if lab_debug_kernel; then
		"$LAB_TOP/scripts/build/debug-kernel" --release ||
			lab_die "no debug kernel: run 'make lab-deps LAB_KERNEL=debug'"
		return
	fi
	"$LAB_TOP/scripts/lab/kernel-version" || lab_die "no guest kernel (see above)"
}
# lab_img [KVER]: where that is (build/lab/KVER/, as the Makefile's LAB).
lab_img() { echo "$LAB_BUILD/lab/${1:-$(lab_kernel_version)}"; }
# lab_kernel_image KVER: what QEMU boots there: Debian's kernel as an
# uncompressed vmlinux through its PVH entry (no xz under TCG), the debug
# kernel as its bzImage (its PVH entry cannot run under KASAN).
lab_kernel_image() {
	if lab_debug_kernel; then echo "$(lab_img "$1")/bzImage-$1"; else echo "$(lab_img "$1")/vmlinux-$1"; fi
}

# LAB_GUEST_IMAGE: a directory of scripts/build/guest-image (a Debian root
# filesystem with systemd, its own kernel and initrd): the guests launched
# while it is set boot that instead of the busybox initramfs, from a
# virtio disk, with LAB_IMAGE_MEM MB (default 1024: systemd,
# NetworkManager, cloud-init). The disk is a qcow2 overlay of the image
# in the guest's directory: the image never changes, what the guest
# writes (a package it installs) survives its reboots, and a migration's
# destination opens the same overlay (shared storage, as a host's would).
# lab_boot_args KVER GUEST: QEMU's kernel, initrd and disk arguments.
lab_boot_args() {
	local img=${LAB_GUEST_IMAGE:-} disk base fmt=raw
	if [ -z "$img" ]; then
		echo "-kernel $(lab_kernel_image "$1") -initrd $(lab_img "$1")/initramfs.cpio -no-reboot"
		return
	fi
	[ -s "$img/rootfs.img" ] || lab_die "no guest image in '$img' (scripts/build/guest-image)"
	disk=${LAB_GUEST_DISK:-$(lab_guest_dir "$2")/disk.qcow2}
	# LAB_GUEST_BASE: a qcow2 (a guest's disk after an install) to start
	# from instead of the image itself.
	base=$img/rootfs.img
	[ -z "${LAB_GUEST_BASE:-}" ] || { base=$LAB_GUEST_BASE; fmt=qcow2; }
	[ -e "$disk" ] || qemu-img create -q -f qcow2 -b "$base" -F "$fmt" "$disk" >&2 ||
		lab_die "no overlay $disk of $base"
	echo "$disk" >"$(lab_guest_dir "$2")/disk"
	echo "-kernel $img/vmlinux -initrd $img/initrd.img"
	echo "-drive file=$disk,if=virtio,format=qcow2,cache=unsafe"
}
# lab_boot_append: the kernel's command line.
lab_boot_append() {
	local base="console=ttyS0 panic=-1 quiet"
	[ -z "${LAB_GUEST_IMAGE:-}" ] || base="root=/dev/vda rw $base"
	echo "$base ${LAB_DEBUG_APPEND:+$LAB_DEBUG_APPEND }${LAB_APPEND:-}"
}

# lab_init: names this lab instance and makes its state directory.
lab_init() {
	[ -z "$LAB_ID" ] || return 0
	[ "$(id -u)" -eq 0 ] || lab_die "the lab needs root (namespaces, taps)"
	[ -x "$LAB_QMP" ] && [ -e "$(lab_img)/initramfs.cpio" ] ||
		lab_die "lab not built for $(lab_kernel_version): run 'make lab-deps${LAB_KVER:+ LAB_KVER=$LAB_KVER}${LAB_KERNEL:+ LAB_KERNEL=$LAB_KERNEL}'"
	LAB_ID=$(printf '%04x' $((RANDOM % 65536)))
	LAB_DIR=$(mktemp -d "/tmp/vfpath-lab-$LAB_ID.XXXX")
}

# lab_ns_add NAME: creates namespace vfp-ID-NAME with lo up; prints its name.
lab_ns_add() {
	local ns=vfp-$LAB_ID-$1
	ip netns add "$ns"
	ip -n "$ns" link set lo up
	echo "$ns"
}

# lab_net_up: the host namespace with its bridge and the peer namespace.
lab_net_up() {
	lab_init
	LAB_HOST_NS=$(lab_ns_add host)
	LAB_PEER_NS=$(lab_ns_add peer)
	ip netns exec "$LAB_HOST_NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	ip netns exec "$LAB_HOST_NS" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
	ip -n "$LAB_HOST_NS" link add br0 type bridge
	ip -n "$LAB_HOST_NS" link set br0 up
	ip -n "$LAB_HOST_NS" link add "$LAB_ID-p" type veth peer name eth0 \
		netns "$LAB_PEER_NS"
	ip -n "$LAB_HOST_NS" link set "$LAB_ID-p" master br0 up
	ip -n "$LAB_PEER_NS" addr add "$LAB_PEER_IP4/$LAB_PREFIX4" dev eth0
	ip -n "$LAB_PEER_NS" addr add "$LAB_PEER_IP6/$LAB_PREFIX6" dev eth0 nodad
	ip -n "$LAB_PEER_NS" link set eth0 up
	lab_vf_filter_up
}

# A real VF (vfio-pci) carries nothing of QEMU's own: QEMU's self-announce
# after a migration (RARP with the guest's MAC, on every emulated NIC, in
# rounds up to 1.25 s after the resume) never leaves through it. The lab's
# VF is an emulated e1000e whose tap is a bridge port, where those RARPs
# would point the guest's MAC at a VF the guest has not opened yet (3-5
# frames lost per round, on a VF just hot-plugged on the destination). So
# the bridge drops RARP arriving from VF taps before it learns from them.
lab_vf_filter_up() {
	ip netns exec "$LAB_HOST_NS" nft -f - <<'NFT'
table bridge vfplab {
	set vf_ports { type ifname; }
	chain vf_ingress {
		type filter hook prerouting priority 0; policy accept;
		iifname @vf_ports ether type 0x8035 counter drop
	}
}
NFT
}

# lab_vf_port TAP: TAP plays a VF (see lab_vf_filter_up).
lab_vf_port() {
	ip netns exec "$LAB_HOST_NS" nft add element bridge vfplab vf_ports "{ \"$1\" }"
}

# lab_peer CMD...: runs CMD in the peer namespace.
lab_peer() { ip netns exec "$LAB_PEER_NS" "$@"; }
# lab_host CMD...: runs CMD in the host namespace (bridge, taps, QEMU).
lab_host() { ip netns exec "$LAB_HOST_NS" "$@"; }

lab_tap_add() {
	ip -n "$LAB_HOST_NS" tuntap add dev "$1" mode tap
	ip -n "$LAB_HOST_NS" link set "$1" master br0 up
}

lab_guest_dir() { echo "$LAB_DIR/$1"; }

# lab_nic_args GUEST MODE: QEMU arguments for the guest's two NICs.
#   auto      virtio-net + e1000e with the same MAC (vfpath pairs by MAC)
#   failover  the same with failover=on / failover_pair_id (STANDBY)
#   vf-later  like auto, but the e1000e is not plugged: a test hot-plugs it
#   virtio    virtio-net only
#   vf        the e1000e only (a guest without failover, for comparisons)
# LAB_MAC overrides the MAC (a second guest on the bridge needs its own);
# LAB_VIRTIO_OPTS is appended to virtio-net's properties (",host_mtu=1500").
lab_nic_args() {
	local g=$1 mode=$2 fo=""
	case "$mode" in
	auto|vf-later|virtio|vf) ;;
	failover) fo=",failover=on" ;;
	*) lab_die "unknown NIC mode '$mode' (auto, failover, vf-later, virtio, vf)" ;;
	esac
	if [ "$mode" != vf ]; then
		echo "-netdev tap,id=hn0,ifname=$g-s,script=no,downscript=no"
		echo "-device virtio-net-pci,netdev=hn0,mac=${LAB_MAC:-$LAB_GUEST_MAC},id=net0,romfile=$fo${LAB_VIRTIO_OPTS:-}"
	fi
	echo "-device pcie-root-port,id=rp1,slot=1,chassis=1"
	[ "$mode" = virtio ] && return 0
	echo "-netdev tap,id=hn1,ifname=$g-v,script=no,downscript=no"
	[ "$mode" = vf-later ] || echo "-device $(lab_vf_device "$mode")"
}

# lab_vf_device MODE: the -device description of the VF.
lab_vf_device() {
	local pair=""
	[ "${1:-auto}" = failover ] && pair=",failover_pair_id=net0"
	echo "e1000e,netdev=hn1,mac=$LAB_GUEST_MAC,bus=rp1,id=vf0,romfile=$pair"
}

# lab_vf_id GUEST: the QEMU id of the guest's current VF.
lab_vf_id() { cat "$(lab_guest_dir "$1")/vf_id" 2>/dev/null || echo vf0; }

# lab_vf_plug GUEST: hot-plugs a VF (QMP device_add) on its root port. With
# failover=on, QEMU keeps the unplugged primary vf0 for a migration's
# re-plug and refuses another primary, so the new VF is a plain e1000e with
# a fresh id: what a host without QEMU's failover offers (vfpath-migrate).
lab_vf_plug() {
	local dir id n
	dir=$(lab_guest_dir "$1")
	id=vf0
	if [ "$(cat "$dir/nicmode")" = failover ]; then
		n=$(($(cat "$dir/vf_seq" 2>/dev/null || echo 0) + 1))
		echo "$n" >"$dir/vf_seq"
		id=vf$n
	fi
	lab_qmp "$1" device_add "{\"driver\": \"e1000e\", \"netdev\": \"hn1\",
		\"mac\": \"$LAB_GUEST_MAC\", \"bus\": \"rp1\", \"id\": \"$id\",
		\"romfile\": \"\"}" >/dev/null || return 1
	echo "$id" >"$dir/vf_id"
}

# lab_vf_unplug GUEST: hot-unplugs the VF and waits until the guest let go.
lab_vf_unplug() {
	local id
	id=$(lab_vf_id "$1")
	lab_qmp "$1" device_del "{\"id\": \"$id\"}" wait DEVICE_DELETED "device=$id" >/dev/null
}

# lab_qemu_bin: the QEMU to launch. QEMU=stock (Debian's
# qemu-system-x86_64) or QEMU=patched (Debian's source with qemu-patches/,
# from scripts/build/build-qemu: built on first use, then cached). Read at each
# launch, so one lab can run both. The default is stock on Debian's kernel
# (what vfpath meets on a host) and patched on the debug kernel: stock 7.2
# loses a TCG guest's stores during a migration (qemu-patches/0004), and
# the debug kernel, there to find memory corruption, would report QEMU's.
lab_qemu_default() { if lab_debug_kernel; then echo patched; else echo stock; fi; }
lab_qemu_bin() {
	[ -z "${LAB_QEMU_PATH:-}" ] || { echo "$LAB_QEMU_PATH"; return; }
	case "${QEMU:-$(lab_qemu_default)}" in
	stock) command -v qemu-system-x86_64 ;;
	patched) "$LAB_TOP/scripts/build/build-qemu" || lab_die "no patched QEMU (scripts/build/build-qemu failed)" ;;
	*) lab_die "QEMU must be stock or patched, not '$QEMU'" ;;
	esac
}

# lab_qemu_launch GUEST NICMODE [QEMU ARGS...]: starts QEMU for GUEST in
# the host namespace, daemonized, with its taps GUEST-s and GUEST-v.
# LAB_QEMU_ARGS (split at spaces) goes before QEMU ARGS: make bench's
# icount flags, for every guest of a configuration.
lab_qemu_launch() {
	local g=$1 mode=$2 dir kver qemu mem=$LAB_MEM
	shift 2
	qemu=$(lab_qemu_bin)
	[ -z "${LAB_GUEST_IMAGE:-}" ] || mem=${LAB_IMAGE_MEM:-1024}
	[ ${#g} -le 8 ] || lab_die "guest name '$g' longer than 8 characters"
	[ -n "$LAB_HOST_NS" ] || lab_die "lab_net_up first"
	dir=$(lab_guest_dir "$g")
	mkdir -p "$dir"
	echo "$mode" >"$dir/nicmode"
	kver=$(lab_kernel_version)
	[ "$mode" = vf ] || lab_tap_add "$g-s"
	[ "$mode" = virtio ] || { lab_tap_add "$g-v" && lab_vf_port "$g-v"; }
	LAB_GUESTS+=("$g")
	echo "$qemu" >"$dir/qemu-bin"
	# shellcheck disable=SC2046,SC2086 # word splitting of the NIC and extra arguments is wanted
	if ! lab_host "$qemu" -name "vfpath-$LAB_ID-$g" \
		-accel tcg -M q35 -m "$mem" -smp 1 \
		-nodefaults -no-user-config -display none \
		$(lab_boot_args "$kver" "$g") \
		-append "$(lab_boot_append)" \
		-serial "file:$dir/serial.log" \
		-qmp "unix:$dir/qmp.sock,server=on,wait=off" \
		-qmp "unix:$dir/qmp-events.sock,server=on,wait=off" \
		-chardev "socket,id=qga0,path=$dir/qga.sock,server=on,wait=off" \
		-device virtio-serial-pci,id=vser0 \
		-device virtserialport,chardev=qga0,name=org.qemu.guest_agent.0 \
		$(lab_nic_args "$g" "$mode") \
		${LAB_QEMU_ARGS:-} \
		"$@" \
		-daemonize -pidfile "$dir/qemu.pid" 2>"$dir/qemu.stderr"; then
		cat "$dir/qemu.stderr" >&2
		lab_die "QEMU for guest '$g' did not start"
	fi
}

# lab_guest_start GUEST NICMODE [QEMU ARGS...]: boots a guest in the host
# namespace and waits until its agent answers. GUEST is a short name
# (at most 8 characters: it prefixes tap names).
lab_guest_start() {
	local g=$1 mode=$2 dir start
	shift 2
	start=$(lab_now_ms)
	lab_qemu_launch "$g" "$mode" "$@"
	dir=$(lab_guest_dir "$g")
	if ! lab_busywait $((LAB_BOOT_TIMEOUT * 1000)) \
		"$LAB_QMP" --ga --timeout 1000 "$dir/qga.sock" guest-ping >/dev/null 2>&1; then
		tail -n 20 "$dir/serial.log" >&2
		lab_die "guest '$g' did not answer within ${LAB_BOOT_TIMEOUT}s"
	fi
	echo $(($(lab_now_ms) - start)) >"$dir/boot_ms"
}

# lab_guest_incoming SRC DST [QEMU ARGS...]: starts DST, a QEMU with SRC's devices waiting
# for SRC's migration on the unix socket DST/migrate.sock (another "host"
# on the same bridge: its own taps DST-s and DST-v). Without QEMU's
# failover the VF is not among them: the source revokes its VF before
# migrating and the destination is offered one after (vfpath-migrate).
lab_guest_incoming() {
	local src=$1 dst=$2 mode
	shift 2
	mode=$(cat "$(lab_guest_dir "$src")/nicmode")
	[ "$mode" = failover ] || mode=vf-later
	# The same QEMU binary as the source, whatever QEMU says now.
	LAB_QEMU_PATH=$(cat "$(lab_guest_dir "$src")/qemu-bin") \
		LAB_GUEST_DISK=$(cat "$(lab_guest_dir "$src")/disk" 2>/dev/null) lab_qemu_launch "$dst" "$mode" \
		-incoming "unix:$(lab_guest_dir "$dst")/migrate.sock" "$@"
	lab_busywait 10000 test -S "$(lab_guest_dir "$dst")/qmp.sock" ||
		lab_die "QEMU for '$dst' has no QMP socket"
}

# lab_vf_device_json GUEST: the VF's device_add arguments (vfpath-migrate).
lab_vf_device_json() {
	echo "{\"driver\": \"e1000e\", \"netdev\": \"hn1\", \"mac\": \"$LAB_GUEST_MAC\",
		\"bus\": \"rp1\", \"id\": \"$(lab_vf_id "$1")\", \"romfile\": \"\"}"
}

# lab_switch_over DSTTAP: sets LAB_SWITCH, vfpath-migrate's arguments for
# the host's switch-over to the destination's tap DSTTAP at the source's
# STOP: done by vfpath itself (--move-mac, LAB_SWITCH_OVER=move, the
# default) or by a command (--on-stop with `bridge fdb replace`,
# LAB_SWITCH_OVER=command), as a host whose network is not a Linux bridge
# would have it.
lab_switch_over() {
	local mac=${LAB_MAC:-$LAB_GUEST_MAC}
	case "${LAB_SWITCH_OVER:-move}" in
	move) LAB_SWITCH=(--move-mac "$mac" --to-port "$1" --netns "$LAB_HOST_NS") ;;
	command) LAB_SWITCH=(--on-stop "bridge -n $LAB_HOST_NS fdb replace $mac dev $1 master dynamic") ;;
	*) lab_die "LAB_SWITCH_OVER must be move or command, not '$LAB_SWITCH_OVER'" ;;
	esac
}

# lab_vfpath_migrate [--no-vfpath] SRC DST [vfpath-migrate ARGS...]:
# migrates SRC's guest to DST (started by lab_guest_incoming) with
# vfpath-migrate; prints its timeline and returns its exit status. The
# host's switch-over: when the source stops the guest, the bridge is told
# the guest's MAC is now behind the destination's virtio tap (the VF was
# revoked before), so what the peer sends during the pause queues there
# rather than in the stopped source. --no-vfpath, for a guest without
# vfpath (the bench's net_failover, bonding and bare-VF configurations):
# no waiting on the guest's agent for its master to use the VF.
lab_vfpath_migrate() {
	local src dst rc=0 ga=()
	if [ "$1" = --no-vfpath ]; then
		shift
	else
		ga=(--dst-ga "$(lab_guest_dir "$2")/qga.sock" --src-ga "$(lab_guest_dir "$1")/qga.sock")
	fi
	src=$1 dst=$2
	shift 2
	lab_switch_over "$dst-s"
	"$LAB_TOP/scripts/host/vfpath-migrate" \
		--src "$(lab_guest_dir "$src")/qmp.sock" \
		--dst "$(lab_guest_dir "$dst")/qmp.sock" \
		--uri "unix:$(lab_guest_dir "$dst")/migrate.sock" \
		--vf-device "$(lab_vf_device_json "$src")" \
		"${ga[@]}" \
		--dst-events "$(lab_guest_dir "$dst")/qmp-events.sock" \
		"${LAB_SWITCH[@]}" "$@" || rc=$?
	lab_vf_id "$src" >"$(lab_guest_dir "$dst")/vf_id"
	return $rc
}

# What fails a guest's kernel log: warnings, BUGs, refcount problems,
# leaked netdev references, oopses, panics; on the debug kernel also what
# its checks print (most of their reports begin with WARNING: or BUG:, not
# all): lockdep, PROVE_RCU, atomic sleep, KASAN, UBSAN, debug objects,
# list corruption, hung tasks, RCU stalls, the refcount tracker's leaks.
LAB_DMESG_BAD='WARNING:|BUG:|refcount_t|unregister_netdevice: waiting|Oops|general protection|RIP:|Kernel panic'
LAB_DMESG_BAD_DEBUG='possible circular locking|possible recursive locking|inconsistent lock state|suspicious RCU usage|BUG: sleeping function|BUG: KASAN|UBSAN:|ODEBUG:|list_(add|del) corruption|INFO: task .* blocked|rcu: INFO:|detected stall|leaked reference'
lab_dmesg_bad_re() {
	if lab_debug_kernel; then echo "$LAB_DMESG_BAD|$LAB_DMESG_BAD_DEBUG"; else echo "$LAB_DMESG_BAD"; fi
}

# lab_guest_dmesg_bad GUEST: prints what the guest kernel logged of
# warnings, BUGs, refcount problems and leaked netdev references.
# A guest whose log cannot be read (its agent or kernel dead) is bad too:
# that is said, and the status is 2. On the debug kernel, where a WARN
# kills the guest (panic_on_warn), what its serial console says of it is
# added.
lab_guest_dmesg_bad() {
	local out splat
	out=$(lab_guest "$1" "dmesg >/tmp/dmesg.all || exit 2
		grep -E '$(lab_dmesg_bad_re)' /tmp/dmesg.all
		echo vfpath-dmesg-read" 2>&1) || true
	if ! grep -qx vfpath-dmesg-read <<<"$out"; then
		if lab_debug_kernel; then
			splat=$(grep -E "$(lab_dmesg_bad_re)" "$(lab_guest_dir "$1")/serial.log" 2>/dev/null |
				head -n 4 | tr -d '\r' | awk 'NR > 1 { printf " | " } { printf "%s", $0 }' || true)
			[ -z "$splat" ] || out="${out:-no answer from its agent}; its serial console: $splat"
		fi
		echo "the guest's kernel log could not be read: ${out:-no answer from its agent}"
		return 2
	fi
	grep -vx vfpath-dmesg-read <<<"$out" || true
}

# Leaks that fail a test: those whose allocation went through vfpath, its
# drop-in, the failover core or the netdev code of the kernel or of the
# drivers vfpath pairs (the rest, such as boot-time objects of ACPI, is
# only counted).
LAB_KMEMLEAK_OURS='\[(vfpath|net_failover|failover|virtio_net|e1000e)\]|alloc_netdev|register_netdev|netdev_|netif_|__dev_|dev_(addr|uc|mc)_|rtnl_|rtnetlink'

# lab_guest_kmemleak GUEST: on the debug kernel, has kmemleak scan the
# guest's memory and prints the leaks that involve vfpath or netdev code,
# one line each (status 1); status 2 if kmemleak could not scan. Two
# scans 5 s apart, as kmemleak's documentation advises: it reports only
# objects older than 5 s at a scan's start, and the second scan drops the
# false positives of the first (a pointer that was in flight). The whole
# report is kept in the guest's directory as kmemleak.txt.
lab_guest_kmemleak() {
	local out rep
	rep=$(lab_guest_dir "$1")/kmemleak.txt
	out=$(LAB_EXEC_TIMEOUT_MS=${LAB_KMEMLEAK_TIMEOUT_MS:-300000} lab_guest "$1" "k=/sys/kernel/debug/kmemleak
		echo scan > \$k && sleep 5 && echo scan > \$k || { echo kmemleak cannot scan:; dmesg | grep kmemleak | tail -n 3; exit 2; }
		cat \$k; echo vfpath-kmemleak-read" 2>&1) || true
	if ! grep -qx vfpath-kmemleak-read <<<"$out"; then
		echo "no scan: $(tr '\n' ' ' <<<"${out:-no answer from its agent}")"
		return 2
	fi
	grep -vx vfpath-kmemleak-read <<<"$out" >"$rep"
	# One line per object: its size, the task, the backtrace's functions.
	OURS=$LAB_KMEMLEAK_OURS awk '
		function flush() {
			if (obj != "" && bt ~ ENVIRON["OURS"])
				print obj ": " bt
			obj = ""; bt = ""
		}
		/^unreferenced object/ { flush(); obj = $0; sub(/^unreferenced object 0x[0-9a-f]+ /, "", obj); sub(/:$/, "", obj); next }
		/^ *comm / { c = $0; sub(/^ *comm /, "", c); sub(/, jiffies.*/, "", c); obj = obj " " c; next }
		/^ *\[<[0-9a-f]+>\]/ { f = $0; sub(/^ *\[<[0-9a-f]+>\] /, "", f); bt = (bt == "" ? f : bt " < " f) }
		END { flush() }' "$rep" | grep . || return 0
	return 1
}

LAB_TCP_PORT=7100

# lab_tcp_start GUEST: a long-lived TCP connection from the guest to an
# echo server in the peer: the guest writes a line every 100 ms, the peer
# echoes it, the guest appends the echo to /tmp/tcp.out.
lab_tcp_start() {
	# A subshell's child: no job of ours, no "Killed" when lab_cleanup ends it.
	(ip netns exec "$LAB_PEER_NS" busybox nc -l -p $LAB_TCP_PORT -e cat \
		</dev/null >/dev/null 2>&1 &)
	lab_busywait 5000 eval "ip netns exec $LAB_PEER_NS ss -Htln | grep -q ':$LAB_TCP_PORT '" || return 1
	lab_guest "$1" "setsid sh -c 'i=0; while :; do echo \$i; i=\$((i + 1)); sleep 0.1; done |
		busybox nc $LAB_PEER_IP4 $LAB_TCP_PORT > /tmp/tcp.out' </dev/null >/dev/null 2>&1 &"
	lab_busywait 5000 eval "[ \"\$(lab_guest $1 'wc -l < /tmp/tcp.out')\" -gt 2 ]"
}

# lab_tcp_alive GUEST: that connection still carries lines both ways.
lab_tcp_alive() {
	local a b
	a=$(lab_guest "$1" "wc -l < /tmp/tcp.out")
	sleep 1.5
	b=$(lab_guest "$1" "wc -l < /tmp/tcp.out")
	[ "$b" -gt "$a" ] &&
		ip netns exec "$LAB_PEER_NS" ss -Htn state established "( sport = :$LAB_TCP_PORT )" | grep -q .
}

# lab_tap_counters_start OUT [PERIOD_S]: every PERIOD_S (default 0.05) s,
# one line per guest tap (GUEST-s, GUEST-v) in the host namespace to OUT:
# "EPOCH_S TAP TX RX TX_DROPPED" (tx: bridge to guest, rx: guest to
# bridge; EPOCH_S with microseconds, one per round). Taps that appear later
# (a destination's) are picked up as they come. Runs until
# lab_tap_counters_stop OUT or lab_cleanup.
lab_tap_counters_start() {
	local out=$1 period=${2:-0.05}
	# shellcheck disable=SC2016 # the loop runs in the namespace's bash
	(lab_host bash -c 'echo $$ >"$0.pid"; while :; do
		now=$EPOCHREALTIME
		for d in /sys/class/net/*-[sv]; do
			[ -e "$d/tun_flags" ] || continue
			read -r tx <"$d/statistics/tx_packets" || continue
			read -r rx <"$d/statistics/rx_packets" || continue
			read -r dr <"$d/statistics/tx_dropped" || continue
			echo "$now ${d##*/} $tx $rx $dr"
		done
		sleep "$1"
	done' "$out" "$period" </dev/null >"$out" 2>/dev/null &)
	lab_busywait 5000 test -s "$out.pid"
}

lab_tap_counters_stop() {
	[ -s "$1.pid" ] || return 0
	kill "$(cat "$1.pid")" 2>/dev/null || true
	rm -f "$1.pid"
}

# lab_pcap_start NAME: for diagnostics (LAB_PCAP=1 in lab_hop and
# lab_lv_hop), what leaves any interface of the host namespace towards the
# guest's flow (udp 7001) to $LAB_DIR/NAME.pcap, what enters any of them to
# NAME-in.pcap (both LINUX_SLL2: the interface index is in each frame),
# and the interfaces' indexes every 50 ms to NAME.links (taps come and go).
# With LAB_KEEP_LOGS the files stay.
lab_pcap_start() {
	(lab_host tcpdump -i any -y LINUX_SLL2 -Q out -nn -U -s 96 -w "$LAB_DIR/$1.pcap" \
		'udp dst port 7001' </dev/null >/dev/null 2>&1 &)
	(lab_host tcpdump -i any -y LINUX_SLL2 -Q in -nn -U -s 80 -w "$LAB_DIR/$1-in.pcap" \
		</dev/null >/dev/null 2>&1 &)
	# shellcheck disable=SC2016 # for the namespace's bash
	(lab_host bash -c 'while :; do ip -o link | awk "{print \$1, \$2}"; sleep 0.05; done' \
		</dev/null >"$LAB_DIR/$1.links" 2>/dev/null &)
	lab_busywait 5000 test -s "$LAB_DIR/$1.links"
}

# lab_hop_span TIMELINE FROM TO: ms from phase FROM to phase TO (e.g. stop
# on_stop: how long the stopped source still held the guest's MAC).
lab_hop_span() {
	jq -r --arg a "$2" --arg b "$3" '([.phases[] | select(.phase == $b) | .t_ms][0]) -
		([.phases[] | select(.phase == $a) | .t_ms][0])' "$1"
}

# lab_flows_start GUEST NAME SECS RATE: flowgen both ways, SECS x RATE
# packets at RATE pps: peer -> guest port 7001 (report NAME-in, in the
# guest), guest -> peer port 7002 (report NAME-out, in $LAB_DIR). The
# receivers know the count (--expect), so loss at the tail counts too.
lab_flows_start() {
	local g=$1 n=$2 secs=$3 rate=$4 count=$(($3 * $4))
	LAB_FLOWS_ERR="the guest's receiver did not start ($g)"
	fg_guest_recv "$g" "$n-in" 7001 --duration $((secs + 60)) --expect $count || return 1
	LAB_FLOWS_ERR="the peer's receiver did not start"
	fg_ns_recv "$LAB_PEER_NS" "$n-out" 7002 --duration $((secs + 60)) --expect $count || return 1
	LAB_FLOWS_ERR="the peer's sender did not start"
	fg_ns_send "$LAB_PEER_NS" "$n-in-tx" "$LAB_GUEST_IP4" 7001 \
		--rate "$rate" --count $count || return 1
	LAB_FLOWS_ERR="the guest's sender did not start ($g)"
	fg_guest_send "$g" "$n-out-tx" "$LAB_PEER_IP4" 7002 \
		--rate "$rate" --count $count || return 1
	LAB_FLOWS_ERR=""
}

# lab_flows_running GUEST NAME: neither sender of the flows NAME (started by
# lab_flows_start) has sent its last packet yet.
lab_flows_running() {
	[ ! -s "$LAB_DIR/$2-in-tx.json" ] && lab_guest "$1" "[ ! -s /tmp/$2-out-tx.json ]"
}

# lab_guest_evidence GUEST: what a failed check leaves to read once the lab
# is gone: the guest's netdevs and masters, its PCI functions and their
# drivers, its kernel log's end, and QEMU's view of its PCI bus (stderr).
lab_guest_evidence() {
	local g=$1
	{
		echo "== evidence from guest $g"
		lab_guest "$g" 'ip -br link; for m in /sys/class/net/*/vfpath; do
			[ -d "$m" ] || continue
			echo "${m%/vfpath}: path $(cat $m/active_path), reason $(cat $m/last_switch_reason 2>/dev/null)"
		done
		for d in /sys/bus/pci/devices/*; do
			echo "pci ${d##*/} $(cat $d/vendor):$(cat $d/device) driver $(basename "$(readlink $d/driver)" 2>/dev/null)"
		done
		dmesg | tail -n 40' 2>&1 || echo "(its agent did not answer)"
		echo "== QEMU $g: devices on the VF's bus"
		lab_qmp "$g" human-monitor-command '{"command-line": "info pci"}' 2>&1 |
			jq -r '.return // .' 2>/dev/null | grep -E 'Bus|Ethernet|id "' | tail -n 20 || true
		# A kernel's report starts well before its last 20 lines (a
		# panic's stack alone is longer): its first 80 lines too.
		echo "== serial console of $g: the first kernel report (80 lines), then the last 20 lines"
		awk '/(BUG|WARNING|INFO|Oops|Kernel panic|KASAN|UBSAN|kmemleak|Out of memory|invoked oom-killer|refcount_t|hung_task|circular locking|suspicious RCU)/ && !n { n = 1 }
			n && n++ <= 80' "$(lab_guest_dir "$g")/serial.log" 2>/dev/null || true
		echo "== serial console of $g (last 20 lines)"
		tail -n 20 "$(lab_guest_dir "$g")/serial.log" 2>/dev/null || true
	} | sed 's/^/lab: evidence: /' >&2
}

# lab_hop_where RC TIMELINE SRC DST: where the guest runs after a
# migration that exited RC: on DST once QEMU said it completed, even if
# what came after it failed; else still on SRC.
lab_hop_where() {
	[ "$1" -ne 0 ] && ! jq -e '.qemu.status == "completed" or any(.phases[]; .phase == "migrated")' \
		"$2" >/dev/null 2>&1 && echo "$3" || echo "$4"
}

# lab_hop SRC DST NAME SECS [RATE]: starts DST, runs flowgen both ways for
# SECS s at RATE pps (default 1000), migrates after 2 s with vfpath-migrate
# and waits for the flows. Leaves $LAB_DIR/NAME-timeline.json: the
# timeline with "flows" {to_guest, from_guest} filled in. Returns
# vfpath-migrate's exit status, or 1 if a flow failed to start or its
# report is missing; LAB_HOP_ERR then says which (and vfpath-migrate's
# error, from its timeline or the last line it printed).
lab_hop() {
	local src=$1 dst=$2 n=$3 secs=$4 rate=${5:-1000} rc=0 tl err
	tl=$LAB_DIR/$n-timeline.json err=$LAB_DIR/$n-migrate.err
	LAB_HOP_ERR=""
	lab_guest_incoming "$src" "$dst"
	[ -z "${LAB_PCAP:-}" ] || lab_pcap_start "$n"
	lab_flows_start "$src" "$n" "$secs" "$rate" ||
		{ LAB_HOP_ERR="flows $n did not start: $LAB_FLOWS_ERR"; return 1; }
	sleep 2
	lab_vfpath_migrate "$src" "$dst" --out "$tl" 2>"$err" || rc=$?
	cat "$err" >&2
	if [ $rc -ne 0 ]; then
		LAB_HOP_ERR=$(jq -r '.error // empty' "$tl" 2>/dev/null || true)
		if [ -z "$LAB_HOP_ERR" ]; then
			LAB_HOP_ERR="no error in a timeline; it printed: $(sed '/^$/d' "$err" | tail -n 1)"
		fi
		LAB_HOP_ERR="vfpath-migrate exit $rc: $LAB_HOP_ERR"
	fi
	lab_hop_flows "$tl" "$(lab_hop_where "$rc" "$tl" "$src" "$dst")" "$n" ||
		{ LAB_HOP_ERR=${LAB_HOP_ERR:-"flows $n: $LAB_FLOWS_ERR"}; return 1; }
	return $rc
}

# lab_hop_flows TIMELINE GUEST NAME: waits for the flows NAME (started by
# lab_flows_start; the guest now runs as GUEST) and adds their loss to
# TIMELINE as "flows" {to_guest, from_guest}. Fails if a receiver saw no
# FIN (its sender died, or the flow's end was lost); LAB_FLOWS_ERR says
# which.
lab_hop_flows() {
	local tl=$1 g=$2 n=$3
	LAB_FLOWS_ERR=""
	fg_guest_report "$g" "$n-in" 90000 ||
		{ LAB_FLOWS_ERR="no report from the guest's receiver ($g): $(lab_guest "$g" \
			"tail -n 2 /tmp/$n-in.log" 2>&1 | tr '\n' ' ')"; return 1; }
	fg_wait "$n-out" 90000 ||
		{ LAB_FLOWS_ERR="no report from the peer's receiver: $(tail -n 2 "$LAB_DIR/$n-out.log" |
			tr '\n' ' ')"; return 1; }
	jq --slurpfile i "$LAB_DIR/$n-in.json" --slurpfile o "$LAB_DIR/$n-out.json" \
		'.flows = {to_guest: ($i[0] | {lost, received: .unique, expected, max_gap_ms, fin}),
			   from_guest: ($o[0] | {lost, received: .unique, expected, max_gap_ms, fin})}' \
		"$tl" >"$tl.new" && mv "$tl.new" "$tl" ||
		{ LAB_FLOWS_ERR="no timeline $tl to add the flows to"; return 1; }
	jq -e '.flows.to_guest.fin and .flows.from_guest.fin' "$tl" >/dev/null ||
		{ LAB_FLOWS_ERR="no FIN ($(jq -c '[.flows[].fin]' "$tl"))"; lab_log "flows $n: $LAB_FLOWS_ERR"
		  return 1; }
}

# lab_migrate SRC DST: migrates SRC's guest to DST (started by
# lab_guest_incoming) and waits for completion; prints the source's
# MIGRATION events, one JSON per line, then query-migrate's answer.
lab_migrate() {
	local src=$1 dst=$2 caps
	caps='{"capabilities": [{"capability": "events", "state": true}]}'
	lab_qmp "$dst" migrate-set-capabilities "$caps" >/dev/null || return 1
	LAB_QMP_TIMEOUT_MS=${LAB_MIGRATE_TIMEOUT_MS:-120000} lab_qmp "$src" \
		migrate-set-capabilities "$caps" \
		migrate "{\"uri\": \"unix:$(lab_guest_dir "$dst")/migrate.sock\"}" \
		wait MIGRATION status=completed query-migrate
}

lab_guest_boot_ms() { cat "$(lab_guest_dir "$1")/boot_ms"; }

# lab_guest GUEST CMD: runs a shell command in the guest, relays its output
# and returns its exit status; 124 if it timed out (LAB_EXEC_TIMEOUT_MS,
# default 60 s), 125 if the guest agent failed.
lab_guest() {
	"$LAB_QMP" --ga --timeout "${LAB_EXEC_TIMEOUT_MS:-60000}" \
		"$(lab_guest_dir "$1")/qga.sock" exec "$2"
}

# lab_qmp GUEST STEP...: QMP steps on the guest's monitor (see vfpath-qmp).
lab_qmp() {
	local g=$1
	shift
	"$LAB_QMP" --timeout "${LAB_QMP_TIMEOUT_MS:-30000}" \
		"$(lab_guest_dir "$g")/qmp.sock" "$@"
}

# lab_guest_stop GUEST: stops QEMU (TERM, then KILL after 5 s).
lab_guest_stop() {
	local pidf pid i
	pidf="$(lab_guest_dir "$1")/qemu.pid"
	[ -s "$pidf" ] || return 0
	pid=$(cat "$pidf")
	kill "$pid" 2>/dev/null || { rm -f "$pidf"; return 0; }
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null || true
	rm -f "$pidf"
}

# lab_leftovers: prints whatever of this lab instance still exists.
lab_leftovers() {
	local ns
	[ -n "$LAB_ID" ] || return 0
	for ns in $(ip netns list | awk '{print $1}'); do
		case "$ns" in vfp-"$LAB_ID"-*) echo "netns $ns" ;; esac
	done
	pgrep -af "vfpath-$LAB_ID-" | sed 's/^/process /' || true
	ip -br link | awk -v id="$LAB_ID" 'index($1, id "-") == 1 { print "link " $1 }'
}

# lab_cleanup: stops every guest, deletes the namespaces (with the bridge,
# taps and veths in them) and the state directory. Keeps logs if asked.
lab_cleanup() {
	local g ns
	[ -n "$LAB_ID" ] || return 0
	for g in "${LAB_GUESTS[@]}"; do
		lab_guest_stop "$g"
	done
	pkill -9 -f "vfpath-$LAB_ID-" 2>/dev/null || true
	for ns in $(ip netns list | awk '{print $1}'); do
		case "$ns" in
		vfp-"$LAB_ID"-*)
			ip netns pids "$ns" | xargs -r kill -9 2>/dev/null || true
			ip netns del "$ns"
			;;
		esac
	done
	if [ -n "${LAB_KEEP_LOGS:-}" ] && [ -d "$LAB_DIR" ]; then
		mkdir -p "$LAB_KEEP_LOGS"
		cp -r "$LAB_DIR"/. "$LAB_KEEP_LOGS"/ 2>/dev/null || true
		# Sockets mean nothing there; a real guest's disk overlay is large.
		find "$LAB_KEEP_LOGS" \( -name '*.sock' -o -name '*.qcow2' \) -delete 2>/dev/null || true
	fi
	rm -rf "$LAB_DIR"
	LAB_ID=""
}

# lab_guest_net GUEST DEV: addresses DEV in the guest (v4 and v6) and ups it.
lab_guest_net() {
	lab_guest "$1" "ip link set $2 up &&
		ip addr add $LAB_GUEST_IP4/$LAB_PREFIX4 dev $2 &&
		ip addr add $LAB_GUEST_IP6/$LAB_PREFIX6 dev $2 nodad"
}

# lab_guest_netdev_by_driver GUEST DRIVER: the guest netdev bound to DRIVER
# (e1000e, virtio_net, net_failover, vfpath).
lab_guest_netdev_by_driver() {
	lab_guest "$1" "for d in /sys/class/net/*; do
		drv=\$(ethtool -i \${d##*/} 2>/dev/null | awk '/^driver:/ {print \$2}')
		[ \"\$drv\" = '$2' ] && echo \${d##*/}
	done; true" | head -n 1
}

# flowgen helpers. In the guest, flowgen runs detached; its report lands in
# /tmp/NAME.json there and is copied to $LAB_DIR/NAME.json by fg_guest_report.
# fg_guest_recv GUEST NAME PORT [ARGS...]: starts a receiver, waits for it.
fg_guest_recv() {
	local g=$1 name=$2 port=$3
	shift 3
	lab_guest "$g" "rm -f /tmp/$name.ready; setsid flowgen recv --port $port \
		--ready /tmp/$name.ready --out /tmp/$name.json $* </dev/null \
		>/tmp/$name.log 2>&1 &" || return 1
	lab_busywait 30000 lab_guest "$g" "test -e /tmp/$name.ready"
}

# fg_guest_send GUEST NAME DST PORT [ARGS...]: starts a detached sender.
fg_guest_send() {
	local g=$1 name=$2 dst=$3 port=$4
	shift 4
	lab_guest "$g" "setsid flowgen send --dst $dst --port $port \
		--out /tmp/$name.json $* </dev/null >/tmp/$name.log 2>&1 &"
}

# fg_guest_report GUEST NAME HOSTFILE: waits for the report, copies it out.
fg_guest_report() {
	lab_busywait "${3:-30000}" lab_guest "$1" "test -s /tmp/$2.json" || return 1
	lab_guest "$1" "cat /tmp/$2.json" >"$LAB_DIR/$2.json"
}

# fg_ns_recv NS NAME PORT [ARGS...]: a receiver in a lab namespace.
fg_ns_recv() {
	local ns=$1 name=$2 port=$3
	shift 3
	rm -f "$LAB_DIR/$name.ready" "$LAB_DIR/$name.json"
	ip netns exec "$ns" "$LAB_BUILD/bin/flowgen" recv --port "$port" \
		--ready "$LAB_DIR/$name.ready" --out "$LAB_DIR/$name.json" "$@" \
		</dev/null >"$LAB_DIR/$name.log" 2>&1 &
	lab_busywait 30000 test -e "$LAB_DIR/$name.ready"
}

# fg_ns_send NS NAME DST PORT [ARGS...]: a sender in a lab namespace.
fg_ns_send() {
	local ns=$1 name=$2 dst=$3 port=$4
	shift 4
	rm -f "$LAB_DIR/$name.json"
	ip netns exec "$ns" "$LAB_BUILD/bin/flowgen" send --dst "$dst" \
		--port "$port" --out "$LAB_DIR/$name.json" "$@" \
		</dev/null >"$LAB_DIR/$name.log" 2>&1 &
}

# fg_wait NAME [TIMEOUT_MS]: waits for a namespace flow's report.
fg_wait() { lab_busywait "${2:-30000}" test -s "$LAB_DIR/$1.json"; }
