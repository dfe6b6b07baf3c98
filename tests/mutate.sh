#!/usr/bin/env bash
# The tests bite: each mutation in tests/mutations/ is a small patch that
# breaks one claim of the module or a host tool (its Breaks: line). It is
# applied to a copy of the tree, the copy is built, and each test named in
# its Killed-by: line runs on the copy and must fail. A mutation that does
# not apply or build fails here too (the list is out of date); one that
# every named test survives fails as "survived".
#
#   MUTATE_SET=fast (default, make check)  the mutations marked Set: fast
#   MUTATE_SET=all  (make mutate, make check-all)  every mutation
#   MUTATE_ONLY="NAME..."  just those
#
# The table (mutation, claim, tests that caught it) is written to
# build/mutate/results.md and printed.
source "$(dirname "$0")/lib.sh"

MUTATIONS_DIR=$TESTS_DIR/mutations
OUT=$LAB_BUILD/mutate
MUTATE_SET=${MUTATE_SET:-fast}
# One test on a mutated tree: a hang is a failure of the test, bounded.
MUTATE_TEST_TIMEOUT=${MUTATE_TEST_TIMEOUT:-1800}

case "$MUTATE_SET" in
fast | all) ;;
*) echo "MUTATE_SET must be fast or all, not '$MUTATE_SET'" >&2; exit 1 ;;
esac

# field PATCH NAME: the value of header line "NAME: value".
field() { sed -n "s/^$2: //p;/^diff /q" "$1" | head -n 1; }

# copy_tree DST: the tree as it is (tracked and untracked files, not the
# ignored ones such as build/), without git.
copy_tree() {
	mkdir -p "$1"
	git -C "$LAB_TOP" ls-files -z --cached --others --exclude-standard |
		tar -C "$LAB_TOP" --null -T - --ignore-failed-read -cf - 2>/dev/null |
		tar -C "$1" -xf -
}

ROWS=()

# mutate PATCH: runs one mutation; records a row for the table.
mutate() {
	local p=$1 name breaks killers t tree log rc caught="" survived=""
	name=$(field "$p" Mutation)
	breaks=$(field "$p" Breaks)
	killers=$(field "$p" Killed-by)
	[ -n "$name" ] && [ -n "$breaks" ] && [ -n "$killers" ]
	check_err $? "$(basename "$p"): needs Mutation:, Breaks: and Killed-by: lines"
	tree=$WORK/$name
	log=$OUT/$name.log
	: >"$log"
	if [ "$RET" -eq 0 ]; then
		copy_tree "$tree" && patch -d "$tree" -p1 -F0 -s --no-backup-if-mismatch <"$p" >>"$log" 2>&1
		check_err $? "does not apply: $(tail -n 2 "$log" | xargs)"
	fi
	if [ "$RET" -eq 0 ]; then
		make -s -C "$tree" lab-deps >>"$log" 2>&1
		check_err $? "the mutated tree does not build: $(grep -m1 -E 'error|Error' "$log")"
	fi
	if [ "$RET" -eq 0 ]; then
		for t in $killers; do
			rc=0
			echo "## $t" >>"$log"
			VFPATH_DEPS_BUILT=1 timeout "$MUTATE_TEST_TIMEOUT" "$tree/tests/run" "$t" >>"$log" 2>&1 || rc=$?
			# A test whose lab could not be built (NAME@X.Y, NAME@debug)
			# never ran: that is no kill.
			if [ "$rc" -ne 0 ] && grep -q "^TEST: $t: no lab for " \
				"$tree/build/test-logs/$(tr ":@" -- <<<"$t").out" 2>/dev/null; then
				check_err 1 "$t did not run: $(grep -m1 "^TEST: $t: no lab for " "$tree/build/test-logs/$(tr ":@" -- <<<"$t").out" | cut -c1-200)"
			elif [ "$rc" -ne 0 ]; then
				caught+=" $t"
				log_info "$name: $t failed ($(grep -m1 '\[FAIL\]' "$tree/build/test-logs/$(tr ":@" -- <<<"$t").out" 2>/dev/null |
					sed 's/ *\[FAIL\]$//; s/^TEST: //' || echo "exit $rc"))"
			else
				survived+=" $t"
			fi
		done
		[ -z "$survived" ]
		check_err $? "survived$survived (log: $log)"
	fi
	local verdict=killed
	[ -z "$survived" ] || verdict="SURVIVED$survived"
	[ "$RET" -eq 0 ] || [ -n "$survived" ] || verdict="ERROR: $RETMSG"
	ROWS+=("| $name | $breaks | ${caught# } | $verdict |")
	# The copy is kept when the verdict needs reading.
	[ "$RET" -ne 0 ] || rm -rf "$tree"
	log_test "mutation $name: killed by $killers"
}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/vfpath-mutate.XXXXXX")
cleanup_work() { rm -rf "$WORK"; test_cleanup; }
trap cleanup_work EXIT
mkdir -p "$OUT"

patches=()
for p in "$MUTATIONS_DIR"/*.patch; do
	name=$(field "$p" Mutation)
	if [ -n "${MUTATE_ONLY:-}" ]; then
		[[ " $MUTATE_ONLY " == *" $name "* ]] || continue
	elif [ "$MUTATE_SET" = fast ]; then
		[ "$(field "$p" Set)" = fast ] || continue
	fi
	patches+=("$p")
done
if [ ${#patches[@]} -eq 0 ]; then
	echo "TEST: mutations ($MUTATE_SET${MUTATE_ONLY:+: $MUTATE_ONLY})                 [FAIL]"
	printf "\tnone selected in %s\n" "$MUTATIONS_DIR"
	exit 1
fi
log_info "${#patches[@]} mutations ($MUTATE_SET${MUTATE_ONLY:+, only $MUTATE_ONLY}), copies in $WORK"
for p in "${patches[@]}"; do
	mutate "$p"
done

{
	echo "| mutation | breaks the claim | caught by | verdict |"
	echo "|---|---|---|---|"
	printf '%s\n' "${ROWS[@]}"
} >"$OUT/results.md"
cat "$OUT/results.md"
exit $EXIT_STATUS
