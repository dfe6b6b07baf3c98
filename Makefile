# vfpath - top-level Makefile.
#
#   make            the guest module vfpath.ko and the optional drop-in
#                   net_failover.ko (unless VFPATH_DROPIN=0) against KDIR,
#                   and the tools; a drop-in whose CRCs differ from KDIR's
#                   is removed with a message, vfpath.ko still builds;
#                   installs nothing (scripts/build/setup --check build says
#                   what a build lacks)
#   make install    installs vfpath.ko under /lib/modules/KVER/updates/vfpath/
#                   (DESTDIR honoured), runs depmod; the drop-in too only with
#                   VFPATH_DROPIN=1, if it built, its CRCs match and the kernel
#                   would load it (scripts/build/sig-guard); make uninstall
#                   undoes it
#   make deb        the Debian packages vfpath-dkms, vfpath-dropin-dkms and
#                   vfpath-tools in build/deb/ (dpkg-buildpackage; installs
#                   nothing: scripts/build/setup deb installs what it needs)
#   make tools-install  vfpath-ctl, vfpath-qmp, vfpath-lv-events,
#                   vfpath-migrate and the guest integration files under
#                   DESTDIR (PREFIX=/usr)
#   make dkms-source  copies the module sources to /usr/src/vfpath-VERSION
#   make dkms-source-dropin  the same for the optional DKMS package
#                   vfpath-dropin (/usr/src/vfpath-dropin-VERSION)
#   make check      installs what it needs, builds, runs every test (with
#                   the fast mutations of tests/mutations/; the datapath
#                   suites and chaos also on the debug kernel, built first)
#   make check-all  make check with every mutation (MUTATE_SET=all), every
#                   datapath suite on the second kernel in both pairings,
#                   STANDBY on the debug kernel, chaos on Debian's kernel
#   make mutate     only the mutations, all of them (MUTATE_ONLY="NAME..."
#                   for some): each breaks one claim, its tests must fail
#   make demo       boots the lab guest, pairs, migrates there and back under
#                   traffic, prints the timelines, plots packets per path
#   make bench      vfpath vs net_failover, bonding and the bare VF, BENCH_RUNS
#                   (5) interleaved rounds: build/bench/results.{json,md},
#                   migration.svg
#   make stress     STRESS_N (20) round trips under traffic, checked, through
#                   STRESS_BACKEND (qmp; libvirt; or "qmp libvirt")
#   make chaos      a seeded random sequence of VF, link, MTU, mode, rename,
#                   VLAN, module and migration steps under traffic, with
#                   invariants after each (CHAOS_ARGS="--seed N --minutes M")
#   make soak       STRESS_N (50) round trips on the debug kernel, then
#                   chaos for SOAK_MINUTES (60) there; a summary table
#   make kernels    vfpath.ko and the drop-in, W=1, against every kernel of
#                   the matrix (README.md, "Kernels"): Debian 12's 6.1 and
#                   6.12, generic and cloud, and the newest Debian has
#   make style      checkpatch --strict and a W=1 build of the kernel code
#   make lab-deps   what the lab boots: kernel, initramfs, module, tools
#                   (LAB_KERNEL=debug: the debug kernel of
#                   scripts/build/debug-kernel, lockdep, KASAN, kmemleak...,
#                   built on first use and cached; tests/run NAME@debug)
#   make help       this text
#
# KDIR defaults to the running kernel's build directory if it exists,
# otherwise to the headers of the lab's Debian kernel (scripts/lab/kernel-version).
# The lab always builds the module against its own guest kernel.

