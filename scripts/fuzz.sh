#!/bin/sh
# Run each libFuzzer target for SECONDS, starting from its committed seeds.
#     scripts/fuzz.sh SECONDS build/fuzz/fuzz_params build/fuzz/fuzz_request ...
# Seeds: fuzz/corpus/<target>/ (read only here).  What the fuzzer learns goes
# to build/fuzz/corpus/<target>/, kept between runs; a crash, a leak or a
# broken invariant to build/fuzz/findings/<target>-*, and the run fails.
# One line per target at the end: executions, coverage, findings.
set -u

seconds=$1
shift
status=0
for target in "$@"; do
    name=$(basename "$target")
    seeds="fuzz/corpus/$name"
    learned="build/fuzz/corpus/$name"
    findings="build/fuzz/findings"
    log="build/fuzz/$name.log"
    mkdir -p "$learned" "$findings"
    echo "== $name for ${seconds}s (log: $log)"
    # -timeout: one input taking longer than this is a hang, a finding.
    # ASYNCLAB_FUZZ_STALLS: where fuzz_request keeps inputs of stalls it
    # cannot place (docs/fuzzing.md).
    ASYNCLAB_FUZZ_STALLS=$findings "$target" -max_total_time="$seconds" -timeout=10 \
        -rss_limit_mb=1024 -print_final_stats=1 \
        -artifact_prefix="$findings/$name-" "$learned" "$seeds" >"$log" 2>&1
    result=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    coverage=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    # fuzz_request counts the exchanges where libmicrohttpd stalled (docs/fuzzing.md).
    missed=$(grep -c '^fuzz_request: note: the server stalled' "$log")
    note=""
    [ "$missed" -gt 0 ] && note=" ($missed libmicrohttpd stalls, each closed by the client)"
    if [ "$result" -ne 0 ]; then
        status=1
        echo "$name: FINDING after ${runs:-?} executions ($coverage); see $log and $findings/"
        grep -m 3 -E '^(==[0-9]+==ERROR|SUMMARY|fuzz_request: invariant)' "$log"
    else
        echo "$name: ${runs:-?} executions, $coverage, no findings$note"
    fi
done
exit "$status"
