#!/usr/bin/env bash
# The build matrix (make kernels): vfpath.ko and the drop-in build with
# W=1, no warning, and the drop-in's CRCs match, against Debian 12's 6.1
# and 6.12 in both flavours and the newest kernel Debian has; and which
# kernel the lab boots does not depend on what else is installed.
source "$(dirname "$0")/lib.sh"

ALL_TESTS="
	kern_matrix
	kern_matrix_covers
	kern_lab_default
"
TOP=$(cd "$TESTS_DIR/.." && pwd)
OUT=$LAB_BUILD/kernels
KV=$TOP/scripts/lab/kernel-version

kern_matrix() {
	local line rel
	"$TOP/scripts/build/kernels" -o "$OUT" >"$OUT.log" 2>&1
	while IFS= read -r line; do
		rel=$(awk '{print $2}' <<<"$line")
		case "$line" in
		"kernels: "*" ok "*) log_info "${line#kernels: }" ;;
		"kernels: "*" FAIL: "*) check_err 1 "${line#*FAIL: }" ;;
		*) continue ;;
		esac
		log_test "W=1 build, no warning, drop-in CRCs checked: $rel"
	done <"$OUT.log"
	grep -q '^kernels: ' "$OUT.log"
	check_err $? "scripts/build/kernels printed nothing: $(tail -n 3 "$OUT.log" | xargs)"
	log_test "scripts/build/kernels ran"
}

# One of each: 6.1 and 6.12 generic and cloud, and one newer than 6.12.
kern_matrix_covers() {
	local m=$OUT/matrix.tsv want miss=""
	for want in '^6\.1\.[0-9]+-[0-9]+-amd64' '^6\.1\.[0-9]+-[0-9]+-cloud-amd64' \
		'^6\.12\.[0-9]+\+deb12-amd64' '^6\.12\.[0-9]+\+deb12-cloud-amd64'; do
		grep -Eq "$want"$'\tok' "$m" || miss+=" ${want//\\/}"
	done
	awk -F'\t' '$2 == "ok" { split($1, v, /[.-]/); if (v[1] > 6 || (v[1] == 6 && v[2] > 12)) f = 1 } END { exit !f }' "$m" ||
		miss+=" newest(>6.12)"
	[ -z "$miss" ]
	check_err $? "not built clean:$miss (matrix: $(cut -f1,2 "$m" | xargs))"
	log_info "built: $(awk -F'\t' '$2 == "ok" {print $1}' "$m" | xargs)"
	log_test "the matrix covers 6.1 and 6.12, generic and cloud, and the newest kernel"
}

# Installing 6.12 must not move the lab off Debian's default kernel;
# LAB_KVER picks another, and a bad one is refused by name.
kern_lab_default() {
	local def meta err
	meta=$(dpkg-query -W -f='${Depends}' linux-image-amd64 | grep -o 'linux-image-[^ ,(]*' | head -n 1)
	def=$(LAB_KVER='' "$KV")
	[ "$def" = "${meta#linux-image-}" ]
	check_err $? "the lab boots $def by default, not linux-image-amd64's ${meta#linux-image-}"
	[ "$("$KV" --all | tail -n 1)" != "$def" ]
	check_err $? "no newer kernel installed than the default: this checks nothing ($("$KV" --all | xargs))"
	[ "$(LAB_KVER="$("$KV" --series 6.12)" "$KV")" = "$("$KV" --series 6.12)" ]
	check_err $? "LAB_KVER=6.12's kernel not taken"
	err=$(LAB_KVER=0.0-nope "$KV" 2>&1)
	[ $? -eq 1 ] && grep -q 'LAB_KVER=0.0-nope' <<<"$err"
	check_err $? "a bad LAB_KVER was not refused by name: $err"
	log_info "default $def; installed: $("$KV" --all | xargs)"
	log_test "the lab's default kernel is Debian's default, not the newest installed"
}

mkdir -p "$OUT"
run_all_tests
exit $EXIT_STATUS
