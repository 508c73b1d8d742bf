#!/bin/sh
# Line coverage, per source file, of what the fuzzers' corpora exercise.
#     scripts/fuzz-coverage.sh CORPUS_ROOT CFLAGS... -- SOURCES...
# For each fuzz/fuzz_*.c: builds it with clang's source-based coverage
# (no sanitizers) into build/fuzz/coverage/, runs every input of
# CORPUS_ROOT/<target>/ and fuzz/corpus/<target>/ once, and prints
# llvm-cov's per-file report.  `make fuzz-coverage` runs it.
set -eu

corpus_root=$1
shift
cflags=""
while [ "$1" != "--" ]; do
    cflags="$cflags $1"
    shift
done
shift
out=build/fuzz/coverage
mkdir -p "$out"
for source in fuzz/fuzz_*.c; do
    name=$(basename "$source" .c)
    binary="$out/$name"
    # shellcheck disable=SC2086  # the flags are words
    clang -g -O1 -fsanitize=fuzzer -fprofile-instr-generate -fcoverage-mapping \
        -std=c11 -D_GNU_SOURCE $cflags -o "$binary" "$source" "$@" \
        $(pkg-config --libs libmicrohttpd jansson) -lpthread -lm
    rm -f "$out/$name".*.profraw
    dirs=""
    for dir in "$corpus_root/$name" "fuzz/corpus/$name"; do
        [ -d "$dir" ] && dirs="$dirs $dir"
    done
    # shellcheck disable=SC2086
    LLVM_PROFILE_FILE="$out/$name.%p.profraw" "$binary" -runs=0 $dirs >"$out/$name.log" 2>&1
    llvm-profdata merge -sparse -o "$out/$name.profdata" "$out/$name".*.profraw
    echo "== $name ($(ls $dirs | wc -l) inputs)"
    # The files the target is about: slowserver's and the base layer's.
    llvm-cov report "$binary" -instr-profile="$out/$name.profdata" "$@" \
        | sed -n '1,2p; /^server\//p; /^scenarios\//p; /^TOTAL/p'
done
