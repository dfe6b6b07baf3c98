# vfpath - top-level Makefile.
#
#   make            the guest modules vfpath.ko and net_failover.ko (the
#                   drop-in, CRCs checked) against KDIR, and the tools;
#                   installs nothing (scripts/build/setup --check build says
#                   what a build lacks)
#   make install    installs both under /lib/modules/KVER/updates/vfpath/
#                   (DESTDIR honoured), runs depmod; make uninstall undoes it
#   make dkms-source  copies the module sources to /usr/src/vfpath-VERSION
#   make check      installs what it needs, builds, runs every test (with
#                   the fast mutations of tests/mutations/)
#   make check-all  make check with every mutation (MUTATE_SET=all)
#   make mutate     only the mutations, all of them (MUTATE_ONLY="NAME..."
#                   for some): each breaks one claim, its tests must fail
#   make demo       boots the lab guest, pairs, migrates there and back under
#                   traffic, prints the timelines, plots packets per path
#   make bench      vfpath vs net_failover, bonding and the bare VF, BENCH_RUNS
#                   (5) interleaved rounds: build/bench/results.{json,md},
#                   migration.svg
#   make stress     STRESS_N (20) round trips under traffic, checked, through
#                   STRESS_BACKEND (qmp; libvirt; or "qmp libvirt")
#   make style      checkpatch --strict and a W=1 build of the kernel code
#   make lab-deps   what the lab boots: kernel, initramfs, module, tools
#
# KDIR defaults to the running kernel's build directory if it exists,
# otherwise to the headers of the lab's Debian kernel (scripts/lab/kernel-version).
# The lab always builds the module against its own guest kernel.

SHELL := /bin/bash
TOP := $(CURDIR)
BUILD := $(TOP)/build
BIN := $(BUILD)/bin
LAB := $(BUILD)/lab

LAB_KVER = $(shell $(TOP)/scripts/lab/kernel-version)
LAB_KDIR = /usr/src/linux-headers-$(LAB_KVER)
RUNNING_KDIR := /lib/modules/$(shell uname -r)/build
KDIR ?= $(if $(wildcard $(RUNNING_KDIR)),$(RUNNING_KDIR),$(LAB_KDIR))

