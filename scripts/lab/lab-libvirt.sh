# shellcheck shell=bash
# The libvirt part of the lab, sourced after lab.sh by scripts/lab/demo,
# scripts/lab/stress and tests/vfpath_libvirt.sh. Offers lab_lv_up,
# lab_virsh, lab_lv_start, lab_lv_hop (a migration through vfpath-migrate's
# libvirt back-end) and the XML they use: two libvirtd instances
# on this one machine ("host A" and "host B"), each in the lab's host
# network namespace and its own mount namespace, with its own
# /etc/libvirt (distinct host_uuid), /run, /var/lib, /var/log and
# /var/cache/libvirt bound over the system's, so that libvirt believes it
# migrates between two hosts. Their domains are TCG guests booted like the
# lab's, with libvirt-made taps on the lab bridge.
#
# lab_cleanup ends the daemons with everything else in the namespace.

LAB_LV_DIRS="etc run lib log cache"

lab_lv_dir() { echo "$LAB_DIR/lv-$1"; }

# lab_lv_uri HOST: the qemu:///system URI of daemon HOST (a or b).
lab_lv_uri() { echo "qemu:///system?socket=$(lab_lv_dir "$1")/sock/libvirt-sock"; }

lab_virsh() {
	local h=$1
	shift
	virsh -q -c "$(lab_lv_uri "$h")" "$@"
}

# lab_lv_up HOST: starts virtlogd and libvirtd for HOST (a or b).
lab_lv_up() {
	local h=$1 r d uuid
	r=$(lab_lv_dir "$h")
	for d in $LAB_LV_DIRS sock; do mkdir -p "$r/$d"; done
	# Mount points for the binds (empty directories, as libvirt expects).
	mkdir -p /etc/libvirt /run/libvirt /var/lib/libvirt /var/log/libvirt /var/cache/libvirt
	uuid=$(cat /proc/sys/kernel/random/uuid)
	cat >"$r/etc/libvirtd.conf" <<CONF
host_uuid = "$uuid"
unix_sock_dir = "$r/sock"
unix_sock_rw_perms = "0700"
auth_unix_rw = "none"
auth_unix_ro = "none"
log_outputs = "${LAB_LV_LOG_LEVEL:-2}:file:$r/log/libvirtd.log"
log_filters = "${LAB_LV_LOG_FILTERS:-}"
CONF
	cat >"$r/etc/qemu.conf" <<CONF
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
CONF
	lab_host unshare -m --propagation private sh -c "
		mount --bind $r/etc /etc/libvirt && mount --bind $r/run /run/libvirt &&
		mount --bind $r/lib /var/lib/libvirt && mount --bind $r/log /var/log/libvirt &&
		mount --bind $r/cache /var/cache/libvirt &&
		virtlogd -d -p $r/virtlogd.pid && libvirtd -d -p $r/libvirtd.pid" ||
		lab_die "libvirtd for host $h did not start"
	lab_busywait 15000 lab_virsh "$h" version >/dev/null 2>&1 ||
		lab_die "libvirtd for host $h does not answer (see $r/log/libvirtd.log)"
}

# lab_lv_if_xml TAP MODEL ALIAS: an interface with the lab's MAC on the
# lab bridge, through a tap libvirt makes.
lab_lv_if_xml() {
	cat <<XML
<interface type='bridge'>
  <mac address='$LAB_GUEST_MAC'/>
  <source bridge='br0'/>
  <target dev='$1' managed='yes'/>
  <model type='$2'/>
  <rom enabled='no'/>
  <alias name='$3'/>
</interface>
XML
}

# lab_lv_vf_xml GUEST: the VF (e1000e, alias ua-vf0) of GUEST's domain.
lab_lv_vf_xml() { lab_lv_if_xml "$1-v" e1000e ua-vf0; }

# lab_lv_domain_xml NAME GUEST: the domain NAME as it runs on the host where
# the lab calls it GUEST (its taps, agent socket and serial log).
lab_lv_domain_xml() {
	local name=$1 g=$2 dir kver
	dir=$(lab_guest_dir "$g")
	mkdir -p "$dir"
	kver=$(lab_kernel_version)
	cat <<XML
<domain type='qemu'>
  <name>$name</name>
  <memory unit='MiB'>$LAB_MEM</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <kernel>$(lab_kernel_image "$kver")</kernel>
    <initrd>$(lab_img "$kver")/initramfs.cpio</initrd>
    <cmdline>console=ttyS0 panic=-1 quiet${LAB_DEBUG_APPEND:+ $LAB_DEBUG_APPEND}</cmdline>
  </os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <controller type='pci' index='0' model='pcie-root'/>
    <controller type='pci' model='pcie-root-port'/>
    <controller type='pci' model='pcie-root-port'/>
    <controller type='pci' model='pcie-root-port'/>
    <controller type='pci' model='pcie-root-port'/>
$(lab_lv_if_xml "$g-s" virtio ua-net0 | sed 's/^/    /')
$(lab_lv_vf_xml "$g" | sed 's/^/    /')
    <serial type='file'>
      <source path='$dir/serial.log'/>
      <target port='0'/>
    </serial>
    <channel type='unix'>
      <source mode='bind' path='$dir/qga.sock'/>
      <target type='virtio' name='org.vfpath.agent.0'/>
    </channel>
    <memballoon model='none'/>
  </devices>
</domain>
XML
}

