# shellcheck shell=bash
# kselftest-style helpers for vfpath's tests, sourced by every
# tests/*.sh: check_err/check_fail, log_test/log_skip/log_info,
# run_all_tests, the guest-side helpers vfp_* for a vfpath master, and
# (sourced from here) the whole lab, scripts/lab/lab.sh. A test script
# lists its cases in ALL_TESTS and ends with `run_all_tests; exit $EXIT_STATUS`.
# Exit codes: 0 pass, 1 fail, 4 skip.

set -uo pipefail

TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../scripts/lab/lab.sh
source "$TESTS_DIR/../scripts/lab/lab.sh"

ksft_skip=4
EXIT_STATUS=0
RET=0
RETMSG=""
TEST_NAME=$(basename "$0" .sh)

# check_err RC MSG: records the first failure of the current case.
check_err() {
	if [ "$RET" -eq 0 ] && [ "$1" -ne 0 ]; then
		RET=$1
		RETMSG=$2
	fi
}

# check_fail RC MSG: records a failure if RC is zero (it should have
# failed). 124 and 125 are lab_guest's own failures (the command timed out,
# the guest agent failed): no refusal was seen, so they fail the case too.
check_fail() {
	[ "$RET" -eq 0 ] || return 0
	case "$1" in
	0) RET=1 RETMSG=$2 ;;
	124 | 125) RET=1 RETMSG="$2: no verdict, the guest command's status is $1 (timed out or agent failed)" ;;
	esac
}

log_test() {
	local name=$1
	if [ "$RET" -ne 0 ]; then
		printf "TEST: %-60s [FAIL]\n" "$name"
		[ -z "$RETMSG" ] || printf "\t%s\n" "$RETMSG"
		EXIT_STATUS=1
	else
		printf "TEST: %-60s [ OK ]\n" "$name"
	fi
	RET=0
	RETMSG=""
}

log_skip() {
	printf "TEST: %-60s [SKIP]\n" "$1"
	printf "\t%s\n" "$2"
	[ "$EXIT_STATUS" -ne 0 ] || EXIT_STATUS=$ksft_skip
}

log_info() { printf "INFO: %s\n" "$*"; }

# busywait TIMEOUT_MS CMD...: polls CMD until it succeeds.
busywait() { lab_busywait "$@"; }

run_all_tests() {
	local t
	for t in $ALL_TESTS; do
		"$t"
	done
}

# Logs go to build/test-logs/NAME when a case fails.
test_cleanup() {
	[ "$EXIT_STATUS" -ne 1 ] || LAB_KEEP_LOGS=$LAB_BUILD/test-logs/$TEST_NAME
	lab_cleanup
}
trap test_cleanup EXIT
trap 'exit 1' INT TERM

# guest_dmesg_clean GUEST: fails if the guest kernel logged a warning, a
# BUG, a refcount problem or a leaked netdev reference; on the debug
# kernel (LAB_KERNEL=debug) also a lockdep, KASAN, UBSAN... report (see
# lab_dmesg_bad_re) or a kmemleak report involving vfpath or netdev code.
# Every test ends with this check, so it is where a guest's life ends.
guest_dmesg_clean() {
	local bad rc=0
	bad=$(lab_guest_dmesg_bad "$1") || rc=$?
	[ $rc -eq 0 ] && [ -z "$bad" ] || { echo "$bad" | head -n 5; return 1; }
	lab_debug_kernel || return 0
	bad=$(lab_guest_kmemleak "$1") || { echo "$bad" | head -n 3 | sed 's/^/kmemleak: /'; return 1; }
}

# dmesg_clean: the test case every script ends with, on guest $G.
dmesg_clean() {
	local out
	out=$(guest_dmesg_clean "$G")
	check_err $? "dmesg: $out"
	log_test "dmesg free of WARNING/BUG/refcount messages"
}

# json FILE FIELD: a top-level field of a flowgen report.
json() { jq -r ".$2" "$1"; }

# --- vfpath in the lab guest ---------------------------------------------
VFP_KO=/lib/modules/vfpath/vfpath.ko
VFP_DROPIN_KO=/lib/modules/vfpath/net_failover.ko
# How the datapath tests get their master (tests/run runs them both ways):
#   auto     vfpath pairs virtio-net and the e1000e by MAC: master vfp5f0002
#            (the name's rule, for $LAB_GUEST_MAC), slaves eth0 and eth1
#   standby  QEMU failover=on, stock virtio_net calls our drop-in
#            net_failover.ko: master eth0 (registered first, as
#            net_failover's), standby eth1, VF eth2
VFP_PAIRING=${VFP_PAIRING:-auto}
case "$VFP_PAIRING" in
auto) VFP_MASTER=vfp5f0002 VFP_SLAVES="eth0 eth1" ;;
standby) VFP_MASTER=eth0 VFP_SLAVES="eth1 eth2" ;;
*) echo "VFP_PAIRING must be auto or standby, not '$VFP_PAIRING'" >&2; exit 1 ;;
esac
[ "$VFP_PAIRING" = auto ] || TEST_NAME+="-$VFP_PAIRING"
VFP_RATE=${VFP_RATE:-1000}

# vfp_sys GUEST FILE: a file of the master's vfpath/ sysfs directory.
vfp_sys() { lab_guest "$1" "cat /sys/class/net/$VFP_MASTER/vfpath/$2"; }

