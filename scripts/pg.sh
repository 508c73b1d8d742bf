#!/bin/sh
# The database lesson's own PostgreSQL: a throwaway cluster under build/,
# reachable only through a Unix socket in its own directory (no TCP at all),
# loaded with the same rows as the SQLite file (database_makedb --postgres,
# bulk-loaded with COPY).  docs/database.md.
#
#   scripts/pg.sh start DIR [--cities N] [--seed S] [--makedb PATH]
#       initdb on first use, start the server, load the rows unless DIR
#       already holds exactly these (N and S); prints nothing but errors
#       unless it had something to do.
#   scripts/pg.sh stop DIR
#       stop the server (fast shutdown); the data stays for the next start.
#   scripts/pg.sh with DIR [start options] -- COMMAND...
#       start, run COMMAND, stop again: also on Ctrl+C and when COMMAND
#       fails.  A server that was already running is left running, and with
#       PGHOST, PGPORT, PGDATABASE or PGSERVICE set (the user's own server)
#       nothing is started at all.
#   scripts/pg.sh remove DIR
#       stop the server and delete the cluster.
#
# The programs find the cluster the same way: DIR is build/pg next to
# build/bin, and its real path (DIR may be a symbolic link) is the socket
# directory, user and database "asynclab".
#
# PostgreSQL refuses to run as root.  As root, the cluster belongs to the
# system user "postgres" (Debian's package creates it), or "nobody"; if that
# user cannot reach DIR (a checkout under /root) or DIR's path is too long
# for a socket name, the cluster lives in a fresh directory under /tmp and
# DIR is a symbolic link to it.  Exit status: 0, 1 bad usage, 2 PostgreSQL
# missing or failing to start (one line says what to do).
set -eu

me=pg.sh
DEFAULT_CITIES=3000000
DEFAULT_SEED=2024
# sun_path holds 108 bytes; leave room for "/.s.PGSQL.5432" and its NUL.
SOCKET_DIR_MAX=90

fail() { echo "$me: $2" >&2; exit "$1"; }

usage() {
    fail 1 "usage: pg.sh start|stop|remove DIR, or pg.sh with DIR -- COMMAND; start and with take [--cities N] [--seed S] [--makedb PATH] (the top of scripts/pg.sh explains them)"
}

# ------------------------------------------------------------ finding things

# The directory holding initdb, pg_ctl, postgres and psql.  Debian keeps
# them out of PATH, under /usr/lib/postgresql/VERSION/bin; pg_config
# (libpq-dev) names it.
find_bindir() {
    if command -v pg_config >/dev/null 2>&1; then
        dir=$(pg_config --bindir 2>/dev/null || true)
        if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then echo "$dir"; return; fi
    fi
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -n -r); do
        if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then echo "$dir"; return; fi
    done
    fail 2 "PostgreSQL's server is not installed; install it with: make deps"
}

# Who runs the server: ourselves, or an unprivileged user when we are root.
server_user() {
    if [ "$(id -u)" -ne 0 ]; then id -un; return; fi
    if id postgres >/dev/null 2>&1; then echo postgres; else echo nobody; fi
}

# Runs a command as the server's user.
as_server_user() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u "$user" -- "$@"; else "$@"; fi
}

# ------------------------------------------------------------ the cluster

# The last non-empty line of a log, which says why something failed.
last_line() {
    grep -v '^[[:space:]]*$' "$1" 2>/dev/null | tail -n 1
}

