#!/bin/sh
# Check the values a user gave make (SCALE=abc, RUNS=two, ...) before
# anything is built: a typo must not first cost a full build and the lesson
# database.  Each argument is NAME:KIND; the value is read from the
# environment, where make puts every variable given on its command line.
# An unset value is make's default and is not checked.  The programs check
# the exact ranges again; this only catches what can never be right.
#     scripts/check-values.sh SCALE:number RUNS:count
# Kinds: number (0.1, 2), number-or-quick, count (5), counts (3,100,1000).
# Exit 1 with one line on stderr naming the first bad value.
set -eu

for check in "$@"; do
    name=${check%%:*}
    kind=${check#*:}
    value=$(printenv "$name" || true)
    [ -z "$value" ] && continue
    case "$kind" in
        number-or-quick) [ "$value" = quick ] && continue; kind=number; example="quick or 0.1" ;;
        number) example=0.1 ;;
        count) example=5 ;;
        counts) example=3,100,1000 ;;
        *) echo "check-values: unknown kind '$kind'" >&2; exit 2 ;;
    esac
    case "$kind:$value" in
        number:*[!0-9.]* | number:*.*.* | number:. | \
        count:*[!0-9]* | \
        counts:*[!0-9,]* | counts:,* | counts:*, | counts:*,,*)
            echo "make: $name=$value is not a valid value (for example $name=$example)" >&2
            exit 1 ;;
    esac
done
