#!/bin/sh
# Run each cmocka test program given as an argument, keep going after a
# failure, and end with one line that totals them: "tests: N passed, N failed".
# Exit status is non-zero if any program failed or could not run.
set -u

passed=0
failed=0
skipped=0
broken=""
for program in "$@"; do
    echo "== $program"
    log=$(mktemp)
    "$program" 2>&1 | tee "$log"
    status=$?
    # cmocka closes each group with "[  PASSED  ] N test(s)." and, when
    # something failed, "[  FAILED  ] N test(s), listed below:".
    ok=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
    bad=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
    # A test that cannot run here (make test-browser without chromium) says
    # why and is skipped: counted as such, never as passed.
    skip=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
    rm -f "$log"
    passed=$((passed + ok))
    failed=$((failed + bad))
    skipped=$((skipped + skip))
    if [ "$bad" -eq 0 ] && [ "$ok" -eq 0 ] && [ "$skip" -eq 0 ]; then
        broken="$broken $program"     # crashed before cmocka could report
    fi
done

if [ -n "$broken" ]; then
    echo "tests: these programs reported no result (crash?):$broken"
    failed=$((failed + 1))
fi
summary="tests: $passed passed, $failed failed"
[ "$skipped" -gt 0 ] && summary="$summary, $skipped SKIPPED (the lines above say why)"
echo "$summary"
[ "$failed" -eq 0 ]
