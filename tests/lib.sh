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
