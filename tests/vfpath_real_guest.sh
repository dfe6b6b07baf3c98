#!/usr/bin/env bash
# vfpath in a real guest: the Debian 12 image of scripts/build/guest-image
# (systemd, udev, systemd-networkd with netplan, NetworkManager,
# cloud-init). vfpath is installed in it once, from `make deb`'s packages
# with apt, as a user would (DKMS builds the modules in the guest, the
# initramfs gets them); then each configuration of RG_VARIANTS boots a
# copy of that disk for cloud-init's first boot: its NoCloud seed writes
# the network config, the NIC matched by MAC, and the peer's dnsmasq
# answers DHCP. In each: the lease is on the master alone, the slaves stay
# enslaved with no address and no network manager of their own, pings
# from the peer survive a VF unplug and re-plug, and a reboot comes back
# the same.
#
# RG_VARIANTS: MANAGER:PAIRING words. MANAGER networkd (cloud-init writes
# netplan for networkd; NetworkManager masked) or nm (NetworkManager's
# own "Wired connection"; networkd masked, cloud-init's network config
# disabled); PAIRING auto or standby (QEMU failover=on, the drop-in).
source "$(dirname "$0")/lib.sh"
source "$TESTS_DIR/../scripts/lab/lab-image.sh"

RG_VARIANTS=${RG_VARIANTS:-"networkd:auto networkd:standby"}
for v in $RG_VARIANTS; do
	case "$v" in
	networkd:auto | networkd:standby | nm:auto | nm:standby) ;;
	*) echo "RG_VARIANTS: '$v' is not networkd|nm:auto|standby" >&2; exit 1 ;;
	esac
done

ALL_TESTS="rg_boot rg_install rg_variants"
G=vm1
M=""
SEED=""
INSTALLED=""
RG_NM="" RG_PAIRING=""

# rg_nicmode: the lab's NIC mode for RG_PAIRING.
rg_nicmode() { if [ "$RG_PAIRING" = standby ]; then echo failover; else echo auto; fi; }

# rg_append: the kernel command line that picks RG_NM's network manager
# (one installed disk serves every variant).
rg_append() {
	if [ "$RG_NM" = networkd ]; then
		echo "systemd.mask=NetworkManager.service systemd.wants=systemd-networkd.service"
	else
		echo "systemd.mask=systemd-networkd.service systemd.mask=systemd-networkd.socket network-config=disabled"
	fi
}

# rg_seed DIR: cloud-init's NoCloud seed (a fresh instance-id per run)
# and the packages. network-config, as a cloud writes it: the NIC by its
# MAC, DHCPv4.
rg_seed() {
	local d=$1
	mkdir -p "$d/debs"
	printf 'instance-id: vfpath-%s\nlocal-hostname: vfpath-guest\n' "$LAB_ID" >"$d/meta-data"
	# No locales in the image (cloud-init's locale module would fail).
	printf '#cloud-config\nlocale: false\n' >"$d/user-data"
	cat >"$d/network-config" <<EOF
version: 2
ethernets:
  nic0:
    match:
      macaddress: "$LAB_GUEST_MAC"
    dhcp4: true
EOF
	cp "$LAB_BUILD"/deb/vfpath-dkms_*.deb "$LAB_BUILD"/deb/vfpath-tools_*.deb \
		"$LAB_BUILD"/deb/vfpath-dropin-dkms_*.deb "$d/debs/"
}

rg_boot() {
	local rc=0
	lab_image_up
	make -s -C "$LAB_TOP" deb >/dev/null || rc=$?
	check_err $rc "make deb failed"
	lab_net_up
	lab_dhcp_up
	rg_seed "$LAB_DIR/seed"
	SEED=$LAB_DIR/seed.img
	lab_seed_disk "$SEED" "$LAB_DIR/seed"
	lab_image_boot $G virtio "$SEED"
	check_err $? "the image did not boot to a running systemd"
	log_info "boot: $(lab_guest_boot_ms $G) ms to the agent; $(cat "$(lab_guest_dir $G)/systemd_ms" 2>/dev/null)"
	log_test "the Debian image boots under systemd"
}

