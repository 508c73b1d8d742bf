#!/bin/sh
# Install the Debian packages asynclab needs, but only those that are missing.
# As root it runs apt-get itself; otherwise it prints the exact command to run.
set -eu

PACKAGES="build-essential pkg-config libcurl4-openssl-dev libmicrohttpd-dev \
libsqlite3-dev libjansson-dev libcmocka-dev hyperfine gnuplot-nox valgrind wrk \
postgresql libpq-dev"

missing=""
for package in $PACKAGES; do
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

echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# A fresh machine has no package lists yet; without them nothing is found.
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing
