#!/usr/bin/env bash
# scripts/build/apt-deb-src derives deb-src entries from the machine's own apt
# sources (one-line .list and deb822 .sources), never from a host name of
# its own. Each case builds a fake root (--root) in a temporary directory;
# the mirrors are made up.
source "$(dirname "$0")/lib.sh"

ALL_TESTS="
	as_deb822_default
	as_oneline_options
	as_existing_src_kept
	as_disabled_files_ignored
	as_enabled_no_ignored
	as_several_uris_inline_key
	as_missing_suite_fails
	as_idempotent
	as_print_changes_nothing
	as_usage
"
ADS=$TESTS_DIR/../scripts/build/apt-deb-src
WORK=$(mktemp -d)
cleanup() { rm -rf "$WORK"; test_cleanup; }
trap cleanup EXIT

KEY=/usr/share/keyrings/example-archive-keyring.gpg
N=0

# mkroot: a new fake root with a bookworm os-release; sets R, SL (its
# sources.list.d) and OUT (the file apt-deb-src writes).
mkroot() {
	N=$((N + 1))
	R=$WORK/r$N
	SL=$R/etc/apt/sources.list.d
	OUT=$SL/vfpath-deb-src.sources
	mkdir -p "$SL"
	printf '%s\n' 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"' 'VERSION_ID="12"' \
		'VERSION_CODENAME=bookworm' 'ID=debian' >"$R/etc/os-release"
}

# ads [ARGS]: apt-deb-src on $R; stdout in $R.out, stderr in $R.err, the
# exit status in RC.
ads() {
	RC=0
	"$ADS" --root "$R" "$@" >"$R.out" 2>"$R.err" || RC=$?
}

# stanzas FILE: FILE without its comment lines.
stanzas() { grep -v '^#' "$1"; }

# expect TEXT: the written file's stanzas are TEXT; else RETMSG says how not.
expect() {
	[ "$RC" -eq 0 ] || { RETMSG="exit $RC: $(head -n 3 "$R.err")"; return 1; }
	[ -f "$OUT" ] || { RETMSG="no $OUT written: $(head -n 3 "$R.err")"; return 1; }
	[ "$(stanzas "$OUT")" = "$1" ] || {
		RETMSG="unexpected file: $(diff <(echo "$1") <(stanzas "$OUT") | tr '\n' '|')"
		return 1
	}
}

added() { grep -c '^apt-deb-src: deb-src for ' "$R.err"; }

# Debian's default debian.sources, on made-up mirrors.
debian_sources() {
	cat >"$SL/debian.sources" <<EOF
Types: deb
# a comment inside a stanza
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: $KEY

Types: deb
URIs: http://security.example/debian-security
Suites: bookworm-security
Components: main
Signed-By: $KEY
EOF
}

DEFAULT_SRC="
Types: deb-src
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: $KEY

Types: deb-src
URIs: http://security.example/debian-security
Suites: bookworm-security
Components: main
Signed-By: $KEY"

as_deb822_default() {
	mkroot
	debian_sources
	ads
	expect "$DEFAULT_SRC"
	check_err $? "$RETMSG"
	[ "$(added)" -eq 3 ] && grep -q "deb-src for bookworm-security from http://security.example/debian-security ($SL/debian.sources)" "$R.err"
	check_err $? "stderr: $(tr '\n' '|' <"$R.err")"
	log_test "deb822 main + security: 3 suites, same URIs and Signed-By"
}

as_oneline_options() {
	mkroot
	cat >"$R/etc/apt/sources.list" <<EOF
# deb http://old.example/debian bookworm main

deb [signed-by=$KEY arch=amd64] http://mirror.example/debian bookworm main contrib
deb [ arch=amd64 signed-by=$KEY ] http://mirror.example/debian bookworm-updates main contrib # updates
	deb [signed-by=$KEY] http://security.example/debian-security bookworm-security main contrib
EOF
	ads
	expect "
Types: deb-src
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main contrib
Signed-By: $KEY

Types: deb-src
URIs: http://security.example/debian-security
Suites: bookworm-security
Components: main contrib
Signed-By: $KEY"
	check_err $? "$RETMSG"
	! grep -qs old.example "$OUT"
	check_err $? "a commented-out entry was used"
	log_test "one-line .list, [signed-by= arch=] options, comments: same"
}

# A deb-src for bookworm already (one-line, in a .list): only the others.
as_existing_src_kept() {
	mkroot
	debian_sources
	echo "deb-src [signed-by=$KEY] http://mirror.example/debian/ bookworm main" >"$SL/src.list"
	ads
	expect "
Types: deb-src
URIs: http://mirror.example/debian
Suites: bookworm-updates
Components: main
Signed-By: $KEY

Types: deb-src
URIs: http://security.example/debian-security
Suites: bookworm-security
Components: main
Signed-By: $KEY"
	check_err $? "$RETMSG"
	[ "$(added)" -eq 2 ] && ! grep -q "deb-src for bookworm from" "$R.err"
	check_err $? "stderr: $(tr '\n' '|' <"$R.err")"
	log_test "a deb-src for one suite exists: only the others added"
}

