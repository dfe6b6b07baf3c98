#!/usr/bin/env bash
# qemu-patches/ against Debian's stock QEMU, side by side. Each patch has a
# check that stock QEMU fails and the patched build passes:
#   0001 wake wait-unplug: a failover migration leaves wait-unplug when the
#        guest has released the primary, not at QEMU's next 250 ms poll
#   0002 unplug-timeout: a guest that cannot release the primary makes the
#        migration fail within the timeout, naming the device; the guest
#        runs on, on its VF, which QEMU plugs back
#   0003 FAILOVER_PRIMARY_PLUGGED: the destination says when the VF is back
#   0004 TCG dirty tracking: a page the guest keeps writing during a
#        migration reaches the destination as the source last wrote it
# Guests: failover=on with our drop-in net_failover.ko (master eth0); for
# 0004 a guest with virtio-net alone.
source "$(dirname "$0")/lib.sh"

ALL_TESTS="
	qp_build_cached
	qp_broken_series_refused
	qp_wait_unplug
	qp_replug_event
	qp_unplug_timeout
	qp_tcg_dirty
"
M=eth0
VFP_MASTER=$M
HOPS=${QP_HOPS:-5}
declare -A WAITS=()

# The first call may build (minutes); the second, with the same inputs,
# must be a cache hit: the same path, nothing on stderr, the binary not
# rebuilt (same mtime and inode), and under 2 s (not a speed threshold: a
# build takes minutes).
qp_build_cached() {
	local t0 t1 t2 t3 out out2 m0 m1 rc=0
	t0=$(lab_now_ms)
	out=$("$LAB_TOP/scripts/build/build-qemu" 2>"$LAB_DIR/bq.err")
	check_err $? "build-qemu: $(tail -n 3 "$LAB_DIR/bq.err")"
	t1=$(lab_now_ms)
	PATCHED=$out
	"$PATCHED" --version | grep -q 'QEMU emulator version 7.2'
	check_err $? "$PATCHED does not run"
	m0=$(stat -c '%y %i' "$PATCHED" 2>/dev/null)
	t2=$(lab_now_ms)
	out2=$("$LAB_TOP/scripts/build/build-qemu" 2>"$LAB_DIR/bq2.err") || rc=$?
	t3=$(lab_now_ms)
	m1=$(stat -c '%y %i' "$PATCHED" 2>/dev/null)
	[ $rc -eq 0 ] && [ -n "$out2" ] && [ "$out2" = "$PATCHED" ] && [ ! -s "$LAB_DIR/bq2.err" ] &&
		[ $((t3 - t2)) -lt 2000 ] && [ -n "$m0" ] && [ "$m1" = "$m0" ]
	check_err $? "second call was not a cache hit: exit $rc, printed '$out2' after $((t3 - t2)) ms, binary '$m0' -> '$m1' (mtime inode), stderr: $(head -n 2 "$LAB_DIR/bq2.err")"
	[ "$("$LAB_TOP/scripts/build/build-qemu" --path 2>"$LAB_DIR/bq3.err")" = "$PATCHED" ] && [ ! -s "$LAB_DIR/bq3.err" ]
	check_err $? "build-qemu --path: $(head -n 2 "$LAB_DIR/bq3.err")"
	log_info "patched QEMU: $PATCHED (first call $((t1 - t0)) ms, second $((t3 - t2)) ms)"
	log_test "build-qemu: patched QEMU built and cached (keyed by series and Debian version)"
}

# dsc_files DSC: the files a Debian source package's .dsc lists.
dsc_files() { awk '/^Files:/ { f = 1; next } /^[^ ]/ { f = 0 } f && NF == 3 { print $3 }' "$1"; }

# A series whose patch does not apply: build-qemu names it and stops. The
# case brings its own inputs, so that alone it gives the verdict it gives
# after qp_build_cached: a private cache (the shared one is neither used
# for a work tree nor cleaned under a build running there), with Debian's
# source linked from the shared cache when a build fetched it there, else
# fetched by build-qemu itself as a build would (apt-get source, deb-src by
# scripts/build/apt-deb-src).
qp_broken_series_refused() {
	local d=$LAB_DIR/broken rc=0 ver shared dsc f src work p0
	p0=("$LAB_TOP"/qemu-patches/0001-*.patch)
	mkdir -p "$d/cache/qemu-src"
	ver=$(dpkg-query -W -f='${source:Version}' qemu-system-x86 2>/dev/null)
	check_err $? "qemu-system-x86 is not installed"
	# One context line changed: with no fuzz allowed, it must not apply.
	sed '0,/^ bool migration_in_incoming_postcopy(void)$/s// bool no_such_function(void)/' \
		"${p0[0]}" >"$d/0001-broken.patch"
	[ ${#p0[@]} -eq 1 ] && ! cmp -s "${p0[0]}" "$d/0001-broken.patch"
	check_err $? "the line to break is not in ${p0[*]##*/}: the series would apply (and build)"
	echo 0001-broken.patch >"$d/series"
	if [ $RET -ne 0 ]; then
		log_test "build-qemu stops on a patch that does not apply, naming it"
		return
	fi
	# The source: the shared cache's if whole there, else build-qemu's fetch.
	shared=${VFPATH_CACHE:-/var/cache/vfpath}/qemu-src
	dsc=qemu_${ver#*:}.dsc
	src=fetched
	if [ -s "$shared/$dsc" ]; then
		src=linked
		for f in $(dsc_files "$shared/$dsc"); do
			[ -s "$shared/$f" ] || src=fetched
		done
	fi
	if [ $src = linked ]; then
		for f in "$dsc" $(dsc_files "$shared/$dsc"); do
			ln -s "$shared/$f" "$d/cache/qemu-src/$f"
		done
	fi
	VFPATH_CACHE=$d/cache VFPATH_QEMU_PATCHES=$d "$LAB_TOP/scripts/build/build-qemu" \
		>/dev/null 2>"$d/err" || rc=$?
	[ $rc -eq 1 ] && grep -q "patch 0001-broken.patch does not apply to qemu $ver" "$d/err"
	check_err $? "exit $rc: $(tail -n 2 "$d/err" | tr '\n' ' ')"
	# Refused for that line: the series' own 0001 applies to the same tree.
	work=$(echo "$d"/cache/qemu/build.*)
	[ -d "$work/src" ] && patch -d "$work/src" -p1 -F0 --dry-run -s -f <"${p0[0]}" >"$d/control.log" 2>&1
	check_err $? "the unbroken ${p0[0]##*/} does not apply to the unpacked tree either: $(head -n 2 "$d/control.log" 2>/dev/null)"
	! ls "$d"/cache/qemu/*/qemu-system-x86_64 >/dev/null 2>&1
	check_err $? "a binary was built from the broken series"
	log_info "qemu $ver: Debian source $src ($shared), refused: $(grep -m1 'does not apply' "$d/err")"
	# The unpacked tree (300 MB) must not go to test-logs with the lab's files.
	rm -rf "$d/cache"
	log_test "build-qemu stops on a patch that does not apply, naming it"
}

# boot_standby GUEST QEMU [QEMU ARGS]: failover=on guest with our drop-in,
# master eth0 addressed and answering.
boot_standby() {
	local g=$1 q=$2
	shift 2
	QEMU=$q lab_guest_start "$g" failover "$@"
	lab_guest "$g" "insmod $VFP_KO && insmod $VFP_DROPIN_KO && modprobe virtio_net &&
		modprobe e1000e" >/dev/null
}

# hops Q: HOPS failover migrations in a row; records each wait-unplug (ms,
# from QEMU's MIGRATION events) in WAITS[Q] and keeps the timelines.
hops() {
	local q=$1 g=${1:0:1}0 i next tl rc
	boot_standby "$g" "$q"
	vfp_master_up "$g" && vfp_wait_path "$g" vf || return 1
	for i in $(seq 1 "$HOPS"); do
		next=${q:0:1}$i
		tl=$LAB_DIR/$q-$i.json
		lab_guest_incoming "$g" "$next"
		rc=0
		lab_vfpath_migrate "$g" "$next" --out "$tl" >/dev/null 2>&1 || rc=$?
		[ $rc -eq 0 ] || { log_info "$q hop $i: exit $rc: $(jq -r .error "$tl")"; return 1; }
		lab_guest_stop "$g"
		g=$next
		WAITS[$q]+="$(jq '[.phases[] | select(.phase == "migration_wait-unplug") | .t_ms][0] as $a |
			[.phases[] | select(.phase == "migration_active") | .t_ms][0] - $a' "$tl") "
	done
	lab_guest_stop "$g"
}

median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# Stock QEMU ends wait-unplug only at a 250 ms poll tick; the patch ends it
# when the guest is done. Pass: before the first tick in most migrations,
# judged only on HOPS measured migrations per build (with fewer, "stock
# rarely early" would hold of nothing).
qp_wait_unplug() {
	local q n
	local -A early=()
	for q in stock patched; do
		hops "$q"
		check_err $? "$q: migrations failed"
		n=$(tr ' ' '\n' <<<"${WAITS[$q]:-}" | grep -cE '^-?[0-9]+(\.[0-9]+)?$')
		[ "$n" -eq "$HOPS" ]
		check_err $? "$q: wait-unplug measured in $n of $HOPS migrations (${WAITS[$q]:-none})"
		early[$q]=$(tr ' ' '\n' <<<"${WAITS[$q]:-}" | grep -E '^-?[0-9]' | awk '$1 < 245' | wc -l)
		log_info "$q QEMU: wait-unplug (ms) ${WAITS[$q]:-}, median $(median <<<"${WAITS[$q]:-}"), ${early[$q]} of $HOPS before the first 250 ms poll"
	done
	[ "${early[stock]}" -le $((HOPS / 2)) ]
	check_err $? "stock QEMU left wait-unplug early in ${early[stock]} of $HOPS: the check does not tell the builds apart"
	[ "${early[patched]}" -gt $((HOPS / 2)) ]
	check_err $? "patched QEMU left wait-unplug before the poll in only ${early[patched]} of $HOPS"
	log_test "0001: wait-unplug ends when the guest released the primary (patched), not at the 250 ms poll (stock)"
}

# The destination's FAILOVER_PRIMARY_PLUGGED, seen by vfpath-migrate's
# event monitor, becomes the timeline's dst_vf_plugged. On qp_wait_unplug's
# timelines: each of the HOPS per build must be a completed migration whose
# destination events were watched (its RESUME seen), else stock's "no
# event" is no finding.
qp_replug_event() {
	local q i f unseen=""
	local -A n=([stock]=0 [patched]=0)
	for q in stock patched; do
		for i in $(seq 1 "$HOPS"); do
			f=$LAB_DIR/$q-$i.json
			if ! jq -e '.result == "ok" and any(.phases[]; .phase == "dst_resume")' \
				"$f" >/dev/null 2>&1; then
				unseen+=" $q-$i"
				continue
			fi
			jq -e 'any(.phases[]; .phase == "dst_vf_plugged")' "$f" >/dev/null && n[$q]=$((n[$q] + 1))
		done
	done
	[ -z "$unseen" ]
	check_err $? "no completed migration with the destination's RESUME seen for:$unseen (qp_wait_unplug's hops)"
	[ "${n[stock]}" -eq 0 ] && [ "${n[patched]}" -eq "$HOPS" ]
	check_err $? "dst_vf_plugged in ${n[stock]} of $HOPS stock and ${n[patched]} of $HOPS patched migrations"
	f=$LAB_DIR/patched-1.json
	[ -s "$f" ] && log_info "patched hop 1 (ms): $(jq -r '[.phases[] | select(.phase | test("resume|plugged|completed|stop")) | "\(.phase)=\(.t_ms)"] | join(" ")' "$f")"
	log_test "0003: the destination reports FAILOVER_PRIMARY_PLUGGED after every migration (patched only)"
}

# A guest that cannot release the primary in time: native PCIe hotplug
# (ACPI hotplug off), where the guest's pciehp answers the unplug request's
# attention button only after its 5 s grace period. (pcie_ports=compat,
# without pciehp, is no such guest: the slot it never powered on lets QEMU
# unplug at once.) When the migration fails, QEMU's re-plug presses the
# button again, which cancels pciehp's pending power-off: the guest keeps
# its VF.
stuck_guest() {
	local g=$1 q=$2
	boot_standby "$g" "$q" -global ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off
	lab_busywait 15000 lab_guest "$g" "test -e /sys/class/net/$M/lower_eth2" &&
		vfp_master_up "$g" && vfp_wait_path "$g" vf
}

# migrate_params GUEST: QEMU's query-migrate-parameters, printed only if
# it answered with them (one object, downtime-limit in it as in every 7.2):
# an empty or failed answer is not "no such parameter".
migrate_params() {
	local out
	out=$(lab_qmp "$1" query-migrate-parameters 2>"$LAB_DIR/qmp.err") &&
		jq -se 'length == 1 and (.[0] | type == "object" and has("downtime-limit"))' \
			<<<"$out" >/dev/null 2>&1 &&
		echo "$out"
}

qp_unplug_timeout() {
	local g=sp tl=$LAB_DIR/stuck.json rc=0 t0 t1 ev params
	# Stock QEMU has no bound to offer: the parameter does not exist.
	stuck_guest ss stock
	check_err $? "stock guest did not come up on its VF"
	# Judged on QEMU's answer only: a failed QMP call is no "it has none".
	params=$(migrate_params ss)
	check_err $? "stock QEMU's query-migrate-parameters gave no answer: $(head -c 300 "$LAB_DIR/qmp.err")"
	jq -e 'has("unplug-timeout")' <<<"$params" >/dev/null 2>&1
	check_fail $? "stock QEMU has unplug-timeout?"
	lab_guest_stop ss

	stuck_guest $g patched
	check_err $? "patched guest did not come up on its VF"
	# The same query tells the builds apart: patched QEMU has the parameter.
	params=$(migrate_params $g) && jq -e 'has("unplug-timeout")' <<<"$params" >/dev/null
	check_err $? "patched QEMU has no unplug-timeout: $(head -c 300 "$LAB_DIR/qmp.err") $(head -c 300 <<<"$params")"
	lab_guest_incoming $g spd -global ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off
	"$LAB_QMP" --timeout 30000 "$(lab_guest_dir $g)/qmp-events.sock" \
		wait FAILOVER_PRIMARY_PLUGGED >"$LAB_DIR/src-ev.json" 2>/dev/null &
	ev=$!
	t0=$(lab_now_ms)
	lab_vfpath_migrate $g spd --release-timeout-ms 2000 --out "$tl" \
		>/dev/null 2>"$LAB_DIR/stuck.err" || rc=$?
	t1=$(lab_now_ms)
	[ $rc -eq 1 ] && grep -q "did not release 'vf0' within unplug-timeout (2000 ms)" "$LAB_DIR/stuck.err"
	check_err $? "exit $rc: $(cat "$LAB_DIR/stuck.err")"
	[ $((t1 - t0)) -lt 10000 ]
	check_err $? "failed after $((t1 - t0)) ms (timeout 2000)"
	wait $ev && jq -e '.data["device-id"] == "vf0" and .data["standby-id"] == "net0"' \
		"$LAB_DIR/src-ev.json" >/dev/null
	check_err $? "no FAILOVER_PRIMARY_PLUGGED for vf0 on the source: $(cat "$LAB_DIR/src-ev.json")"
	[ "$(lab_qmp $g query-status | jq -r .status)" = running ] && vfp_wait_path $g vf &&
		lab_guest $g "ping -c 3 -W 1 $LAB_PEER_IP4 >/dev/null"
	check_err $? "guest not running on its VF: path $(vfp_sys $g active_path 2>&1); $(lab_guest $g 'dmesg | grep -i "pciehp\|e1000e\|tx path" | tail -n 8')"
	log_info "$(cat "$LAB_DIR/stuck.err") (after $((t1 - t0)) ms)"
	# Past pciehp's 5 s: the cancelled power-off must not have happened.
	sleep 4
	vfp_path_is $g vf && lab_guest $g "test -e /sys/class/net/$M/lower_eth2"
	check_err $? "the guest lost its VF after the failed migration"
	log_test "0002: a guest slower than unplug-timeout: fails within it naming vf0, VF plugged back, guest keeps it"
}

# stale_pages Q: on QEMU Q, a guest whose pagestamp keeps storing into 256
# pages (nothing that switches its address space, so TCG's TLB entries
# stay), migrated with downtime-limit 1 ms to a destination started with
# -S; prints how many 4 KiB pages of RAM differ between the source after
# completion and the destination before it ran (both paused: neither
# changes its RAM any more), then "syncs N" (QEMU's dirty-sync-count).
stale_pages() {
	local q=$1 g=${1:0:1}ts d=${1:0:1}td ram=$LAB_DIR/ram-$1 n syncs
	QEMU=$q lab_guest_start "$g" virtio
	lab_guest "$g" "(setsid pagestamp --seconds 20 </dev/null >/tmp/pagestamp.log 2>&1 &)" &&
		lab_busywait 5000 lab_guest "$g" "ps | grep -q '[p]agestamp'" ||
		{ echo "pagestamp did not start"; return 1; }
	lab_guest_incoming "$g" "$d" -S
	lab_qmp "$g" migrate-set-parameters '{"downtime-limit": 1}' >/dev/null &&
		lab_migrate "$g" "$d" >"$LAB_DIR/$q-dirty.json" ||
		{ echo "the migration failed: $(tail -c 300 "$LAB_DIR/$q-dirty.json")"; return 1; }
	syncs=$(tail -n 1 "$LAB_DIR/$q-dirty.json" | jq -r '.ram["dirty-sync-count"]')
	lab_qmp "$g" pmemsave "{\"val\": 0, \"size\": $((LAB_MEM << 20)), \"filename\": \"$ram.src\"}" >/dev/null &&
		lab_qmp "$d" pmemsave "{\"val\": 0, \"size\": $((LAB_MEM << 20)), \"filename\": \"$ram.dst\"}" >/dev/null &&
		[ "$(stat -c %s "$ram.src")" -eq $((LAB_MEM << 20)) ] && [ "$(stat -c %s "$ram.dst")" -eq $((LAB_MEM << 20)) ] ||
		{ echo "pmemsave did not save both RAMs"; rm -f "$ram".*; return 1; }
	n=$({ cmp -l "$ram.src" "$ram.dst" || true; } | awk '{ print int(($1 - 1) / 4096) }' | uniq | wc -l)
	rm -f "$ram".*
	lab_guest_stop "$g"
	lab_guest_stop "$d"
	echo "$n syncs $syncs"
}

# Stock QEMU 7.2 clears a page's migration dirty bit at a bitmap sync but
# leaves TCG's fast TLB entry: the guest's later stores to it are never
# sent. The patched build resets those entries at the sync.
qp_tcg_dirty() {
	local out q
	local -A n=()
	for q in stock patched; do
		out=$(stale_pages $q)
		check_err $? "$q: $out"
		n[$q]=${out%% *}
		log_info "$q QEMU: $out (pages differing, QEMU's bitmap syncs)"
	done
	[ "${n[stock]:-0}" -gt 0 ] 2>/dev/null
	check_err $? "stock QEMU delivered every page: the check does not tell the builds apart"
	[ "${n[patched]:-x}" = 0 ]
	check_err $? "patched QEMU: ${n[patched]:-?} pages of the destination differ from the source's"
	log_test "0004: under TCG, pages written during a migration arrive as last written (patched; stock loses ${n[stock]:-?})"
}

lab_net_up
run_all_tests
exit $EXIT_STATUS