SHELL := /bin/bash
TOP := $(CURDIR)
BUILD := $(TOP)/build
BIN := $(BUILD)/bin
# The lab's guest kernel: LAB_KVER (make or environment) if set, else
# Debian's default one (scripts/lab/kernel-version); what the lab boots
# for it is built in build/lab/LAB_KVER/. Quiet here: a plain make in a
# guest needs no lab kernel; lab-deps says what is missing.
LAB_KVER_ASKED := $(LAB_KVER)
LAB_KVER := $(shell LAB_KVER='$(LAB_KVER_ASKED)' $(TOP)/scripts/lab/kernel-version 2>/dev/null)
LAB_KDIR = /usr/src/linux-headers-$(LAB_KVER)
LAB := $(BUILD)/lab/$(LAB_KVER)
RUNNING_KDIR := /lib/modules/$(shell uname -r)/build
KDIR ?= $(if $(wildcard $(RUNNING_KDIR)),$(RUNNING_KDIR),$(LAB_KDIR))

# LAB_KERNEL=debug (make or environment): the lab boots the debug kernel
# (scripts/build/debug-kernel: its release, its build tree as the KDIR of
# the lab's modules, its Module.symvers for the drop-in's CRCs, its
# modules from the tree's mods/) instead of Debian's; unset or "debian":
# Debian's, as above. Empty here while it is not built: lab-deps builds it,
# then runs make again.
LAB_KERNEL ?=
ifeq ($(LAB_KERNEL),debug)
LAB_KDIR := $(shell $(TOP)/scripts/build/debug-kernel --path 2>/dev/null)
LAB_KVER := $(if $(LAB_KDIR),$(shell cat $(LAB_KDIR)/include/config/kernel.release))
LAB := $(BUILD)/lab/$(LAB_KVER)
LAB_MODBASE := $(if $(LAB_KDIR),$(LAB_KDIR)/mods)
else ifneq ($(filter-out debian,$(LAB_KERNEL)),)
$(error LAB_KERNEL must be debug, debian or unset, not '$(LAB_KERNEL)')
endif

