#!/usr/bin/env bash
# A lab run leaves nothing behind: no QEMU process, namespace, tap, bridge or
# state directory, whether it ends normally, with an error in the guest
# command, or by SIGINT (Ctrl-C) or SIGTERM while the guest runs.
source "$(dirname "$0")/lib.sh"

ALL_TESTS="
	lc_normal_exit
	lc_guest_error
	lc_sigint
	lc_sigterm
"
LAB=$TESTS_DIR/../scripts/lab/lab

# leftovers ID: what of lab instance ID still exists, anywhere.
leftovers() {
	local id=$1
	ip netns list | awk -v id="$id" 'index($1, "vfp-" id "-") == 1 { print "netns " $1 }'
	pgrep -af "vfpath-$id-" | sed 's/^/process /' || true
	ls -d /tmp/vfpath-lab-"$id".* 2>/dev/null | sed 's/^/dir /' || true
	ip -br link | awk -v id="$id" 'index($1, id "-") == 1 { print "link " $1 }'
}

lab_id_of() { sed -n 's/^lab: id \([0-9a-f]*\),.*/\1/p' "$1" | head -n 1; }

# run_and_check NAME CMD...: runs a lab to completion and checks it left nothing.
run_and_check() {
	local log=$LAB_DIR/$1.log id left
	shift
	"$@" >"$log" 2>&1
	echo $? >"$LAB_DIR/rc"
	id=$(lab_id_of "$log")
	[ -n "$id" ] || { RETMSG="no lab id in output: $(tail -n 3 "$log")"; return 1; }
	left=$(leftovers "$id")
	[ -z "$left" ] || { RETMSG="left behind: $left"; return 1; }
}

lc_normal_exit() {
	run_and_check normal "$LAB" run 'ip link show lo >/dev/null'
	check_err $? "$RETMSG"
	[ "$(cat "$LAB_DIR/rc")" = 0 ]
	check_err $? "exit status $(cat "$LAB_DIR/rc"), expected 0"
	log_test "normal exit: nothing left behind"
}

lc_guest_error() {
	run_and_check error "$LAB" run 'exit 3'
	check_err $? "$RETMSG"
	[ "$(cat "$LAB_DIR/rc")" = 3 ]
	check_err $? "exit status $(cat "$LAB_DIR/rc"), expected the guest's 3"
	log_test "guest command fails: its status returned, nothing left"
}

# exited PID: our child PID has ended (gone, or a zombie not yet waited for).
exited() { [ ! -e "/proc/$1" ] || grep -q '^State:[[:space:]]*Z' "/proc/$1/status"; }

# signal_and_check SIG: interrupts a holding lab once its guest is up.
signal_and_check() {
	local sig=$1 log=$LAB_DIR/hold-$1.log pid id left
	# With job control on, the background lab does not inherit an ignored
	# SIGINT (bash's rule for asynchronous commands), like a terminal's;
	# env resets one that this test inherited already ignored (started in
	# the background itself), which no trap could undo.
	set -m
	env --default-signal=INT "$LAB" hold >"$log" 2>&1 &
	pid=$!
	set +m
	busywait 120000 grep -q '^agent:' "$log" || { RETMSG="lab did not come up"; kill -9 $pid; return 1; }
	id=$(lab_id_of "$log")
	pgrep -f "vfpath-$id-" >/dev/null || { RETMSG="no QEMU for lab $id"; return 1; }
	kill "-$sig" $pid
	# A lab that ignores the signal fails the case rather than hang it.
	busywait 30000 exited $pid ||
		{ RETMSG="lab still running 30 s after SIG$sig"; kill -9 $pid; wait $pid; return 1; }
	wait $pid
	left=$(leftovers "$id")
	[ -z "$left" ] || { RETMSG="left behind after SIG$sig: $left"; return 1; }
}

lc_sigint() {
	signal_and_check INT
	check_err $? "$RETMSG"
	log_test "SIGINT while the guest runs: nothing left behind"
}

lc_sigterm() {
	signal_and_check TERM
	check_err $? "$RETMSG"
	log_test "SIGTERM while the guest runs: nothing left behind"
}

lab_init
run_all_tests
exit $EXIT_STATUS
