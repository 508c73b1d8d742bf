#!/bin/sh
# Run slowserver, every program of the scenarios that use it, the database
# programs (the PostgreSQL pair against a small cluster) and the harness under valgrind's memcheck once, at a tiny scale,
# and fail on any memory error or leak.  `make memcheck`.
# (The sanitizer build catches most of this faster; valgrind also sees the
# libraries' own allocations that sanitizers do not track.)
set -u
bin=${1:-build/bin}
log_dir=$(mktemp -d)
valgrind="valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect"
failed=0

# Prints where a server started with its stdout in FILE listens, once its
# first line ("listening on URL") is there: valgrind makes it slow to start.
# Nothing after 10 s.
listening_url() {
    for _ in $(seq 1 100); do
        [ -s "$1" ] && break
        sleep 0.1
    done
    sed -n 's/^listening on //p' "$1"
}

$valgrind --log-file="$log_dir/server.log" "$bin/slowserver" --port 0 --quiet > "$log_dir/server.out" &
server_pid=$!
url=$(listening_url "$log_dir/server.out")
if [ -z "$url" ]; then
    echo "memcheck: slowserver did not start"; kill "$server_pid" 2>/dev/null; exit 1
fi

# A live viewer watches everything below, so the event stream (server/live.c)
# is checked too; the server ends it when it stops.
viewer_pid=""
if command -v curl >/dev/null 2>&1; then
    curl -sN "$url/live/events" > /dev/null &
    viewer_pid=$!
else
    echo "memcheck: no curl on PATH, so no live viewer attached"
fi

for program in "$bin"/slow_api_* "$bin"/event_loops_* "$bin"/blocking_pitfall_* \
               "$bin"/producer_consumer_*; do
    name=$(basename "$program")
    # Where the kernel gives no io_uring, its program says so and exits 2.
    if [ "$name" = event_loops_async_uring ] && ! why=$("$program" --url "$url" --delays 0 \
            --quiet 2>&1 >/dev/null) && echo "$why" | grep -q "io_uring is not available"; then
        echo "memcheck: $name skipped: $why"; continue
    fi
    if $valgrind --log-file="$log_dir/$name.log" "$program" --url "$url" --scale 0.02 --quiet > /dev/null; then
        echo "memcheck: $name clean"
    else
        echo "memcheck: $name FAILED"; cat "$log_dir/$name.log"; failed=1
    fi
done

# The timeouts batch fails partly by design (exit 3); valgrind's own exit
# status (99) is what marks a memory error.  Once as it is, and once through
# the cancellation paths (--fail-fast, and a deadline that cuts /hang short).
for program in "$bin"/timeouts_*; do
    name=$(basename "$program")
    for flags in "" "--fail-fast --timeout 0 --deadline 10"; do
        # shellcheck disable=SC2086  # $flags is a list of flags on purpose
        $valgrind --log-file="$log_dir/$name.log" "$program" --url "$url" --scale 0.02 --quiet \
            $flags > /dev/null
        if [ $? -eq 3 ]; then
            echo "memcheck: $name${flags:+ $flags} clean"
        else
            echo "memcheck: $name${flags:+ $flags} FAILED"; cat "$log_dir/$name.log"; failed=1
        fi
    done
done

# The database lesson needs no server: its generator and both programs, on a
# small database made for the purpose.
db="$log_dir/small.db"
for step in "database_makedb --out $db --cities 2000 --quiet" \
            "database_sync --db $db --quiet" "database_async --db $db --quiet"; do
    name=${step%% *}
    # shellcheck disable=SC2086  # $step is a command line on purpose
    if $valgrind --log-file="$log_dir/$name.log" "$bin"/$step > /dev/null; then
        echo "memcheck: $name clean"
    else
        echo "memcheck: $name FAILED"; cat "$log_dir/$name.log"; failed=1
    fi
done

# The PostgreSQL pair, against a small cluster of their own (scripts/pg.sh),
# removed again at the end, on Ctrl+C too.
pg_script="$(dirname "$0")/pg.sh"
pg_dir="$log_dir/pg"
chmod 755 "$log_dir"  # the server's own user must reach the cluster inside it
trap 'sh "$pg_script" remove "$pg_dir" >/dev/null 2>&1; exit 130' INT TERM
if sh "$pg_script" start "$pg_dir" --cities 2000 --makedb "$bin/database_makedb" >/dev/null; then
    conninfo="host=$(readlink -f "$pg_dir") user=asynclab dbname=asynclab"
    for name in database_sync_postgres database_async_postgres; do
        if $valgrind --log-file="$log_dir/$name.log" "$bin/$name" --conninfo "$conninfo" \
                --quiet > /dev/null; then
            echo "memcheck: $name clean"
        else
            echo "memcheck: $name FAILED"; cat "$log_dir/$name.log"; failed=1
        fi
    done
else
    echo "memcheck: PostgreSQL did not start"; failed=1
fi
sh "$pg_script" remove "$pg_dir"
trap - INT TERM

# The service lesson's gateways are servers: each runs under valgrind while
# gateway_load sends it three clients at once, then SIGTERM stops it.
for program in "$bin"/service_*; do
    name=$(basename "$program")
    $valgrind --log-file="$log_dir/$name.log" "$program" --port 0 --upstream "$url" \
        --scale 0.02 --quiet > "$log_dir/$name.out" &
    gateway_pid=$!
    gateway=$(listening_url "$log_dir/$name.out")
    driven=1
    [ -n "$gateway" ] && "$bin/gateway_load" --gateway "$gateway" --k 3 > /dev/null && driven=0
    kill -TERM "$gateway_pid"
    if wait "$gateway_pid" && [ "$driven" -eq 0 ]; then
        echo "memcheck: $name clean"
    else
        echo "memcheck: $name FAILED"; cat "$log_dir/$name.log"; failed=1
    fi
done

# The harness: bench on one scenario at a tiny scale (it starts its own
# server; the programs it times are checked above), report on the test
# fixtures, run_scenario against the server above, and the lab grader on
# the lesson's own program (it starts its own servers; its memory check,
# valgrind inside valgrind, is left out).
for step in "bench --scenario slow_api --scale 0.01 --runs 1 --warmup 0 --sweep-ks 1,2 --out $log_dir/bench" \
            "report tests/fixtures/report --out $log_dir/report" \
            "run_scenario --scenario slow_api --scale 0.01 --url $url" \
            "grade --lab slow_api --src scenarios/slow_api/async.c --seed 1 --no-memcheck" \
            "gateway_load --scale 0.01 --k 1,2 --variants sync,async --upstream $url"; do
    name=${step%% *}
    # shellcheck disable=SC2086  # $step is a command line on purpose
    if $valgrind --log-file="$log_dir/$name.log" "$bin"/$step > /dev/null; then
        echo "memcheck: $name clean"
    else
        echo "memcheck: $name FAILED"; cat "$log_dir/$name.log"; failed=1
    fi
done

kill -TERM "$server_pid"
[ -n "$viewer_pid" ] && wait "$viewer_pid"
if wait "$server_pid"; then
    echo "memcheck: slowserver${viewer_pid:+ (with a live viewer)} clean"
else
    echo "memcheck: slowserver FAILED"; cat "$log_dir/server.log"; failed=1
fi
rm -rf "$log_dir"
exit $failed