CFLAGS ?= -O2 -g
TOOL_CFLAGS := $(CFLAGS) -Wall -Wextra -Werror=implicit-function-declaration
KERNEL_SOURCES := $(wildcard failover/*.[ch] vf-driver/*.[ch] synthetic/*.[ch])

# The release the modules load into (Debian's kernel.release says 6.1.x;
# UTS_RELEASE is the /lib/modules name).
KVER = $(shell sed -n 's/^\#define UTS_RELEASE "\(.*\)"/\1/p' $(KDIR)/include/generated/utsrelease.h 2>/dev/null)
MODDIR = $(DESTDIR)/lib/modules/$(KVER)/updates/vfpath
MODULES := vfpath.ko net_failover.ko

.PHONY: all module tools setup lab-deps check check-all mutate demo bench stress style clean help \
	install uninstall dkms-source FORCE

all: module tools

help:
	@sed -n '3,25p' Makefile | sed 's/^# \{0,1\}//'

setup:
	@$(TOP)/scripts/build/setup

module:
	@[ -e $(KDIR)/Makefile ] || { echo "vfpath: no kernel build tree at KDIR=$(KDIR): install the headers (linux-headers-amd64) or set KDIR" >&2; exit 1; }
	@echo "vfpath: building vfpath.ko and net_failover.ko against KDIR=$(KDIR)"
	$(MAKE) -C $(KDIR) M=$(TOP) modules
	@$(TOP)/scripts/build/check-crc $(TOP)/Module.symvers $(KDIR)/Module.symvers

# depmod ranks updates/ above the kernel's own tree, so modprobe virtio_net
# then loads our net_failover.ko (and vfpath.ko, which it needs).
install: module
	@[ -n "$(KVER)" ] || { echo "vfpath: no kernel release in $(KDIR)" >&2; exit 1; }
	install -d $(MODDIR)
	install -m 644 $(MODULES) $(MODDIR)/
	depmod $(if $(DESTDIR),-b $(DESTDIR)) $(KVER)

# DKMS: the kernel sources, Kbuild, dkms.conf and check-crc, nothing else,
# in DKMS_SRC (default /usr/src/vfpath-VERSION); then
# `dkms install vfpath/VERSION` builds and installs for each kernel.
VERSION := $(shell sed -n 's/^\#define VFPATH_DRV_VERSION\t*"\(.*\)"/\1/p' failover/vfpath_version.h)
DKMS_SRC ?= /usr/src/vfpath-$(VERSION)
dkms-source:
	install -d $(DKMS_SRC)/scripts/build
	install -m 644 Kbuild dkms.conf $(DKMS_SRC)/
	for d in failover vf-driver synthetic; do \
		install -d $(DKMS_SRC)/$$d && install -m 644 $$d/*.[ch] $(DKMS_SRC)/$$d/; \
	done
	install -m 755 scripts/build/check-crc $(DKMS_SRC)/scripts/build/

uninstall:
	@[ -n "$(KVER)" ] || { echo "vfpath: no kernel release in $(KDIR)" >&2; exit 1; }
	rm -f $(addprefix $(MODDIR)/,$(MODULES))
	-rmdir $(MODDIR) 2>/dev/null
	depmod $(if $(DESTDIR),-b $(DESTDIR)) $(KVER)

tools: $(BIN)/vfpath-qmp $(BIN)/flowgen $(BIN)/vfpath-ctl $(BIN)/vfpath-lv-events

FDB := scripts/host/vfpath-fdb.c scripts/host/vfpath-fdb.h
$(BIN)/vfpath-qmp: scripts/host/vfpath-qmp.c $(FDB)
	@mkdir -p $(BIN)
	$(CC) $(TOOL_CFLAGS) -o $@ $< scripts/host/vfpath-fdb.c -ljson-c -lmnl

$(BIN)/vfpath-ctl: scripts/guest/vfpath-ctl.c failover/vfpath_uapi.h
	@mkdir -p $(BIN)
	$(CC) $(TOOL_CFLAGS) -o $@ $< -lmnl

# Static: the same binary runs on the host and in the lab guest.
$(BIN)/vfpath-lv-events: scripts/host/vfpath-lv-events.c $(FDB)
	@mkdir -p $(BIN)
	$(CC) $(TOOL_CFLAGS) -o $@ $< scripts/host/vfpath-fdb.c -ljson-c -lmnl -lvirt -lvirt-qemu

$(BIN)/flowgen: tests/flowgen/flowgen.c
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

$(LAB)/initramfs.cpio: $(LAB)/vfpath.ko $(BIN)/flowgen $(BIN)/vfpath-ctl scripts/lab/mkinitramfs scripts/lab/guest-init
	$(TOP)/scripts/lab/mkinitramfs -k $(LAB_KVER) -o $@ -m $(LAB)/vfpath.ko \
		-m $(LAB)/net_failover.ko \
		-b $(BIN)/flowgen -b $(BIN)/vfpath-ctl
	@echo "$(LAB_KVER)" > $(LAB)/kver

# Only these targets (and check, demo, bench, stress, style through them)
# install packages; a plain build never does.
lab-deps: setup
	@$(MAKE) -s tools $(LAB)/initramfs.cpio $(LAB)/vmlinux-$(LAB_KVER)

check: lab-deps
	@VFPATH_DEPS_BUILT=1 $(TOP)/tests/run

check-all: lab-deps
	@VFPATH_DEPS_BUILT=1 MUTATE_SET=all $(TOP)/tests/run

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

style: setup
	@$(TOP)/scripts/build/checkpatch $(KERNEL_SOURCES)
	@echo "vfpath: W=1 build against $(LAB_KDIR)"
	@$(MAKE) -s -C $(LAB_KDIR) M=$(TOP) clean
	@mkdir -p $(BUILD)
	@set -o pipefail; $(MAKE) -s -C $(LAB_KDIR) M=$(TOP) W=1 modules 2>&1 | tee $(BUILD)/w1.log
	@! grep -E 'warning:|error:|ERROR:' $(BUILD)/w1.log
	@echo "vfpath: W=1 build clean"

clean:
	-$(MAKE) -s -C $(LAB_KDIR) M=$(TOP) clean 2>/dev/null
	rm -rf $(BUILD)

FORCE:
