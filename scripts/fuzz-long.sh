#!/bin/sh
# A long fuzzing run measured in CPU time, not wall time (docs/fuzzing.md).
#     scripts/fuzz-long.sh TARGET CPU_SECONDS [MODE]
# e.g. scripts/fuzz-long.sh fuzz_request 620 async
# Runs build/fuzz/TARGET (`make fuzz-build` first) as scripts/fuzz.sh does,
# from the same corpora and with the same flags, at nice 10, under
# /usr/bin/time -v, and stops it with SIGINT (libFuzzer then prints its
# final stats) once the process, all its threads included, has used
# CPU_SECONDS of user + system time.  On a shared machine a wall-clock limit
# says little about how much fuzzing was done; this says exactly.
# MODE is fuzz_request's ASYNCLAB_FUZZ_MODE (async, threads, blocking).
# Writes build/fuzz/long/TARGET-MODE.log and .time.
set -u

name=$1
budget=$2
mode=${3:-async}
out="build/fuzz/long/$name-$mode"
mkdir -p build/fuzz/long "build/fuzz/corpus/$name" build/fuzz/findings
# The wall-clock limit is only a backstop: the CPU budget ends the run.
ASYNCLAB_FUZZ_MODE=$mode ASYNCLAB_FUZZ_STALLS=build/fuzz/findings nice -n 10 /usr/bin/time -v -o "$out.time" \
    "build/fuzz/$name" -max_total_time=$((budget * 10)) -timeout=10 -rss_limit_mb=1024 \
    -print_final_stats=1 -artifact_prefix="build/fuzz/findings/$name-$mode-" \
    "build/fuzz/corpus/$name" "fuzz/corpus/$name" >"$out.log" 2>&1 &
timer=$!
sleep 2
fuzzer=$(pgrep -P "$timer" -f "build/fuzz/$name")
# utime + stime, fields 14 and 15 of /proc/PID/stat, in clock ticks.
ticks=$(getconf CLK_TCK)
while kill -0 "$fuzzer" 2>/dev/null; do
    used=$(awk -v hz="$ticks" '{ print int(($14 + $15) / hz) }' "/proc/$fuzzer/stat" 2>/dev/null)
    if [ -n "$used" ] && [ "$used" -ge "$budget" ]; then
        kill -INT "$fuzzer"
        break
    fi
    sleep 5
done
wait "$timer"
grep -E 'User time|System time|Elapsed' "$out.time"
grep -E '^stat::number_of_executed_units|^fuzz_request: invariant|^SUMMARY' "$out.log"
grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' "$out.log" | tail -1
