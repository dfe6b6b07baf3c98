# shellcheck shell=bash
# The real guest's part of the lab, sourced after lab.sh by the tests that
# boot scripts/build/guest-image's Debian guest (systemd, udev,
# systemd-networkd with netplan, NetworkManager, cloud-init) instead of
# the busybox initramfs. Offers lab_image_up (the image, built on first
# use, then cached, as LAB_GUEST_IMAGE), lab_dhcp_up (dnsmasq in the
# peer's namespace: DHCPv4 and router advertisements on the lab's link),
# lab_seed_disk (a NoCloud seed, "CIDATA", that also carries the .debs
# to install) and lab_image_boot (boot, then wait for systemd to be done).
#
# lab_cleanup ends dnsmasq with the peer's namespace.

# Its guests boot systemd under TCG: more than the initramfs's seconds.
LAB_IMAGE_BOOT_TIMEOUT=${LAB_IMAGE_BOOT_TIMEOUT:-400}
# What the peer's DHCP server gives the guest's MAC: the lab's address.
LAB_DHCP_RANGE=198.18.0.100,198.18.0.150

# lab_image_up: builds (or finds) the image; sets LAB_GUEST_IMAGE.
lab_image_up() {
	LAB_GUEST_IMAGE=$("$LAB_TOP/scripts/build/guest-image") ||
		lab_die "no guest image (scripts/build/guest-image failed)"
	export LAB_GUEST_IMAGE
}

# lab_dhcp_up: dnsmasq on the peer's eth0: leases from LAB_DHCP_RANGE, the
# guest's MAC always LAB_GUEST_IP4 (so the tests reach it where they
# expect it, whichever netdev asked), router advertisements for fd00::/64
# (SLAAC), no DNS. Its leases are in LAB_DIR/dhcp.leases, its log (every
# DHCP exchange, with the client's MAC) in LAB_DIR/dhcp.log.
lab_dhcp_up() {
	lab_peer dnsmasq --port=0 --no-resolv --no-hosts --bind-interfaces \
		--interface=eth0 --except-interface=lo \
		--dhcp-range="$LAB_DHCP_RANGE,255.255.255.0,10m" \
		--dhcp-host="${LAB_MAC:-$LAB_GUEST_MAC},$LAB_GUEST_IP4" \
		--dhcp-range=::,constructor:eth0,ra-only,64,10m --enable-ra \
		--dhcp-leasefile="$LAB_DIR/dhcp.leases" --log-dhcp \
		--log-facility="$LAB_DIR/dhcp.log" --pid-file="$LAB_DIR/dnsmasq.pid" ||
		lab_die "dnsmasq did not start in the peer's namespace"
}

# lab_dhcp_clients [FROM]: the MACs that took a lease (DHCPACK) since
# line FROM of the log, one a line, with how often: "COUNT MAC".
lab_dhcp_clients() {
	tail -n +"${1:-1}" "$LAB_DIR/dhcp.log" 2>/dev/null |
		sed -n 's/.*DHCPACK([^)]*) [0-9.]* \([0-9a-f:]*\).*/\1/p' |
		sort | uniq -c | awk '{ print $1, $2 }'
}

# lab_seed_disk FILE [DIR]: a 16 MB vfat disk labelled CIDATA (cloud-init's
# NoCloud) holding DIR's files (user-data, meta-data, network-config, and
# debs/ with the packages to install), made with mtools: no mount.
lab_seed_disk() {
	local img=$1 dir=${2:-}
	rm -f "$img"
	mkfs.vfat -n CIDATA -C "$img" 16384 >/dev/null || lab_die "mkfs.vfat $img failed"
	[ -n "$dir" ] || return 0
	mcopy -s -i "$img" "$dir"/* ::/ || lab_die "mcopy into $img failed"
}

# lab_image_boot GUEST NICMODE SEED [QEMU ARGS...]: boots GUEST from the
# image with SEED as its second disk, waits for its agent, then for
# systemd to finish starting up (is-system-running: running or
# degraded); the boot's time in GUEST's boot_ms, systemd's own in
# systemd_ms.
lab_image_boot() {
	local g=$1 mode=$2 seed=$3
	shift 3
	[ -n "${LAB_GUEST_IMAGE:-}" ] || lab_die "lab_image_up first"
	LAB_BOOT_TIMEOUT=$LAB_IMAGE_BOOT_TIMEOUT lab_guest_start "$g" "$mode" \
		-drive "file=$seed,if=virtio,format=raw,readonly=on" "$@"
	lab_image_settled "$g" || return 1
}

# lab_image_settled GUEST: waits until systemd is done starting (after a
# boot or a reboot); records systemd-analyze's figure.
lab_image_settled() {
	local g=$1 dir
	dir=$(lab_guest_dir "$g")
	lab_busywait $((LAB_IMAGE_BOOT_TIMEOUT * 1000)) lab_guest "$g" \
		"systemctl is-system-running 2>/dev/null | grep -qE '^(running|degraded)$'" ||
		{ lab_log "$g: systemd did not finish starting: $(lab_guest "$g" 'systemctl --failed --no-legend' 2>&1 | head -n 5)"; return 1; }
	lab_guest "$g" "systemd-analyze 2>/dev/null | head -n 1" >"$dir/systemd_ms" || true
}

# lab_image_reboot GUEST: reboots the guest (the same QEMU, the same
# disk) and waits for its agent and for systemd again.
lab_image_reboot() {
	local g=$1 dir
	dir=$(lab_guest_dir "$g")
	lab_guest "$g" "(sleep 1; systemctl reboot) >/dev/null 2>&1 &" || return 1
	# The agent goes away with the old boot, then answers from the new.
	lab_busywait 60000 eval "! \"$LAB_QMP\" --ga --timeout 1000 \"$dir/qga.sock\" guest-ping >/dev/null 2>&1" ||
		{ lab_log "$g: the guest did not go down for its reboot"; return 1; }
	lab_busywait $((LAB_IMAGE_BOOT_TIMEOUT * 1000)) \
		"$LAB_QMP" --ga --timeout 1000 "$dir/qga.sock" guest-ping >/dev/null 2>&1 ||
		{ tail -n 20 "$dir/serial.log" >&2; lab_log "$g: no agent after the reboot"; return 1; }
	lab_image_settled "$g"
}