# Makes DIR the cluster's home, or a link to one under /tmp when the server's
# user cannot use DIR or its path is too long for a socket.
make_home() {
    parent=$(dirname "$cluster")
    mkdir -p "$parent"
    parent=$(cd "$parent" && pwd -P)
    home="$parent/$(basename "$cluster")"
    mkdir -p "$home"
    [ "$(id -u)" -eq 0 ] && chown "$user" "$home"
    if [ ${#home} -gt $SOCKET_DIR_MAX ] || ! as_server_user test -w "$home" -a -x "$home"; then
        rmdir "$home"
        home=$(mktemp -d /tmp/asynclab-pg.XXXXXX)
        chmod 755 "$home"
        [ "$(id -u)" -eq 0 ] && chown "$user" "$home"
        ln -s "$home" "$cluster"
    fi
}

# initdb on first use: only the Unix socket, trust for local connections
# (nothing else can connect), and no crash safety, which a throwaway
# cluster does not need and which would slow the load down.
init_cluster() {
    [ -f "$home/data/PG_VERSION" ] && return 0
    rm -rf "$home/data"
    echo "$me: creating a PostgreSQL cluster in $home"
    if ! as_server_user "$bindir/initdb" --pgdata="$home/data" --username=asynclab \
            --auth=trust --encoding=UTF8 --locale=C >"$home/initdb.log" 2>&1; then
        fail 2 "initdb failed: $(last_line "$home/initdb.log") (log: $home/initdb.log)"
    fi
    cat >>"$home/data/postgresql.conf" <<EOF
# asynclab (scripts/pg.sh): a throwaway cluster for the database lesson
listen_addresses = ''
unix_socket_directories = '$home'
port = 5432
fsync = off
synchronous_commit = off
full_page_writes = off
wal_level = minimal
max_wal_senders = 0
# One backend process per connection and nothing else: the lesson's model
# (docs/database.md; its exercise turns parallel query back on).
max_parallel_workers_per_gather = 0
EOF
}

is_running() {
    as_server_user "$bindir/pg_ctl" status --pgdata="$home/data" >/dev/null 2>&1
}

start_server() {
    is_running && return 0
    # Ours to stop from here on, even if Ctrl+C comes while it starts.
    started_here=1
    # -w -t: pg_ctl itself gives up after 30 s, so a server that cannot
    # start never leaves us waiting.
    if ! as_server_user "$bindir/pg_ctl" start --pgdata="$home/data" --log="$home/server.log" \
            --wait --timeout=30 --silent >/dev/null 2>&1; then
        fail 2 "the PostgreSQL server in $home did not start: $(last_line "$home/server.log") (log: $home/server.log)"
    fi
}

stop_server() {
    [ -f "$home/data/postmaster.pid" ] || return 0
    [ -n "${bindir:-}" ] || bindir=$(find_bindir) || exit 2
    as_server_user "$bindir/pg_ctl" stop --pgdata="$home/data" --mode=fast --wait \
        --timeout=30 --silent >/dev/null 2>&1 || true
}

psql_here() {
    "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h "$home" -U asynclab "$@"
}

# Loads the rows unless the cluster already holds exactly these.
load_rows() {
    wanted="$cities $seed"
    [ -f "$home/loaded" ] && [ "$(cat "$home/loaded")" = "$wanted" ] && return 0
    [ -x "$makedb" ] || fail 2 "no generator at $makedb; build it with: make"
    echo "$me: loading $cities cities (seed $seed) into PostgreSQL with COPY"
    rm -f "$home/loaded"
    psql_here -d postgres -tA -c "SELECT 1 FROM pg_database WHERE datname = 'asynclab'" \
        | grep -q 1 || psql_here -d postgres -c "CREATE DATABASE asynclab"
    "$makedb" --postgres --cities "$cities" --seed "$seed" | psql_here -d asynclab >/dev/null \
        || fail 2 "loading the rows failed"
    echo "$wanted" >"$home/loaded"
}

# ------------------------------------------------------------ commands

parse_start_options() {
    cities=$DEFAULT_CITIES
    seed=$DEFAULT_SEED
    makedb="$(dirname "$cluster")/bin/database_makedb"
    while [ $# -gt 0 ]; do
        case "$1" in
            --cities) [ $# -ge 2 ] || usage; cities=$2; shift 2 ;;
            --seed) [ $# -ge 2 ] || usage; seed=$2; shift 2 ;;
            --makedb) [ $# -ge 2 ] || usage; makedb=$2; shift 2 ;;
            --) shift; break ;;
            *) usage ;;
        esac
    done
    rest_count=$#
}

start() {
    bindir=$(find_bindir) || exit 2
    user=$(server_user)
    if [ -e "$cluster" ]; then home=$(readlink -f "$cluster"); else make_home; fi
    init_cluster
    start_server
    load_rows
}

# The cluster DIR names, if there is one (for stop and remove).
find_existing() {
    [ -e "$cluster" ] || return 1
    home=$(readlink -f "$cluster")
    user=$(server_user)
}

[ $# -ge 2 ] || usage
command=$1
cluster=${2%/}
shift 2
started_here=0

case "$command" in
    start)
        parse_start_options "$@"
        [ "$rest_count" -eq 0 ] || usage
        start
        ;;
    stop)
        [ $# -eq 0 ] || usage
        if find_existing; then stop_server; fi
        ;;
    remove)
        [ $# -eq 0 ] || usage
        if find_existing; then stop_server; rm -rf "$home"; fi
        rm -rf "$cluster"
        ;;
    with)
        parse_start_options "$@"
        shift $(($# - rest_count))
        [ $# -gt 0 ] || usage
        if [ -n "${PGHOST:-}${PGPORT:-}${PGDATABASE:-}${PGSERVICE:-}" ]; then
            echo "$me: using your own PostgreSQL (PGHOST/PGPORT/PGDATABASE/PGSERVICE); nothing started"
            exec "$@"
        fi
        # Stop the server on every way out, Ctrl+C included (the terminal
        # sends SIGINT to COMMAND as well, which ends it).
        trap 'if [ "$started_here" -eq 1 ]; then stop_server; fi' EXIT
        trap 'exit 130' INT
        trap 'exit 143' TERM
        start
        status=0
        "$@" || status=$?
        exit $status
        ;;
    *) usage ;;
esac
