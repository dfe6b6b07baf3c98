#!/usr/bin/env bash
# The install path of a real guest, checked on this host against the lab's
# kernel without touching /lib/modules: `make install DESTDIR=` puts both
# modules in updates/, where depmod ranks them above the kernel's, so that
# modprobe virtio_net would load our net_failover.ko; `make uninstall`
# restores the kernel's. dkms builds the modules from `make dkms-source`.
# The CRC check catches a drop-in whose exports would not link.
source "$(dirname "$0")/lib.sh"

ALL_TESTS="
	inst_install_ranks_ours_first
	inst_uninstall_restores_kernels
	inst_dkms_builds_both
	inst_crc_mismatch_detected
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

# deps MODULE: what modprobe would insmod for MODULE in $ROOT.
deps() { modprobe -d "$ROOT" -S "$KVER" -D "$1" 2>&1; }

inst_install_ranks_ours_first() {
	local d
	make -s -C "$TOP" install KDIR="$KDIR" DESTDIR="$ROOT" >"$WORK/install.log" 2>&1
	check_err $? "make install failed: $(tail -n 3 "$WORK/install.log")"
	d=$(deps virtio_net)
	grep -q "updates/vfpath/net_failover.ko" <<<"$d" &&
		grep -q "updates/vfpath/vfpath.ko" <<<"$d" &&
		! grep -q "kernel/drivers/net/net_failover.ko" <<<"$d"
	check_err $? "modprobe -D virtio_net: $(xargs <<<"$d")"
	log_info "modprobe virtio_net would run: $(sed 's|insmod .*/||' <<<"$d" | xargs)"
	log_test "make install: modprobe virtio_net resolves to our net_failover.ko and vfpath.ko"
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

inst_dkms_builds_both() {
	local ver src mods m
	ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$TOP/dkms.conf")
	src=$WORK/src/vfpath-$ver
	make -s -C "$TOP" dkms-source DKMS_SRC="$src" >/dev/null
	check_err $? "make dkms-source failed"
	mkdir -p "$WORK/dkms"
	dkms add -m vfpath -v "$ver" --dkmstree "$WORK/dkms" --sourcetree "$WORK/src" \
		>"$WORK/dkms.log" 2>&1 &&
		dkms build -m vfpath -v "$ver" -k "$KVER" --dkmstree "$WORK/dkms" \
			--sourcetree "$WORK/src" >>"$WORK/dkms.log" 2>&1
	check_err $? "dkms build failed: $(tail -n 5 "$WORK/dkms.log")"
	mods=$WORK/dkms/vfpath/$ver/$KVER/$(uname -m)/module
	for m in vfpath net_failover; do
		[ "$(modinfo -F version "$mods/$m.ko" 2>/dev/null)" = "$ver" ]
		check_err $? "$m.ko not built by dkms, or not version $ver"
	done
	log_test "dkms builds vfpath.ko and net_failover.ko $ver for $KVER (CRCs checked)"
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

run_all_tests
exit $EXIT_STATUS
