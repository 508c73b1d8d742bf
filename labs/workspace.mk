# labs/workspace.mk - how a lab workspace builds, runs, grades and hands in
# (docs/labs/README.md).  A workspace's own Makefile sets ASYNCLAB (the
# checkout it came from) and LAB, then includes this file, so the rules
# live in one place and a fix here reaches every workspace.  The grader
# builds submissions with the very same rule (make -f this file).
#
# The student's file is compiled against the checkout's lesson code: the
# lab's shared file(s) and scenarios/common/, as built objects in the
# checkout's build/obj (made there first if missing), with the libraries
# found by pkg-config.

ifndef ASYNCLAB
$(error set ASYNCLAB to the asynclab checkout)
endif
ifndef LAB
$(error set LAB to the lab's scenario name)
endif

SUBMISSION ?= async.c
PROGRAM    ?= ./$(LAB)_lab
SEED       ?=
ARGS       ?= --scale 0.2
HANDIN     ?= $(LAB)-handin-$(or $(USER),student).tar.gz

CC      ?= cc
PKGS    := libcurl libmicrohttpd sqlite3 jansson
OBJ_DIR := $(ASYNCLAB)/build/obj
# The lab's shared files: every .c in its folder that is not a program
# (the same rule as the checkout's Makefile).
LAB_SRC := $(filter-out $(addprefix $(ASYNCLAB)/scenarios/$(LAB)/,sync.c async.c sync_% async_%), \
             $(wildcard $(ASYNCLAB)/scenarios/$(LAB)/*.c))
LAB_OBJ := $(patsubst $(ASYNCLAB)/%.c,$(OBJ_DIR)/%.o,$(LAB_SRC) \
             $(wildcard $(ASYNCLAB)/scenarios/common/*.c))
LAB_CFLAGS = -std=c11 -D_GNU_SOURCE -Wall -Wextra -O2 -g \
             -I$(ASYNCLAB)/scenarios/common -I$(ASYNCLAB)/scenarios/$(LAB) \
             $(shell pkg-config --cflags $(PKGS))
LAB_LIBS   = $(shell pkg-config --libs $(PKGS)) -lpthread -lm
GRADER     := $(ASYNCLAB)/build/bin/grade

.PHONY: all run grade handin asynclab-objects
all: $(PROGRAM)

$(PROGRAM): $(SUBMISSION) $(LAB_OBJ)
	$(CC) $(LAB_CFLAGS) -o $@ $(SUBMISSION) $(LAB_OBJ) $(LAB_LIBS)

# The checkout's objects and grader, built there (never here) when missing.
$(LAB_OBJ) $(GRADER): asynclab-objects
	@:
asynclab-objects:
	@$(MAKE) --no-print-directory -s -C $(ASYNCLAB) SANITIZE= lab-objects

# A fresh slowserver, the program once with ARGS, the server stopped again.
run: asynclab-objects
	@$(GRADER) --lab $(LAB) --src $(SUBMISSION) --run -- $(ARGS)

# The grade the teacher's `make grade-all` will give (with their seed).
grade: asynclab-objects
	@$(GRADER) --lab $(LAB) --src $(SUBMISSION) $(if $(SEED),--seed $(SEED)) | tee grade-report.txt

handin: grade
	tar -czf $(HANDIN) $(SUBMISSION) grade-report.txt
	@echo "hand in $(HANDIN)"
