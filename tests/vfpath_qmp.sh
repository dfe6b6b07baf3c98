#!/usr/bin/env bash
# vfpath-qmp against a real QEMU's monitor (a bare `-machine none` QEMU, no
# guest): quit is a success however QEMU ends the session. QEMU runs a
# command when its closing brace arrives and may close the socket at once
# after quit, before a reply or before a newline sent apart from the command
# (vfpath-qmp once wrote them apart and, 7 times in 100 here, exited 2 with
# nothing printed: vfpath-migrate then failed a migration that had worked).
# A monitor that is gone is an error that says so.
source "$(dirname "$0")/lib.sh"

ALL_TESTS="
	qmp_quit_always_succeeds
	qmp_command_answered
	qmp_gone_monitor_says_so
"
QUITS=${VFP_QUITS:-100}

# bare_qemu: starts a bare QEMU with its monitor on $LAB_DIR/bare.sock.
bare_qemu() {
	rm -f "$LAB_DIR/bare.sock"
	"$(lab_qemu_bin)" -name "vfpath-$LAB_ID-bare" -machine none -nodefaults \
		-display none -S -qmp "unix:$LAB_DIR/bare.sock,server=on,wait=off" \
		</dev/null >>"$LAB_DIR/bare.log" 2>&1 &
	BARE_PID=$!
	busywait 10000 test -S "$LAB_DIR/bare.sock"
}

qmp_quit_always_succeeds() {
	local i rc bad=0 why=""
	for i in $(seq "$QUITS"); do
		bare_qemu || { check_err 1 "QEMU's monitor did not appear: $(tail -n 2 "$LAB_DIR/bare.log")"; break; }
		rc=0
		"$LAB_QMP" "$LAB_DIR/bare.sock" quit >/dev/null 2>"$LAB_DIR/quit.err" || rc=$?
		wait "$BARE_PID" 2>/dev/null
		if [ $rc -ne 0 ]; then
			bad=$((bad + 1))
			[ -n "$why" ] || why="exit $rc, printed '$(tr '\n' ' ' <"$LAB_DIR/quit.err")'"
		fi
	done
	[ $bad -eq 0 ]
	check_err $? "$bad of $QUITS quits failed (first: $why)"
	log_test "quit: exit 0 in each of $QUITS sessions, however QEMU closes"
}

qmp_command_answered() {
	local out
	bare_qemu
	check_err $? "QEMU's monitor did not appear"
	out=$("$LAB_QMP" "$LAB_DIR/bare.sock" query-status quit 2>&1)
	check_err $? "query-status quit failed: $out"
	jq -e '.status == "prelaunch"' <<<"$(head -n 1 <<<"$out")" >/dev/null
	check_err $? "query-status answered '$out', not status prelaunch"
	wait "$BARE_PID" 2>/dev/null
	log_test "a command's answer, then quit, on one connection"
}

qmp_gone_monitor_says_so() {
	local rc=0 err
	err=$("$LAB_QMP" "$LAB_DIR/bare.sock" query-status 2>&1 >/dev/null) || rc=$?
	[ $rc -eq 2 ] && grep -q "cannot connect to $LAB_DIR/bare.sock" <<<"$err"
	check_err $? "exit $rc, printed '$err' (want 2 and 'cannot connect')"
	log_test "a monitor that is gone: exit 2, saying so"
}

lab_init
run_all_tests
exit $EXIT_STATUS
