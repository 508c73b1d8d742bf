#!/bin/sh
# make-lab.sh LAB DIR FORCE BIN - `make lab LAB=x [DIR=path] [FORCE=1]`:
# writes a student workspace for one lab (docs/labs/README.md):
#   HANDOUT.md  labs/<LAB>/HANDOUT.md with the grader's points filled in
#   async.c     the starter, cut from scenarios/<LAB>/async.c (scripts/lab-cut.awk)
#   Makefile    make, make run, make grade, make handin (labs/workspace.mk)
# Never inside build/ (make clean would delete a student's work) and never
# over an existing workspace unless FORCE=1.
set -eu
lab=$1 dir=$2 force=$3 bin=$4
root=$(pwd)

if [ ! -f "labs/$lab/HANDOUT.md" ]; then
    echo "make lab: no lab '$lab'; labs: $(ls labs | grep -v '\.' | tr '\n' ' ')" >&2
    exit 1
fi
mkdir -p "$(dirname "$dir")"
target=$(cd "$(dirname "$dir")" && pwd)/$(basename "$dir")
case "$target/" in
    "$root"/build/*)
        echo "make lab: $dir is inside build/, which make clean deletes; choose another DIR" >&2
        exit 1 ;;
esac
if [ -e "$target" ] && [ -n "$(ls -A "$target" 2>/dev/null)" ] && [ "$force" != 1 ]; then
    echo "make lab: $dir already exists; FORCE=1 overwrites its HANDOUT.md, async.c and Makefile" >&2
    exit 1
fi

# Everything is written to a scratch folder first: a failed cut leaves no
# half-made workspace behind.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
awk -f scripts/lab-cut.awk "scenarios/$lab/async.c" > "$scratch/async.c"
"$bin/grade" --lab "$lab" --rubric > "$scratch/rubric.md"
awk -v rubric="$scratch/rubric.md" -v root="$root" '
    /^@RUBRIC@$/ { while ((getline line < rubric) > 0) print line; next }
    { gsub(/@ASYNCLAB@/, root); print }' "labs/$lab/HANDOUT.md" > "$scratch/HANDOUT.md"
cat > "$scratch/Makefile" <<MAKEFILE
# A workspace for the asynclab lab '$lab', made by \`make lab\` in $root.
# make: build   make run: run it once   make grade: grade it   make handin: the tarball
ASYNCLAB := $root
LAB := $lab
include \$(ASYNCLAB)/labs/workspace.mk
MAKEFILE

mkdir -p "$target"
cp "$scratch/HANDOUT.md" "$scratch/async.c" "$scratch/Makefile" "$target/"
echo "Wrote the $lab lab to $dir: HANDOUT.md, async.c (the starter), Makefile"
echo "Students: cd $dir && make run && make grade"