CFLAGS ?= -O2 -g
TOOL_CFLAGS := $(CFLAGS) -Wall -Wextra -Werror=implicit-function-declaration
KERNEL_SOURCES := $(wildcard failover/*.[ch] vf-driver/*.[ch] synthetic/*.[ch])

# The release the modules load into (Debian's kernel.release says 6.1.x;
# UTS_RELEASE is the /lib/modules name).
KVER = $(shell sed -n 's/^\#define UTS_RELEASE "\(.*\)"/\1/p' $(KDIR)/include/generated/utsrelease.h 2>/dev/null)
MODDIR = $(DESTDIR)/lib/modules/$(KVER)/updates/vfpath

# VFPATH_DROPIN: the STANDBY drop-in net_failover.ko (see README.md,
# "Installing in a real guest").
#   unset  make builds it (CRCs checked), make install leaves it out
#   1      make install installs it too, when it built with KDIR's CRCs and
#          the kernel would load it (sig-guard: unsigned under enforced
#          module signatures, modprobe virtio_net would fail)
#   0      neither built nor installed
VFPATH_DROPIN ?=
ifneq ($(filter-out 0 1,$(VFPATH_DROPIN)),)
$(error VFPATH_DROPIN must be 0, 1 or unset, not '$(VFPATH_DROPIN)')
endif

.PHONY: all module tools host-tools tools-install module-boot-install deb setup lab-deps kernels check check-all mutate demo bench stress chaos soak style clean help \
	install uninstall dkms-source dkms-source-dropin FORCE

all: module tools

help:
	@sed -n '3,/^# The lab always/p' Makefile | sed 's/^# \{0,1\}//'

setup:
	@$(TOP)/scripts/build/setup

# A drop-in with other CRCs than KDIR's would make stock virtio_net refuse
# to load ("disagrees about version of symbol"): it is removed, so that
# nothing installs it, and the build goes on; vfpath.ko never depends on it.
module:
	@[ -e $(KDIR)/Makefile ] || { echo "vfpath: no kernel build tree at KDIR=$(KDIR): install the headers (linux-headers-amd64) or set KDIR" >&2; exit 1; }
	@echo "vfpath: building vfpath.ko$(if $(filter 0,$(VFPATH_DROPIN)),, and the drop-in net_failover.ko) against KDIR=$(KDIR)"
	$(MAKE) -C $(KDIR) M=$(TOP) VFPATH_DROPIN=$(VFPATH_DROPIN) modules
ifneq ($(VFPATH_DROPIN),0)
	@$(TOP)/scripts/build/check-crc $(TOP)/Module.symvers $(KDIR)/Module.symvers || { \
		rm -f $(TOP)/net_failover.ko; \
		echo "vfpath: drop-in net_failover.ko SKIPPED (removed): its CRCs do not match KDIR=$(KDIR); vfpath.ko is built; STANDBY guests keep the kernel's own net_failover" >&2; }
endif

# vfpath.ko in updates/ is only used by who asks for it (insmod, modprobe
# vfpath, the drop-in). The drop-in goes there only with VFPATH_DROPIN=1:
# depmod ranks updates/ above the kernel's own tree, so modprobe virtio_net
# then loads our net_failover.ko (and vfpath.ko, which it needs); an
# unsigned one under enforced signatures, or one left from an older
# vfpath.ko, would make it fail. So otherwise an earlier drop-in is removed.
install: module
	@[ -n "$(KVER)" ] || { echo "vfpath: no kernel release in $(KDIR)" >&2; exit 1; }
	install -d $(MODDIR)
	install -m 644 vfpath.ko $(MODDIR)/
	@$(TOP)/scripts/build/sig-guard --warn vfpath.ko
	@rm -f $(MODDIR)/net_failover.ko
ifeq ($(VFPATH_DROPIN),1)
	@if [ ! -e net_failover.ko ]; then \
		echo "vfpath: drop-in net_failover.ko NOT installed: it did not build with KDIR's CRCs (see above); vfpath.ko is installed" >&2; \
	elif ! $(TOP)/scripts/build/sig-guard net_failover.ko; then \
		echo "vfpath: drop-in net_failover.ko NOT installed; vfpath.ko is installed" >&2; \
	else \
		install -m 644 net_failover.ko $(MODDIR)/ && \
		echo "vfpath: drop-in net_failover.ko installed: modprobe virtio_net now loads it (STANDBY guests get a vfpath master)"; \
	fi
else
	@echo "vfpath: vfpath.ko installed; the STANDBY drop-in net_failover.ko is not (VFPATH_DROPIN=1 installs it)"
endif
	depmod $(if $(DESTDIR),-b $(DESTDIR)) $(KVER)

# DKMS: the kernel sources, Kbuild and a dkms.conf, nothing else, in
# DKMS_SRC (default /usr/src/vfpath-VERSION); then `dkms install
# vfpath/VERSION` builds and installs vfpath.ko for each kernel. The
# drop-in is the separate, optional package vfpath-dropin (dkms-dropin.conf,
# with check-crc and sig-guard) in DKMS_DROPIN_SRC: `dkms install
# vfpath-dropin/VERSION`. A kernel whose CRCs it cannot match fails that
# build alone.
VERSION := $(shell sed -n 's/^\#define VFPATH_DRV_VERSION\t*"\(.*\)"/\1/p' failover/vfpath_version.h)
DKMS_SRC ?= /usr/src/vfpath-$(VERSION)
DKMS_DROPIN_SRC ?= /usr/src/vfpath-dropin-$(VERSION)
# dkms-tree DIR CONF: the sources with CONF as DIR/dkms.conf.
dkms-tree = install -d $(1) && \
	install -m 644 Kbuild $(1)/ && install -m 644 $(2) $(1)/dkms.conf && \
	for d in failover vf-driver synthetic; do \
		install -d $(1)/$$d && install -m 644 $$d/*.[ch] $(1)/$$d/ || exit 1; \
	done
dkms-source:
	$(call dkms-tree,$(DKMS_SRC),dkms.conf)
dkms-source-dropin:
	$(call dkms-tree,$(DKMS_DROPIN_SRC),dkms-dropin.conf)
	install -d $(DKMS_DROPIN_SRC)/scripts/build
	install -m 755 scripts/build/check-crc scripts/build/sig-guard $(DKMS_DROPIN_SRC)/scripts/build/

uninstall:
	@[ -n "$(KVER)" ] || { echo "vfpath: no kernel release in $(KDIR)" >&2; exit 1; }
	rm -f $(MODDIR)/vfpath.ko $(MODDIR)/net_failover.ko
	-rmdir $(MODDIR) 2>/dev/null
	depmod $(if $(DESTDIR),-b $(DESTDIR)) $(KVER)

tools: host-tools $(BIN)/flowgen $(BIN)/pagestamp $(BIN)/vcost

# What vfpath-tools ships (make deb): vfpath-ctl for guests, vfpath-qmp
# and vfpath-lv-events for vfpath-migrate on hosts.
host-tools: $(BIN)/vfpath-qmp $(BIN)/vfpath-ctl $(BIN)/vfpath-lv-events

# tools-install: the tools and the guest integration files under DESTDIR
# (PREFIX /usr): vfpath-migrate finds vfpath-qmp and vfpath-lv-events
# beside itself.
PREFIX ?= /usr
tools-install: host-tools
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(BIN)/vfpath-ctl $(BIN)/vfpath-qmp $(BIN)/vfpath-lv-events $(DESTDIR)$(PREFIX)/bin/
	install -m 755 scripts/host/vfpath-migrate $(DESTDIR)$(PREFIX)/bin/
	install -D -m 644 scripts/guest/integration/99-vfpath.rules $(DESTDIR)/lib/udev/rules.d/99-vfpath.rules
	install -D -m 644 scripts/guest/integration/01-vfpath-slave.network \
		$(DESTDIR)/lib/systemd/network/01-vfpath-slave.network

# module-boot-install: what makes a guest pair at boot, beside the module
# (the vfpath-dkms package's): modules-load.d, and the initramfs-tools
# hook that puts vfpath.ko and its udev rules in the initramfs.
module-boot-install:
	install -D -m 644 scripts/guest/integration/modules-load.conf $(DESTDIR)/usr/lib/modules-load.d/vfpath.conf
	install -D -m 755 scripts/guest/integration/initramfs-hook $(DESTDIR)/usr/share/initramfs-tools/hooks/vfpath

# make deb: vfpath-dkms, vfpath-dropin-dkms and vfpath-tools in
# build/deb/, from a copy of the tree (dpkg-buildpackage writes beside
# the source); installs nothing: it says what a build lacks.
DEB_SRC = $(BUILD)/deb/vfpath-$(VERSION)
deb:
	@$(TOP)/scripts/build/setup --check deb >&2 || { echo "vfpath: make deb needs the packages above (scripts/build/setup deb installs them)" >&2; exit 1; }
	@rm -rf $(BUILD)/deb && mkdir -p $(DEB_SRC)
	@git -C $(TOP) ls-files -z --cached --others --exclude-standard | \
		tar -C $(TOP) --null -T - -cf - | tar -C $(DEB_SRC) -xf -
	@cd $(DEB_SRC) && dpkg-buildpackage -b --no-sign >$(BUILD)/deb/build.log 2>&1 || \
		{ tail -n 30 $(BUILD)/deb/build.log >&2; echo "vfpath: dpkg-buildpackage failed (build/deb/build.log)" >&2; exit 1; }
	@rm -rf $(DEB_SRC)
	@ls $(BUILD)/deb/*.deb

FDB := scripts/host/vfpath-fdb.c scripts/host/vfpath-fdb.h
$(BIN)/vfpath-qmp: scripts/host/vfpath-qmp.c $(FDB)
	@mkdir -p $(BIN)
	$(CC) $(TOOL_CFLAGS) $(LDFLAGS) -o $@ $< scripts/host/vfpath-fdb.c -ljson-c -lmnl

$(BIN)/vfpath-ctl: scripts/guest/vfpath-ctl.c failover/vfpath_uapi.h
	@mkdir -p $(BIN)
	$(CC) $(TOOL_CFLAGS) $(LDFLAGS) -o $@ $< -lmnl

# libvirt's client: on hosts only (vfpath-migrate's libvirt back-end).
$(BIN)/vfpath-lv-events: scripts/host/vfpath-lv-events.c $(FDB)
	@mkdir -p $(BIN)
	$(CC) $(TOOL_CFLAGS) $(LDFLAGS) -o $@ $< scripts/host/vfpath-fdb.c -ljson-c -lmnl -lvirt -lvirt-qemu

# Static: the same binary runs on the host and in the lab guest.
$(BIN)/flowgen: tests/flowgen/flowgen.c
	@mkdir -p $(BIN)
	$(CC) $(TOOL_CFLAGS) -static -o $@ $<

$(BIN)/pagestamp: tests/pagestamp/pagestamp.c
	@mkdir -p $(BIN)
	$(CC) $(TOOL_CFLAGS) -static -o $@ $<

$(BIN)/vcost: tests/vcost/vcost.c
	@mkdir -p $(BIN)
	$(CC) $(TOOL_CFLAGS) -static -o $@ $<

# The modules for the lab's guest kernel, whatever KDIR says.
$(LAB)/vfpath.ko: FORCE
	@mkdir -p $(LAB)
	@echo "vfpath: building vfpath.ko and net_failover.ko for the lab kernel $(LAB_KVER)"
	@set -o pipefail; $(MAKE) -s -C $(LAB_KDIR) M=$(TOP) modules 2>&1 | { grep -v '^Skipping BTF' || true; }
	@$(TOP)/scripts/build/check-crc $(TOP)/Module.symvers $(LAB_KDIR)/Module.symvers >/dev/null
	@cmp -s net_failover.ko $(LAB)/net_failover.ko || cp net_failover.ko $(LAB)/net_failover.ko
	@cmp -s vfpath.ko $@ || cp vfpath.ko $@

# PVH boot of the uncompressed kernel skips the xz decompressor, which takes
# seconds under TCG. The vmlinux is cut out of Debian's bzImage.
$(LAB)/vmlinux-%: /boot/vmlinuz-%
	@mkdir -p $(LAB)
	$(TOP)/scripts/lab/extract-vmlinux $< $@

$(LAB)/initramfs.cpio: $(LAB)/vfpath.ko $(BIN)/flowgen $(BIN)/pagestamp $(BIN)/vcost $(BIN)/vfpath-ctl scripts/lab/mkinitramfs scripts/lab/guest-init
	$(TOP)/scripts/lab/mkinitramfs -k $(LAB_KVER) $(if $(LAB_MODBASE),-d $(LAB_MODBASE)) -o $@ -m $(LAB)/vfpath.ko \
		-m $(LAB)/net_failover.ko \
		-b $(BIN)/flowgen -b $(BIN)/pagestamp -b $(BIN)/vcost -b $(BIN)/vfpath-ctl

ifeq ($(LAB_KERNEL),debug)
# The debug kernel boots from its bzImage (its PVH entry cannot run
# under KASAN: scripts/build/debug-kernel). A tree of new inputs (another
# key of debug-kernel's) has the same release but other modules: the
# initramfs follows the tree.
$(LAB)/bzImage-$(LAB_KVER): $(LAB_KDIR)/arch/x86/boot/bzImage
	@mkdir -p $(LAB)
	cp $< $@
$(LAB)/initramfs.cpio: $(LAB_KDIR)/vfpath-debug.info
endif

# Only these targets (and check, demo, bench, stress, style through them)
# install packages; a plain build never does.
ifeq ($(LAB_KERNEL),debug)
# The kernel first (built once, then cached), then make again: this make
# parsed without its release when it was not built yet. The debug lab
# runs the patched QEMU (scripts/lab/lab.sh, lab_qemu_default): built here
# too, once, then cached.
lab-deps: setup
	@kdir=$$($(TOP)/scripts/build/debug-kernel) && rel=$$(cat $$kdir/include/config/kernel.release) && \
		$(MAKE) -s LAB_KERNEL=debug tools $(BUILD)/lab/$$rel/initramfs.cpio $(BUILD)/lab/$$rel/bzImage-$$rel
	@[ "$(QEMU)" = stock ] || $(TOP)/scripts/build/build-qemu >/dev/null
else
# The lab's kernel is found again after setup: on a fresh machine setup is
# what installs it, so the LAB_KVER this make parsed with is empty.
lab-deps: setup
	@kver=$$(LAB_KVER="$(LAB_KVER_ASKED)" $(TOP)/scripts/lab/kernel-version) && \
		$(MAKE) -s LAB_KVER="$$kver" tools $(BUILD)/lab/$$kver/initramfs.cpio \
			$(BUILD)/lab/$$kver/vmlinux-$$kver
endif

check: lab-deps
	@VFPATH_DEPS_BUILT=1 $(TOP)/tests/run

check-all: lab-deps
	@VFPATH_DEPS_BUILT=1 VFPATH_CHECK_ALL=1 MUTATE_SET=all $(TOP)/tests/run

mutate: lab-deps
	@VFPATH_DEPS_BUILT=1 MUTATE_SET=all $(TOP)/tests/run mutate

demo: lab-deps
	@$(TOP)/scripts/lab/demo

BENCH_RUNS ?= 5
bench: lab-deps
	@BENCH_RUNS=$(BENCH_RUNS) $(TOP)/scripts/bench/bench

STRESS_N ?= 20
STRESS_BACKEND ?= qmp
stress: lab-deps
	@STRESS_N=$(STRESS_N) STRESS_BACKEND="$(STRESS_BACKEND)" $(TOP)/scripts/lab/stress

# CHAOS_ARGS: scripts/chaos's options (--seed, --minutes, --pairing...).
CHAOS_ARGS ?=
chaos: lab-deps
	@$(TOP)/scripts/chaos $(CHAOS_ARGS)

# make soak: STRESS_N (50) round trips on the debug kernel, then chaos
# for SOAK_MINUTES (60) on it (scripts/soak); not in make check.
SOAK_MINUTES ?= 60
soak: setup
	@$(MAKE) -s lab-deps LAB_KERNEL=debug
	@LAB_KERNEL=debug SOAK_MINUTES=$(SOAK_MINUTES) STRESS_N=$(if $(filter command line,$(origin STRESS_N)),$(STRESS_N),50) \
		$(TOP)/scripts/soak

# The build matrix: every Debian kernel series and flavour with headers
# here, and the newest kernel Debian has (scripts/build/kernels).
kernels: setup
	@$(TOP)/scripts/build/kernels

# Against the lab's kernel, found after setup (see lab-deps).
style: setup
	@$(TOP)/scripts/build/checkpatch $(KERNEL_SOURCES)
	@kdir=/usr/src/linux-headers-$$(LAB_KVER="$(LAB_KVER_ASKED)" $(TOP)/scripts/lab/kernel-version) && \
		echo "vfpath: W=1 build against $$kdir" && \
		$(MAKE) -s -C $$kdir M=$(TOP) clean && mkdir -p $(BUILD) && \
		{ set -o pipefail; $(MAKE) -s -C $$kdir M=$(TOP) W=1 modules 2>&1 | tee $(BUILD)/w1.log; }
	@! grep -E 'warning:|error:|ERROR:' $(BUILD)/w1.log
	@echo "vfpath: W=1 build clean"

clean:
	-$(MAKE) -s -C $(LAB_KDIR) M=$(TOP) clean 2>/dev/null
	rm -rf $(BUILD)

FORCE:
