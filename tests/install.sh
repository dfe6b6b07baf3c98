#!/usr/bin/env bash
# The install path of a real guest, checked on this host against the lab's
# kernel without touching /lib/modules, and in the lab guest booted with
# module.sig_enforce=1. Packaging must never take the NIC away:
# - `make install DESTDIR=` puts vfpath.ko in updates/ and, only with
#   VFPATH_DROPIN=1, the drop-in net_failover.ko, which depmod then ranks
#   above the kernel's (modprobe virtio_net loads ours); `make uninstall`
#   restores the kernel's.
# - A drop-in whose CRCs differ from the target kernel's (a doctored
#   Module.symvers here) is skipped with a message; vfpath.ko still builds
#   and installs, and the vfpath DKMS package still builds (the drop-in is
#   its own package, vfpath-dropin, whose build fails alone).
# - Where module signatures are enforced, the unsigned drop-in is refused
#   by make install (sig-guard); in the guest an unsigned drop-in ranked
#   first makes modprobe virtio_net fail, while without it (the default)
#   the kernel's signed modules give a working NIC and vfpath.ko is
#   rejected with "Key was rejected by service".
source "$(dirname "$0")/lib.sh"

ALL_TESTS="
	inst_install_vfpath_only
	inst_install_ranks_ours_first
	inst_dropin_refused_sig_enforced
	inst_uninstall_restores_kernels
	inst_dkms_builds_each
	inst_dkms_every_kernel
	inst_crc_mismatch_detected
	inst_crc_mismatch_skips_dropin
	inst_dkms_crc_mismatch_vfpath_builds
	inst_sig_enforce_guest_boots
	inst_sig_enforce_unsigned_rejected
	inst_sig_enforce_dropin_first_breaks_nic
	inst_sig_enforce_default_nic_works
	dmesg_clean
"
TOP=$(cd "$TESTS_DIR/.." && pwd)
KVER=$(lab_kernel_version)
KDIR=/usr/src/linux-headers-$KVER
WORK=$(mktemp -d)
cleanup_work() { rm -rf "$WORK"; test_cleanup; }
trap cleanup_work EXIT

ROOT=$WORK/root
mkdir -p "$ROOT/lib/modules/$KVER"
ln -s "/lib/modules/$KVER/kernel" "$ROOT/lib/modules/$KVER/kernel"
cp "/lib/modules/$KVER"/modules.{order,builtin,builtin.modinfo} "$ROOT/lib/modules/$KVER/"

# deps MODULE [ROOT]: what modprobe would insmod for MODULE in ROOT ($ROOT).
deps() { modprobe -d "${2:-$ROOT}" -S "$KVER" -D "$1" 2>&1; }

# A kernel state for sig-guard (VFPATH_SYSFS): signatures not enforced, and
# enforced (what module.sig_enforce=1 shows), whatever this host runs.
mkdir -p "$WORK/sys-off/module/module/parameters" "$WORK/sys-on/module/module/parameters"
echo N >"$WORK/sys-off/module/module/parameters/sig_enforce"
echo Y >"$WORK/sys-on/module/module/parameters/sig_enforce"

# A KDIR whose Module.symvers gives the in-kernel net_failover_create
# another CRC, as a kernel update that changed a type it covers would: the
# lab's headers, linked entry by entry, with a doctored copy of that file.
BADK=$WORK/kdir-doctored
mkdir -p "$BADK"
for e in "$KDIR"/* "$KDIR"/.config "$KDIR"/.kernelvariables; do
	[ "${e##*/}" = Module.symvers ] || ln -s "$e" "$BADK/"
done
sed -E 's/^0x[0-9a-f]+(\tnet_failover_create\t)/0x0badc0de\1/' "$KDIR/Module.symvers" \
	>"$BADK/Module.symvers"

# A copy of what builds and installs the modules, without build results,
# for builds against $BADK (TOP's objects stay as built; no git needed:
# tests/mutate.sh runs this in a copy without one).
tree_copy() {
	mkdir -p "$1"
	tar -C "$TOP" --exclude='*.o' --exclude='*.ko' --exclude='*.cmd' --exclude='*.mod*' \
		--exclude=Module.symvers --exclude=modules.order -cf - \
		Makefile Kbuild failover vf-driver synthetic scripts/build | tar -C "$1" -xf -
}

# has_ko ROOT NAME: ROOT's updates/vfpath/ holds NAME.ko.
has_ko() { test -e "$1/lib/modules/$KVER/updates/vfpath/$2.ko"; }