as_disabled_files_ignored() {
	mkroot
	debian_sources
	echo "deb http://other.example/debian bookworm main" >"$SL/other.list.disabled"
	echo "deb http://other.example/debian bookworm main" >"$SL/other.list.disabled-by-farm"
	printf 'Types: deb\nURIs: http://other.example/debian\nSuites: bookworm\nComponents: main\n' \
		>"$SL/other.sources.disabled-by-farm"
	echo "deb http://other.example/debian bookworm main" >"$SL/not~apt.list"
	ads
	expect "$DEFAULT_SRC"
	check_err $? "$RETMSG"
	! grep -q other.example "$R.err"
	check_err $? "a file apt does not read was read: $(grep other.example "$R.err" | head -n 1)"
	# Only a disabled file has the suite: there is none.
	mkroot
	echo "deb http://other.example/debian bookworm main" >"$SL/other.list.disabled"
	ads bookworm
	[ "$RC" -eq 1 ] && [ ! -e "$OUT" ]
	check_err $? "suite only in a .disabled file: exit $RC"
	log_test "files apt ignores: *.disabled*, bad names"
}

as_enabled_no_ignored() {
	mkroot
	debian_sources
	cat >>"$SL/debian.sources" <<EOF

Types: deb
URIs: http://other.example/debian
Suites: bookworm bookworm-updates bookworm-security
Components: main
Enabled: no
EOF
	ads
	expect "$DEFAULT_SRC"
	check_err $? "$RETMSG"
	log_test "deb822 stanza with Enabled: no ignored"
}

as_several_uris_inline_key() {
	mkroot
	cat >"$SL/multi.sources" <<'EOF'
Types: deb
URIs: http://a.example/debian
 http://b.example/debian
Suites: bookworm bookworm-updates bookworm-security
Components: main non-free-firmware
Signed-By:
 -----BEGIN PGP PUBLIC KEY BLOCK-----
 .
 bWFkZSB1cA==
 -----END PGP PUBLIC KEY BLOCK-----
EOF
	ads
	expect "
Types: deb-src
URIs: http://a.example/debian http://b.example/debian
Suites: bookworm bookworm-updates bookworm-security
Components: main non-free-firmware
Signed-By:
 -----BEGIN PGP PUBLIC KEY BLOCK-----
 .
 bWFkZSB1cA==
 -----END PGP PUBLIC KEY BLOCK-----"
	check_err $? "$RETMSG"
	[ "$(added)" -eq 6 ]
	check_err $? "$(added) lines on stderr, not 6 (2 URIs x 3 suites)"
	log_test "deb822: several URIs and suites, inline Signed-By key kept"
}

as_missing_suite_fails() {
	mkroot
	printf 'Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm\nComponents: main\n' \
		>"$SL/debian.sources"
	ads
	[ "$RC" -eq 1 ] && grep -q 'bookworm-updates bookworm-security' "$R.err" &&
		grep -q "deb-src MIRROR-URI bookworm-security main" "$R.err" &&
		grep -q "$SL/debian.sources" "$R.err" && [ ! -e "$OUT" ]
	check_err $? "exit $RC: $(tr '\n' '|' <"$R.err")"
	mkroot
	debian_sources
	ads trixie
	[ "$RC" -eq 1 ] && grep -q "suite(s) trixie " "$R.err"
	check_err $? "SUITE trixie: exit $RC: $(head -n 1 "$R.err")"
	log_test "no deb entry for a suite: exit 1, naming it and the fix"
}

as_idempotent() {
	local first
	mkroot
	debian_sources
	ads
	expect "$DEFAULT_SRC"
	check_err $? "first run: $RETMSG"
	first=$(cat "$OUT")
	ads
	expect "$DEFAULT_SRC"
	check_err $? "second run: $RETMSG"
	[ "$(cat "$OUT")" = "$first" ] && grep -q "unchanged" "$R.err"
	check_err $? "second run changed the file: $(tail -n 1 "$R.err")"
	# A deb-src added elsewhere since: our file goes.
	sed 's/^Types: deb$/Types: deb deb-src/' "$SL/debian.sources" >"$SL/both.sources"
	rm "$SL/debian.sources"
	ads
	[ "$RC" -eq 0 ] && [ ! -e "$OUT" ] && grep -q "removed $OUT" "$R.err"
	check_err $? "deb-src now in both.sources: exit $RC, $(tail -n 1 "$R.err")"
	log_test "idempotent; the file goes once no longer needed"
}

as_print_changes_nothing() {
	local before
	mkroot
	debian_sources
	before=$(cd "$R" && find . -printf '%p %s %T@\n' | sort)
	ads --print
	[ "$RC" -eq 0 ] && [ ! -e "$OUT" ] && [ "$(cd "$R" && find . -printf '%p %s %T@\n' | sort)" = "$before" ]
	check_err $? "--print: exit $RC, or the root changed"
	[ "$(stanzas "$R.out")" = "$DEFAULT_SRC" ]
	check_err $? "--print output: $(tr '\n' '|' <"$R.out")"
	[ "$(added)" -eq 3 ] && grep -q "nothing changed" "$R.err"
	check_err $? "--print stderr: $(tr '\n' '|' <"$R.err")"
	log_test "--print prints the file and changes nothing"
}

as_usage() {
	mkroot
	ads --bogus
	[ "$RC" -eq 2 ] && grep -q '^usage:' "$R.err"
	check_err $? "--bogus: exit $RC"
	RC=0
	"$ADS" --root >/dev/null 2>&1 || RC=$?
	[ "$RC" -eq 2 ]
	check_err $? "--root without DIR: exit $RC"
	ads --help
	[ "$RC" -eq 0 ] && grep -q '^usage:' "$R.out"
	check_err $? "--help: exit $RC"
	log_test "usage: -h exits 0, bad arguments exit 2 with the usage"
}

run_all_tests
exit $EXIT_STATUS