vfp_path_is() { [ "$(vfp_sys "$1" active_path 2>/dev/null)" = "$2" ]; }

# vfp_wait_path GUEST PATH [TIMEOUT_MS]: waits until transmit uses PATH.
vfp_wait_path() { busywait "${3:-15000}" vfp_path_is "$1" "$2"; }

# vfp_set_link GUEST true|false: the VF's link up or down (QMP set_link),
# as when the host's physical port flaps.
vfp_set_link() {
	lab_qmp "$1" set_link "{\"name\": \"$(lab_vf_id "$1")\", \"up\": $2}" >/dev/null
}

# vfp_guest_within GUEST MS CMD: runs CMD in the guest in the background
# (a deadlocked CMD blocks in the kernel for good) and waits up to MS for
# it to end; its status, or 1 if it has not ended.
vfp_guest_within() {
	lab_guest "$1" "rm -f /tmp/within.rc; setsid sh -c '$3; echo \$? > /tmp/within.rc' \
		</dev/null >/dev/null 2>&1 &" &&
		busywait "$2" lab_guest "$1" "[ -s /tmp/within.rc ]" &&
		return "$(lab_guest "$1" "cat /tmp/within.rc")"
}

# RTNL held for seconds, in the guest: dummy's module init registers
# VFP_NDUMMIES netdevs under one rtnl_lock() (about 4-10 s under TCG), and
# tasks that wait for RTNL meanwhile get it in the order they asked.
# VFP_RTNL_HELD succeeds while that init still runs (still holds RTNL).
# The debug kernel registers them 12 times slower (3000: 65 s against 5 s,
# measured), past lab_guest's 60 s and the hung task detector's 30 s:
# there a tenth holds RTNL about as long as 3000 do on Debian's kernel.
if lab_debug_kernel; then VFP_NDUMMIES=${VFP_NDUMMIES:-300}; fi
VFP_HOLD_RTNL="modprobe dummy numdummies=${VFP_NDUMMIES:-3000}"
VFP_RTNL_HELD="grep -q coming /sys/module/dummy/initstate"

# vfp_setup_on_vf GUEST: a test's first case: the master addressed and
# transmitting on the VF; sets VF and SYN to the slaves' names.
vfp_setup_on_vf() {
	vfp_master_up "$1" && vfp_wait_path "$1" vf
	check_err $? "master not on the VF"
	VF=$(lab_guest_netdev_by_driver "$1" e1000e)
	SYN=$(lab_guest_netdev_by_driver "$1" virtio_net)
	log_test "$VFP_PAIRING pair up, transmit on the VF"
}

# vfp_lowers GUEST MASTER: the master's slaves, sorted, on one line.
vfp_lowers() {
	lab_guest "$1" "ls -d /sys/class/net/$2/lower_* 2>/dev/null | sed 's/.*lower_//' | sort | xargs"
}

# vfp_master_up GUEST [MASTER]: addresses the master and waits until the
# peer answers through it.
vfp_master_up() {
	lab_guest_net "$1" "${2:-$VFP_MASTER}" &&
		busywait 15000 lab_guest "$1" "ping -c 1 -W 1 $LAB_PEER_IP4 >/dev/null"
}

# vfp_flows_start GUEST NAME SECONDS: flowgen both ways at VFP_RATE.
vfp_flows_start() { lab_flows_start "$1" "$2" "$3" "$VFP_RATE"; }

# vfp_flows_wait GUEST NAME: waits for both reports; sets LOST_IN/LOST_OUT.
vfp_flows_wait() {
	fg_guest_report "$1" "$2-in" 90000 && fg_wait "$2-out" 90000 || return 1
	LOST_IN=$(json "$LAB_DIR/$2-in.json" lost)
	LOST_OUT=$(json "$LAB_DIR/$2-out.json" lost)
	GAP_IN=$(json "$LAB_DIR/$2-in.json" max_gap_ms)
	GAP_OUT=$(json "$LAB_DIR/$2-out.json" max_gap_ms)
	log_info "to guest: lost $LOST_IN, max gap $GAP_IN ms; from guest: lost $LOST_OUT, max gap $GAP_OUT ms"
	[ "$(json "$LAB_DIR/$2-in.json" fin)" = true ] &&
		[ "$(json "$LAB_DIR/$2-out.json" fin)" = true ]
}

# vfp_boot GUEST [INSMOD ARGS]: boots and forms the pair as VFP_PAIRING
# says. auto: virtio_net, e1000e, then vfpath (pairing what exists).
# standby: vfpath and the drop-in first, so that virtio_net's dependency
# on net_failover is met by ours, then virtio_net and e1000e.
vfp_boot() {
	local g=$1
	shift
	lab_net_up
	if [ "$VFP_PAIRING" = standby ]; then
		lab_guest_start "$g" failover
		lab_guest "$g" "insmod $VFP_KO $* && insmod $VFP_DROPIN_KO &&
			echo 1 > /sys/kernel/tracing/events/vfpath/enable &&
			modprobe virtio_net && modprobe e1000e"
	else
		lab_guest_start "$g" auto
		lab_guest "$g" "modprobe virtio_net && modprobe e1000e && insmod $VFP_KO $* &&
			echo 1 > /sys/kernel/tracing/events/vfpath/enable"
	fi || return
	# Which kernel ran the test (LAB_KVER, tests/run's NAME@X.Y).
	log_info "guest $g: Linux $(lab_guest "$g" "uname -r")"
}