# Without VFPATH_DROPIN=1 only vfpath.ko goes to updates/: modprobe
# virtio_net keeps the kernel's net_failover, whatever signatures require.
inst_install_vfpath_only() {
	local d
	make -s -C "$TOP" install KDIR="$KDIR" DESTDIR="$ROOT" >"$WORK/install0.log" 2>&1
	check_err $? "make install failed: $(tail -n 3 "$WORK/install0.log")"
	has_ko "$ROOT" vfpath && ! has_ko "$ROOT" net_failover
	check_err $? "updates/vfpath/: $(ls "$ROOT/lib/modules/$KVER/updates/vfpath" 2>&1 | xargs)"
	grep -q "net_failover.ko is not (VFPATH_DROPIN=1 installs it)" "$WORK/install0.log"
	check_err $? "no word on the drop-in: $(tail -n 2 "$WORK/install0.log")"
	d=$(deps virtio_net)
	grep -q "kernel/drivers/net/net_failover.ko" <<<"$d" && ! grep -q vfpath <<<"$d"
	check_err $? "modprobe -D virtio_net: $(xargs <<<"$d")"
	[ "$(deps vfpath)" = "insmod $ROOT/lib/modules/$KVER/updates/vfpath/vfpath.ko " ]
	check_err $? "modprobe -D vfpath: $(deps vfpath)"
	log_test "make install: vfpath.ko only, modprobe virtio_net keeps the kernel's"
}

inst_install_ranks_ours_first() {
	local d
	VFPATH_SYSFS=$WORK/sys-off make -s -C "$TOP" install KDIR="$KDIR" DESTDIR="$ROOT" \
		VFPATH_DROPIN=1 >"$WORK/install.log" 2>&1
	check_err $? "make install failed: $(tail -n 3 "$WORK/install.log")"
	d=$(deps virtio_net)
	grep -q "updates/vfpath/net_failover.ko" <<<"$d" &&
		grep -q "updates/vfpath/vfpath.ko" <<<"$d" &&
		! grep -q "kernel/drivers/net/net_failover.ko" <<<"$d"
	check_err $? "modprobe -D virtio_net: $(xargs <<<"$d")"
	log_info "modprobe virtio_net would run: $(sed 's|insmod .*/||' <<<"$d" | xargs)"
	log_test "make install VFPATH_DROPIN=1: virtio_net resolves to our two modules"
}

inst_uninstall_restores_kernels() {
	local d
	make -s -C "$TOP" uninstall KDIR="$KDIR" DESTDIR="$ROOT" >"$WORK/uninstall.log" 2>&1
	check_err $? "make uninstall failed: $(tail -n 3 "$WORK/uninstall.log")"
	! test -e "$ROOT/lib/modules/$KVER/updates/vfpath"
	check_err $? "updates/vfpath left behind"
	d=$(deps virtio_net)
	grep -q "kernel/drivers/net/net_failover.ko" <<<"$d" && ! grep -q vfpath <<<"$d"
	check_err $? "after uninstall: $(xargs <<<"$d")"
	log_test "make uninstall: back to the kernel's net_failover.ko"
}

# dkms_build NAME VERSION SRC [dkms ARGS...]: dkms add and build of
# package NAME from SRC (its parent is the source tree) in a tree of our
# own ($WORK/dkms-NAME...), logged to $WORK/dkms-NAME.log, for the lab's
# kernel or DKMS_KVER.
dkms_build() {
	local name=$1 ver=$2 src=$3 tree
	shift 3
	tree=$WORK/dkms-$name${DKMS_TAG:-}
	mkdir -p "$tree"
	dkms add -m "$name" -v "$ver" --dkmstree "$tree" --sourcetree "${src%/*}" \
		>"$tree.log" 2>&1 &&
		dkms build -m "$name" -v "$ver" -k "${DKMS_KVER:-$KVER}" --dkmstree "$tree" \
			--sourcetree "${src%/*}" "$@" >>"$tree.log" 2>&1
}

# The vfpath package builds vfpath.ko alone; vfpath-dropin builds
# net_failover.ko (CRCs checked) and ships nothing else.
inst_dkms_builds_each() {
	local ver mods m
	ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$TOP/dkms.conf")
	[ "$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$TOP/dkms-dropin.conf")" = "$ver" ]
	check_err $? "dkms.conf and dkms-dropin.conf differ in version"
	make -s -C "$TOP" dkms-source DKMS_SRC="$WORK/src/vfpath-$ver" >/dev/null &&
		make -s -C "$TOP" dkms-source-dropin DKMS_DROPIN_SRC="$WORK/src/vfpath-dropin-$ver" >/dev/null
	check_err $? "make dkms-source or dkms-source-dropin failed"
	dkms_build vfpath "$ver" "$WORK/src/vfpath-$ver"
	check_err $? "dkms build vfpath failed: $(tail -n 5 "$WORK/dkms-vfpath.log")"
	mods=$WORK/dkms-vfpath/vfpath/$ver/$KVER/$(uname -m)/module
	[ "$(modinfo -F version "$mods/vfpath.ko" 2>/dev/null)" = "$ver" ] && ! ls "$mods"/net_failover* >/dev/null 2>&1
	check_err $? "vfpath package: $(ls "$mods" 2>&1 | xargs), not vfpath.ko $ver alone"
	dkms_build vfpath-dropin "$ver" "$WORK/src/vfpath-dropin-$ver"
	check_err $? "dkms build vfpath-dropin failed: $(tail -n 5 "$WORK/dkms-vfpath-dropin.log")"
	mods=$WORK/dkms-vfpath-dropin/vfpath-dropin/$ver/$KVER/$(uname -m)/module
	[ "$(modinfo -F version "$mods/net_failover.ko" 2>/dev/null)" = "$ver" ] && ! ls "$mods"/vfpath.* >/dev/null 2>&1
	check_err $? "vfpath-dropin package: $(ls "$mods" 2>&1 | xargs), not net_failover.ko $ver alone"
	log_test "dkms: vfpath builds vfpath.ko, vfpath-dropin net_failover.ko (CRCs checked)"
}

# Every other installed kernel (image, headers, modules; the lab's is
# inst_dkms_builds_each's), as DKMS's autoinstall would meet them after a
# kernel update: both packages build.
inst_dkms_every_kernel() {
	local ver k n=0 built=()
	ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$TOP/dkms.conf")
	for k in $("$TOP/scripts/lab/kernel-version" --all); do
		[ "$k" != "$KVER" ] || continue
		n=$((n + 1))
		DKMS_TAG=-k$n DKMS_KVER=$k dkms_build vfpath "$ver" "$WORK/src/vfpath-$ver" &&
			DKMS_TAG=-k$n DKMS_KVER=$k dkms_build vfpath-dropin "$ver" "$WORK/src/vfpath-dropin-$ver"
		check_err $? "dkms build for $k failed: $(tail -n 3 "$WORK"/dkms-*-k$n.log | xargs)"
		# Compressed as the kernel's own modules are (6.12: .ko.xz).
		ls "$WORK/dkms-vfpath-k$n/vfpath/$ver/$k/$(uname -m)/module/vfpath.ko"* >/dev/null 2>&1 &&
			ls "$WORK/dkms-vfpath-dropin-k$n/vfpath-dropin/$ver/$k/$(uname -m)/module/net_failover.ko"* >/dev/null 2>&1
		check_err $? "dkms for $k: vfpath.ko or net_failover.ko missing: $(ls "$WORK"/dkms-*-k$n/*/"$ver/$k/$(uname -m)/module" 2>&1 | xargs)"
		built+=("$k")
	done
	[ $n -ge 1 ]
	check_err $? "no kernel installed but the lab's; scripts/build/setup kernels installs 6.12"
	log_info "dkms built both packages for: $KVER (above) ${built[*]}"
	log_test "dkms: both packages build for every installed kernel ($((n + 1)))"
}

# A drop-in compiled without net_failover.c's includes gets other CRCs:
# check-crc must fail, naming each symbol with both values.
inst_crc_mismatch_detected() {
	local src=$WORK/broken out
	make -s -C "$TOP" dkms-source DKMS_SRC="$src" >/dev/null
	make -s -C "$KDIR" M="$src" KCFLAGS=-DVFPATH_DROPIN_BREAK_CRC modules \
		>"$WORK/broken.log" 2>&1
	check_err $? "broken build failed: $(tail -n 3 "$WORK/broken.log")"
	out=$("$TOP/scripts/build/check-crc" "$src/Module.symvers" "$KDIR/Module.symvers" 2>&1)
	[ $? -eq 1 ]
	check_err $? "check-crc did not fail: $out"
	grep -Eq "net_failover_create differs: ours 0x[0-9a-f]+, kernel 0x[0-9a-f]+" <<<"$out" &&
		grep -Eq "net_failover_destroy differs: ours 0x[0-9a-f]+, kernel 0x[0-9a-f]+" <<<"$out"
	check_err $? "message: $out"
	log_info "$(head -n 1 <<<"$out")"
	log_test "a drop-in with other CRCs is caught, with both values per symbol"
}