# The packages from the seed disk, with apt, as a user installs them;
# cloud-init on for the next boot (its first), then the guest powered
# off: its disk is what every variant starts from.
rg_install() {
	local out rc=0 kver
	kver=$(cat "$LAB_GUEST_IMAGE/kver")
	out=$(LAB_EXEC_TIMEOUT_MS=900000 lab_guest $G "mkdir -p /mnt/seed && mount -o ro LABEL=CIDATA /mnt/seed &&
		cp /mnt/seed/debs/*.deb /tmp/ && DEBIAN_FRONTEND=noninteractive apt-get install -y -q /tmp/*.deb 2>&1 | tail -n 5 &&
		dkms status -k $kver" 2>&1) || rc=$?
	check_err $rc "apt-get install of the packages failed: $(tail -n 5 <<<"$out" | paste -sd ' ')"
	grep -q "^vfpath/.*$kver.*installed" <<<"$out" && grep -q "^vfpath-dropin/.*$kver.*installed" <<<"$out"
	check_err $? "dkms did not install vfpath and vfpath-dropin for $kver: $(tail -n 2 <<<"$out" | paste -sd ' ')"
	lab_guest $G "lsinitramfs /boot/initrd.img-$kver | grep -q 'vfpath.ko' &&
		lsinitramfs /boot/initrd.img-$kver | grep -q 'updates/dkms/net_failover.ko' &&
		lsinitramfs /boot/initrd.img-$kver | grep -q '99-vfpath.rules'"
	check_err $? "the initramfs lacks vfpath.ko, the drop-in or 99-vfpath.rules"
	# cloud-init's first boot is each variant's.
	lab_guest $G "rm -f /etc/cloud/cloud-init.disabled && sync"
	check_err $? "cloud-init not enabled"
	lab_guest $G "(sleep 1; systemctl poweroff) >/dev/null 2>&1 &"
	busywait 120000 eval '! kill -0 "$(cat "$(lab_guest_dir $G)/qemu.pid" 2>/dev/null)" 2>/dev/null'
	check_err $? "the guest did not power off"
	INSTALLED=$(cat "$(lab_guest_dir $G)/disk")
	log_test "vfpath-dkms, -dropin-dkms, -tools installed with apt: DKMS built both, initramfs has them"
}

# rg_variant_boot: guest G boots the installed disk (an overlay of it)
# as RG_NM and RG_PAIRING say: cloud-init's first boot.
rg_variant_boot() {
	DHCP_LOG_FROM=$(($(wc -l <"$LAB_DIR/dhcp.log" 2>/dev/null || echo 0) + 1))
	LAB_GUEST_BASE=$INSTALLED LAB_APPEND=$(rg_append) lab_image_boot "$G" "$(rg_nicmode)" "$SEED" ||
		return 1
	busywait 180000 lab_guest $G "cloud-init status 2>/dev/null | grep -q 'status: done'" ||
		{ lab_log "cloud-init: $(lab_guest $G 'cloud-init status --long 2>&1 | tail -n 3' | paste -sd ' ')"; return 1; }
}

# global_addrs DEV: DEV's global IPv4 and IPv6 addresses.
global_addrs() { lab_guest $G "ip -o addr show dev $1 scope global" | awk '{ print $4 }' | xargs; }

# rg_find_master: the master's name, whatever udev made of it (a STANDBY
# master has the virtio device's path name); sets M and VFP_MASTER.
rg_find_master() {
	M=$(lab_guest $G "ls -d /sys/class/net/*/vfpath 2>/dev/null | head -n 1 | cut -d/ -f5")
	VFP_MASTER=$M
	[ -n "$M" ]
}

rg_lease_on_master() {
	local s lowers
	busywait 30000 rg_find_master
	check_err $? "no vfpath master in the guest: $(lab_guest $G 'ip -br link' | paste -sd ';')"
	busywait 60000 eval '[ -n "$(global_addrs "$M" | grep -o "$LAB_GUEST_IP4")" ]'
	check_err $? "no DHCP lease on $M: $(lab_guest $G 'ip -br addr' | paste -sd ';')"
	lowers=$(vfp_lowers $G "$M")
	[ "$(wc -w <<<"$lowers")" = 2 ]
	check_err $? "$M has slaves '$lowers', not two"
	for s in $lowers; do
		[ -z "$(global_addrs "$s")" ]
		check_err $? "slave $s has global addresses: $(global_addrs "$s")"
	done
	if [ "$RG_NM" = networkd ]; then
		for s in $lowers; do
			lab_guest $G "networkctl status $s 2>/dev/null | grep -q 'State: .*unmanaged'"
			check_err $? "networkd manages slave $s: $(lab_guest $G "networkctl list --no-legend" | paste -sd ';')"
		done
	else
		for s in $lowers; do
			lab_guest $G "nmcli -g GENERAL.STATE device show $s | grep -q unmanaged"
			check_err $? "NetworkManager manages slave $s: $(lab_guest $G "nmcli -t device" | paste -sd ';')"
		done
	fi
	lab_guest $G "! pgrep -a dhclient | grep -qv ' $M\$'"
	check_err $? "a DHCP client runs for a slave: $(lab_guest $G 'pgrep -a dhclient')"
	ip netns exec "$LAB_PEER_NS" ping -c 3 -i 0.2 -W 2 "$LAB_GUEST_IP4" >/dev/null
	check_err $? "the peer does not reach the guest at $LAB_GUEST_IP4"
	log_info "DHCPACKs since this variant booted (count, MAC): $(lab_dhcp_clients "${DHCP_LOG_FROM:-1}" | paste -sd ' ')"
	log_test "$RG_NM:$RG_PAIRING: the DHCP lease is on $M alone; the slaves ($lowers) unconfigured, enslaved"
}

# ping_across CMD...: 300 pings at 50/s from the peer while CMD runs;
# prints how many were answered.
ping_across() {
	local out pid
	ip netns exec "$LAB_PEER_NS" ping -q -c 300 -i 0.02 -W 1 "$LAB_GUEST_IP4" >"$LAB_DIR/ping.out" 2>&1 &
	pid=$!
	sleep 1
	"$@" || { wait "$pid"; return 1; }
	wait "$pid"
	out=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$LAB_DIR/ping.out")
	echo "${out:-0}"
}

rg_unplug_replug() {
	local got
	got=$(ping_across eval 'lab_vf_unplug $G && sleep 1 && lab_vf_plug $G && vfp_wait_path $G vf 30000')
	check_err $? "the VF's unplug and re-plug failed"
	[ "${got:-0}" -ge 295 ]
	check_err $? "$got of 300 pings answered across the VF's unplug and re-plug"
	[ -n "$(global_addrs "$M" | grep -o "$LAB_GUEST_IP4")" ]
	check_err $? "the lease left $M"
	log_info "pings answered: $got of 300"
	log_test "$RG_NM:$RG_PAIRING: pings survive the VF's unplug and re-plug; the lease stays on $M"
}

rg_reboot_same() {
	local before after
	before=$(lab_guest $G "ip -br link | awk '{ print \$1 }' | sort | xargs")
	lab_image_reboot $G
	check_err $? "the guest did not come back from its reboot"
	after=$(lab_guest $G "ip -br link | awk '{ print \$1 }' | sort | xargs")
	[ "$before" = "$after" ]
	check_err $? "names changed across the reboot: '$before' -> '$after'"
	busywait 60000 eval '[ -n "$(global_addrs "$M" | grep -o "$LAB_GUEST_IP4")" ]'
	check_err $? "no lease on $M after the reboot"
	log_test "$RG_NM:$RG_PAIRING: a reboot comes back the same: names ($after), lease on $M"
}

# rg_variants: each of RG_VARIANTS on its own guest, one after the other.
rg_variants() {
	local v n=0
	[ -n "$INSTALLED" ] || { log_skip "the variants" "no installed disk (rg_install failed)"; return; }
	for v in $RG_VARIANTS; do
		RG_NM=${v%%:*} RG_PAIRING=${v##*:}
		n=$((n + 1))
		G=v$n
		M=""
		rg_variant_boot
		check_err $? "$v: the installed guest did not boot with cloud-init done"
		log_info "$v: $(cat "$(lab_guest_dir $G)/systemd_ms" 2>/dev/null)"
		log_test "$v: booted with vfpath, cloud-init done"
		rg_lease_on_master
		rg_unplug_replug
		rg_reboot_same
		dmesg_clean
		lab_guest_stop $G
	done
}

run_all_tests
exit $EXIT_STATUS
