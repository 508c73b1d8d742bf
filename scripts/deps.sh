#!/bin/sh
# Install the Debian packages that the given needs name (scripts/packages.txt)
# and that are missing; with no needs, those of every need.
#     scripts/deps.sh build bench
# Prints one line per step; apt-get's own output goes to a log file that the
# lines name (DEPS_LOG, default build/deps.log).  As root it runs apt-get
# itself; otherwise it prints the exact command to run.  Exit 1 when
# something could not be installed, 2 on a bad need.
set -eu

here=$(dirname "$0")
table="$here/packages.txt"
log=${DEPS_LOG:-build/deps.log}

# The packages of one need: every "need: ..." line's list, joined.
packages_of() {
    sed -n "s/^$1:[[:space:]]*//p" "$table" | tr -s ' \t' '  '
}

# Every need the table names, one a line.
needs() {
    sed -n 's/^\([a-z][a-z0-9_-]*\):.*/\1/p' "$table" | sort -u
}

if [ "$#" -eq 0 ]; then
    set -- $(needs)
fi

wanted=""
for need in "$@"; do
    packages=$(packages_of "$need")
    if [ -z "$packages" ]; then
        known=$(needs | tr '\n' ' ' | sed 's/ $//')
        echo "deps: unknown need '$need' (known: $known)" >&2
        exit 2
    fi
    wanted="$wanted $packages"
done

missing=""
for package in $wanted; do
    case " $missing " in *" $package "*) continue ;; esac
    status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
    case "$status" in
        *"install ok installed"*) ;;
        *) missing="$missing $package" ;;
    esac
done

[ -z "$missing" ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
    echo "deps: missing packages:$missing (this is not a Debian-like system; install them by hand)" >&2
    exit 1
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "deps: missing packages; install them with:" >&2
    echo "  sudo apt-get install -y --no-install-recommends$missing" >&2
    exit 1
fi

mkdir -p "$(dirname "$log")"
: > "$log"
export DEBIAN_FRONTEND=noninteractive

# step "what it does" command...: one line, "... done" or "... failed".
step() {
    what=$1
    shift
    printf 'deps: %s ... ' "$what"
    if "$@" >> "$log" 2>&1; then
        echo done
        return 0
    fi
    echo failed
    return 1
}

# A fresh machine has no package lists yet; without them nothing is found.
if ! step "updating the package lists (log: $log)" apt-get update; then
    echo "deps: apt-get update failed; see $log" >&2
    exit 1
fi

if step "installing$missing" apt-get install -y --no-install-recommends $missing; then
    exit 0
fi

# Say which package it was: try them one at a time.
failed=""
for package in $missing; do
    apt-get install -y --no-install-recommends "$package" >> "$log" 2>&1 || failed="$failed $package"
done
echo "deps: could not install${failed:- $missing}; apt-get's output is in $log" >&2
exit 1