# Signatures enforced (VFPATH_SYSFS says so): make install VFPATH_DROPIN=1
# refuses the unsigned drop-in, says why, removes the one installed before,
# installs vfpath.ko and succeeds.
inst_dropin_refused_sig_enforced() {
	local d log=$WORK/install-sig.log
	VFPATH_SYSFS=$WORK/sys-on make -s -C "$TOP" install KDIR="$KDIR" DESTDIR="$ROOT" \
		VFPATH_DROPIN=1 >"$log" 2>&1
	check_err $? "make install failed: $(tail -n 3 "$log")"
	grep -q "sig-guard: refusing to install the unsigned net_failover.ko: module signatures are enforced (module.sig_enforce is Y)" "$log" &&
		grep -q "drop-in net_failover.ko NOT installed; vfpath.ko is installed" "$log"
	check_err $? "no refusal said: $(tr "\n" " " <"$log")"
	has_ko "$ROOT" vfpath && ! has_ko "$ROOT" net_failover
	check_err $? "updates/vfpath/: $(ls "$ROOT/lib/modules/$KVER/updates/vfpath" | xargs)"
	d=$(deps virtio_net)
	grep -q "kernel/drivers/net/net_failover.ko" <<<"$d" && ! grep -q vfpath <<<"$d"
	check_err $? "modprobe -D virtio_net: $(xargs <<<"$d")"
	log_info "$(grep -m1 -o 'sig-guard: refusing[^:]*' "$log")"
	log_test "signatures enforced: unsigned drop-in refused, vfpath.ko installed"
}

# Against the doctored KDIR: make says the drop-in is skipped and why,
# succeeds; make install VFPATH_DROPIN=1 installs vfpath.ko alone.
inst_crc_mismatch_skips_dropin() {
	local tree=$WORK/tree root=$WORK/root-bad log=$WORK/bad-install.log
	tree_copy "$tree"
	mkdir -p "$root/lib/modules/$KVER"
	ln -s "/lib/modules/$KVER/kernel" "$root/lib/modules/$KVER/kernel"
	cp "/lib/modules/$KVER"/modules.{order,builtin,builtin.modinfo} "$root/lib/modules/$KVER/"
	VFPATH_SYSFS=$WORK/sys-off make -s -C "$tree" install KDIR="$BADK" DESTDIR="$root" \
		VFPATH_DROPIN=1 >"$log" 2>&1
	check_err $? "make install against a doctored Module.symvers failed: $(grep -v BTF "$log" | tail -n 3)"
	grep -Eq "check-crc: CRC of net_failover_create differs: ours 0x[0-9a-f]+, kernel 0x0badc0de" "$log" &&
		grep -q "drop-in net_failover.ko SKIPPED (removed): its CRCs do not match KDIR=$BADK; vfpath.ko is built" "$log" &&
		grep -q "drop-in net_failover.ko NOT installed: it did not build with KDIR's CRCs" "$log"
	check_err $? "messages: $(grep -v BTF "$log" | tr "\n" " ")"
	[ "$(modinfo -F version "$root/lib/modules/$KVER/updates/vfpath/vfpath.ko" 2>/dev/null)" = \
		"$(modinfo -F version "$TOP/vfpath.ko")" ] && ! has_ko "$root" net_failover
	check_err $? "updates/vfpath/: $(ls "$root/lib/modules/$KVER/updates/vfpath" 2>&1 | xargs)"
	grep -q "kernel/drivers/net/net_failover.ko" <<<"$(deps virtio_net "$root")"
	check_err $? "modprobe -D virtio_net: $(deps virtio_net "$root" | xargs)"
	log_info "$(grep -m1 'SKIPPED' "$log")"
	log_test "CRC mismatch: drop-in skipped, vfpath.ko built and installed"
}

# The same kernel through DKMS: the vfpath package builds, vfpath-dropin's
# build fails with check-crc's message in its make.log.
inst_dkms_crc_mismatch_vfpath_builds() {
	local ver mods
	ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$TOP/dkms.conf")
	DKMS_TAG=-bad dkms_build vfpath "$ver" "$WORK/src/vfpath-$ver" --kernelsourcedir "$BADK"
	check_err $? "dkms build vfpath against the doctored KDIR failed: $(tail -n 5 "$WORK/dkms-vfpath-bad.log")"
	mods=$WORK/dkms-vfpath-bad/vfpath/$ver/$KVER/$(uname -m)/module
	[ "$(modinfo -F version "$mods/vfpath.ko" 2>/dev/null)" = "$ver" ]
	check_err $? "vfpath.ko not built by dkms: $(ls "$mods" 2>&1 | xargs)"
	DKMS_TAG=-bad dkms_build vfpath-dropin "$ver" "$WORK/src/vfpath-dropin-$ver" --kernelsourcedir "$BADK"
	check_fail $? "dkms build vfpath-dropin succeeded against the doctored KDIR"
	grep -q "check-crc: CRC of net_failover_create differs" \
		"$WORK/dkms-vfpath-dropin-bad/vfpath-dropin/$ver/build/make.log" 2>/dev/null
	check_err $? "vfpath-dropin's make.log has no check-crc message"
	log_test "CRC mismatch, dkms: vfpath builds, only vfpath-dropin fails"
}

