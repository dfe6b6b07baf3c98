# shellcheck shell=bash
# kselftest-style helpers for vfpath's tests. A test script sources this,
# lists its cases in ALL_TESTS, and ends with `run_all_tests; exit $EXIT_STATUS`.
# Exit codes: 0 pass, 1 fail, 4 skip.

set -uo pipefail

TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../scripts/lab.sh
source "$TESTS_DIR/../scripts/lab.sh"

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

# check_fail RC MSG: records a failure if RC is zero (it should have failed).
check_fail() {
	if [ "$RET" -eq 0 ] && [ "$1" -eq 0 ]; then
		RET=1
		RETMSG=$2
	fi
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
# BUG, a refcount problem or a leaked netdev reference.
guest_dmesg_clean() {
	local bad
	bad=$(lab_guest "$1" "dmesg | grep -E 'WARNING:|BUG:|refcount_t|unregister_netdevice: waiting|Oops|general protection|RIP:'")
	[ -z "$bad" ] || { echo "$bad" | head -n 5; return 1; }
}

# json FILE FIELD: a top-level field of a flowgen report.
json() { jq -r ".$2" "$1"; }

# In the guest, flowgen runs detached; its report lands in /tmp/NAME.json.
# fg_guest_recv GUEST NAME PORT [ARGS...]: starts a receiver, waits for it.
fg_guest_recv() {
	local g=$1 name=$2 port=$3
	shift 3
	lab_guest "$g" "rm -f /tmp/$name.ready; setsid flowgen recv --port $port \
		--ready /tmp/$name.ready --out /tmp/$name.json $* </dev/null \
		>/tmp/$name.log 2>&1 &" || return 1
	busywait 10000 lab_guest "$g" "test -e /tmp/$name.ready"
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
	busywait "${3:-30000}" lab_guest "$1" "test -s /tmp/$2.json" || return 1
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
	busywait 10000 test -e "$LAB_DIR/$name.ready"
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
fg_wait() { busywait "${2:-30000}" test -s "$LAB_DIR/$1.json"; }
