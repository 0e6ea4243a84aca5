#!/usr/bin/env bash
# The test runner: runs every program in the given folder in its own process
# with a time limit, prints one line per backend half (PASS/FAIL/SKIP), and
# ends with "N passed, N failed, N skipped".  Exit status 1 if anything failed.
set -u
dir=${1:-build/test}
limit=${TEST_TIME_LIMIT:-120}
pass=0 fail=0 skip=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for t in "$dir"/*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	timeout -k 5 "$limit" "$t" >"$log" 2>"$log.err"
	rc=$?
	lines=0
	while IFS= read -r line; do
		case "$line" in
		PASS\ *) pass=$((pass + 1)); lines=$((lines + 1)); echo "$line" ;;
		FAIL\ *) fail=$((fail + 1)); lines=$((lines + 1)); echo "$line" ;;
		SKIP\ *) skip=$((skip + 1)); lines=$((lines + 1)); echo "$line" ;;
		esac
	done <"$log"
	if [ "$rc" -ne 0 ] && ! grep -q '^FAIL ' "$log"; then
		case $rc in
		77) [ "$lines" -eq 0 ] && { skip=$((skip + 1)); echo "SKIP $name: skipped"; } ;;
		124|137) fail=$((fail + 1)); echo "FAIL $name: time limit (${limit}s) reached" ;;
		*) fail=$((fail + 1)); echo "FAIL $name: exit status $rc" ;;
		esac
	elif [ "$rc" -eq 0 ] && [ "$lines" -eq 0 ]; then
		pass=$((pass + 1)); echo "PASS $name"
	fi
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ -s "$log.err" ]; then
		sed 's/^/    /' "$log.err" | head -20
	fi
	rm -f "$log.err"
done
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