# --- the lab guest with module.sig_enforce=1 ------------------------------
# Its kernel modules are Debian's, signed; vfpath.ko and the drop-in in
# /lib/modules/vfpath/ are not. The NICs are QEMU failover=on (STANDBY),
# the case where the drop-in would be used.
G=vm1
inst_sig_enforce_guest_boots() {
	lab_net_up
	LAB_APPEND="module.sig_enforce=1" lab_guest_start $G failover
	[ "$(lab_guest $G "cat /sys/module/module/parameters/sig_enforce")" = Y ]
	check_err $? "the guest does not enforce module signatures"
	log_test "lab guest booted with module.sig_enforce=1"
}

# insmod of either unsigned module fails, clearly, in insmod and dmesg.
inst_sig_enforce_unsigned_rejected() {
	local ko out rc
	for ko in "$VFP_DROPIN_KO" "$VFP_KO"; do
		out=$(lab_guest $G "insmod $ko 2>&1")
		rc=$?
		check_fail $rc "insmod ${ko##*/} succeeded under sig_enforce"
		grep -q "Key was rejected by service" <<<"$out"
		check_err $? "insmod ${ko##*/}: $out"
		lab_guest $G "! test -d /sys/module/$(basename "$ko" .ko)"
		check_err $? "${ko##*/} loaded anyway"
	done
	lab_guest $G "dmesg | grep -q 'Loading of unsigned module is rejected'"
	check_err $? "dmesg says nothing: $(lab_guest $G 'dmesg | tail -n 3')"
	log_info "insmod: ${out##*: }; dmesg: $(lab_guest $G "dmesg | grep -m1 -o 'Loading of unsigned module is rejected'")"
	log_test "sig_enforce: unsigned vfpath.ko and drop-in refused (Key was rejected)"
}

# What the default avoids: the unsigned drop-in (with vfpath.ko) ranked
# first in updates/ makes modprobe virtio_net fail; no virtio netdev.
inst_sig_enforce_dropin_first_breaks_nic() {
	local out
	out=$(lab_guest $G "d=/lib/modules/\$(uname -r)/updates/vfpath; mkdir -p \$d &&
		cp $VFP_KO $VFP_DROPIN_KO \$d/ && depmod && modprobe virtio_net 2>&1")
	check_fail $? "modprobe virtio_net succeeded with an unsigned drop-in in updates/"
	grep -q "Key was rejected by service" <<<"$out"
	check_err $? "modprobe virtio_net: $out"
	lab_guest $G "! test -d /sys/module/virtio_net"
	check_err $? "virtio_net loaded anyway"
	lab_guest $G "rm -r /lib/modules/\$(uname -r)/updates && depmod"
	check_err $? "could not take the drop-in out again"
	log_info "modprobe virtio_net: $out"
	log_test "sig_enforce: unsigned drop-in in updates/ makes modprobe virtio_net fail"
}

# Without the drop-in (make install's default): modprobe virtio_net loads
# the kernel's net_failover, its master carries traffic to the peer.
inst_sig_enforce_default_nic_works() {
	local master
	lab_guest $G "modprobe virtio_net && modprobe e1000e"
	check_err $? "modprobe virtio_net failed"
	lab_guest $G "test -d /sys/module/net_failover && ! test -e /sys/module/net_failover/version"
	check_err $? "net_failover not the kernel's: $(lab_guest $G 'cat /sys/module/net_failover/version 2>&1')"
	busywait 30000 eval '[ -n "$(lab_guest_netdev_by_driver $G net_failover)" ]'
	master=$(lab_guest_netdev_by_driver $G net_failover)
	[ -n "$master" ]
	check_err $? "no net_failover master: $(lab_guest $G 'ip -br link' | xargs)"
	lab_guest_net $G "$master" &&
		busywait 15000 lab_guest $G "ping -c 1 -W 1 $LAB_PEER_IP4 >/dev/null"
	check_err $? "the peer does not answer through $master"
	log_info "the kernel's net_failover: master $master answers the peer"
	log_test "sig_enforce: no drop-in, modprobe virtio_net gives a working NIC"
}

run_all_tests
exit $EXIT_STATUS
