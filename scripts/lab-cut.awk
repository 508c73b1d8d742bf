# lab-cut.awk - cuts a lab's starter out of a lesson's async.c.
#
#     awk -f scripts/lab-cut.awk scenarios/slow_api/async.c > starter/async.c
#
# A lesson marks what its lab takes out with a comment pair:
#
#     /* LAB:cut what the student must write here, as a TODO */
#     ... the lesson's code, left out of the starter ...
#     /* LAB:end code the starter runs instead (optional) */
#
# The starter keeps everything else, the LAB:cut comment becomes a TODO in
# the same place, and the LAB:end comment's code (if any) is kept as code,
# so the starter still builds and runs, one request at a time.  The header
# line that explains the marks is dropped.  Exit status 1 (with a line on
# stderr) if the marks do not pair up or there are none.
BEGIN { state = "keep"; regions = 0 }

FNR == 1 {
    print "/* STARTER for `make lab`, generated from " FILENAME "; edit the TODOs. */"
}

/^ \* \(LAB:cut\/LAB:end/ { next }

# Inside the LAB:cut comment itself: it becomes the TODO.
state == "todo" {
    print
    if ($0 ~ /\*\//)
        state = "skip"
    next
}

/\/\* LAB:cut / {
    if (state != "keep")
        fail("LAB:cut inside another region")
    regions++
    start_line = FNR
    line = $0
    sub(/LAB:cut /, "TODO: ", line)
    print line
    state = ($0 ~ /\*\//) ? "skip" : "todo"
    next
}

/\/\* LAB:end/ {
    if (state != "skip")
        fail("LAB:end without a LAB:cut")
    code = $0
    indent = $0
    sub(/[^ \t].*$/, "", indent)
    sub(/^.*LAB:end[ ]*/, "", code)
    sub(/[ ]*\*\/[ \t]*$/, "", code)
    if (code != "")
        print indent code
    state = "keep"
    next
}

state == "skip" { next }

{ print }

END {
    if (state != "keep")
        fail("LAB:cut at line " start_line " has no LAB:end")
    if (regions == 0)
        fail("no LAB:cut marks")
}

function fail(message) {
    printf "lab-cut: %s: %s\n", FILENAME, message > "/dev/stderr"
    exit 1
}