# lab_lv_start HOST NAME GUEST: defines nothing, starts the domain NAME on
# HOST (transient, as a migration leaves it) and waits for its agent.
lab_lv_start() {
	local h=$1 name=$2 g=$3
	lab_vf_port "$g-v"
	lab_lv_domain_xml "$name" "$g" >"$(lab_lv_dir "$h")/$name.xml"
	lab_virsh "$h" create "$(lab_lv_dir "$h")/$name.xml" >/dev/null ||
		lab_die "virsh create $name on host $h failed"
	lab_busywait $((LAB_BOOT_TIMEOUT * 1000)) \
		"$LAB_QMP" --ga --timeout 1000 "$(lab_guest_dir "$g")/qga.sock" guest-ping >/dev/null 2>&1 ||
		lab_die "domain $name did not answer its agent"
}

# lab_lv_dst_xml FROM DOMAIN SRCG DSTG: the destination's copy of DOMAIN
# (virsh migrate --xml): without the VF (revoked before the migration),
# with DSTG's taps, agent socket and serial log.
lab_lv_dst_xml() {
	local from=$1 dom=$2 srcg=$3 dstg=$4
	mkdir -p "$(lab_guest_dir "$dstg")"
	lab_virsh "$from" dumpxml --migratable "$dom" | awk '
		/<interface / { buf = $0 "\n"; inif = 1; next }
		inif { buf = buf $0 "\n"; if ($0 ~ /<\/interface>/) { inif = 0
			if (buf !~ /ua-vf0/) printf "%s", buf }; next }
		{ print }' | sed "s/'$srcg-/'$dstg-/g; s|/$srcg/|/$dstg/|g"
}

# lab_lv_hop FROM TO DOMAIN SRCG DSTG NAME SECS [RATE]: the libvirt
# counterpart of lab_hop: flows both ways, then vfpath-migrate's libvirt
# back-end moves DOMAIN from daemon FROM (where the lab calls the guest
# SRCG) to daemon TO (DSTG: its taps and sockets), with the same
# switch-over as lab_vfpath_migrate: at the source's STOP the bridge is told
# the guest's MAC is behind the destination's virtio tap. Leaves the timeline in
# $LAB_DIR/NAME-timeline.json; returns vfpath-migrate's status.
lab_lv_hop() {
	local from=$1 to=$2 dom=$3 srcg=$4 dstg=$5 n=$6 secs=$7 rate=${8:-1000} rc=0 tl
	tl=$LAB_DIR/$n-timeline.json
	mkdir -p "$(lab_guest_dir "$dstg")"
	lab_vf_port "$dstg-v"
	lab_lv_vf_xml "$dstg" >"$LAB_DIR/$n-vf-dst.xml"
	lab_lv_vf_xml "$srcg" >"$LAB_DIR/$n-vf-src.xml"
	[ -z "${LAB_PCAP:-}" ] || lab_pcap_start "$n"
	lab_flows_start "$srcg" "$n" "$secs" "$rate" || return 1
	sleep 2
	lab_lv_dst_xml "$from" "$dom" "$srcg" "$dstg" >"$LAB_DIR/$n-dst.xml"
	lab_switch_over "$dstg-s"
	"$LAB_TOP/scripts/host/vfpath-migrate" --domain "$dom" \
		--from "$(lab_lv_uri "$from")" \
		--to "qemu+unix:///system?socket=$(lab_lv_dir "$to")/sock/libvirt-sock" \
		--vf-alias ua-vf0 --vf-xml "$LAB_DIR/$n-vf-dst.xml" \
		--src-vf-xml "$LAB_DIR/$n-vf-src.xml" \
		--migrateuri "unix://$LAB_DIR/$n-migrate.sock" \
		--dst-ga "$(lab_guest_dir "$dstg")/qga.sock" \
		--src-ga "$(lab_guest_dir "$srcg")/qga.sock" \
		--migrate-xml "$LAB_DIR/$n-dst.xml" \
		"${LAB_SWITCH[@]}" \
		${LAB_MIGRATE_ARGS:-} --out "$tl" || rc=$?	# (extra vfpath-migrate options, word-split)
	if [ $rc -eq 0 ]; then lab_hop_flows "$tl" "$dstg" "$n"; else lab_hop_flows "$tl" "$srcg" "$n"; fi ||
		return 1
	return $rc
}
