# labs/workspace.mk - how a lab workspace builds, runs, grades and hands in
# (docs/labs/README.md).  A workspace's own Makefile sets ASYNCLAB (the
# checkout it came from) and LAB, then includes this file, so the rules
# live in one place and a fix here reaches every workspace.  The grader
# builds submissions with the very same rule (make -f this file).
#
# The student's file is compiled against the checkout's lesson code: the
# lab's own library and the lesson and base tiers, as built in the
# checkout's build/lib (made there first if missing), with the Debian
# libraries found by pkg-config.

ifndef ASYNCLAB
$(error set ASYNCLAB to the asynclab checkout)
endif
ifndef LAB
$(error set LAB to the lab's scenario name)
endif

SUBMISSION ?= async.c
PROGRAM    ?= ./$(LAB)_lab
SEED       ?=
ARGS       ?= $(if $(filter database,$(LAB)),,--scale 0.2)
HANDIN     ?= $(LAB)-handin-$(or $(USER),student).tar.gz

CC      ?= cc
# The same Debian libraries the checkout links the lesson's programs with.
PKGS    := $(shell $(MAKE) --no-print-directory -s -C $(ASYNCLAB) lab-pkgs LAB=$(LAB))
LIB_DIR := $(ASYNCLAB)/build/lib
# The lab's own library, then the lesson and base tiers (the checkout's
# Makefile explains the layers).
LAB_LIBS   := $(LIB_DIR)/lib$(LAB).a $(LIB_DIR)/liblesson.a $(LIB_DIR)/libbase.a
LAB_CFLAGS = -std=c11 -D_GNU_SOURCE -Wall -Wextra -O2 -g -I$(ASYNCLAB)/scenarios/common/base \
             -I$(ASYNCLAB)/scenarios/common -I$(ASYNCLAB)/scenarios/$(LAB) \
             $(shell pkg-config --cflags $(PKGS))
LINK_LIBS  = $(shell pkg-config --libs $(PKGS)) -lpthread -lm
GRADER     := $(ASYNCLAB)/build/bin/grade

.PHONY: all run grade handin asynclab-libs
all: $(PROGRAM)

$(PROGRAM): $(SUBMISSION) $(LAB_LIBS)
	$(CC) $(LAB_CFLAGS) -o $@ $(SUBMISSION) $(LAB_LIBS) $(LINK_LIBS)

# The checkout's libraries and grader, built there (never here) when missing.
$(LAB_LIBS) $(GRADER): asynclab-libs
	@:
# The grader sets ASYNCLAB_BUILT: it has built them once already, and
# several gradings at once must not rebuild the checkout under each other.
asynclab-libs:
	$(if $(ASYNCLAB_BUILT),,@$(MAKE) --no-print-directory -s -C $(ASYNCLAB) SANITIZE= lab-libs build/bin/grade)

# A fresh slowserver, the program once with ARGS, the server stopped again.
run: asynclab-libs
	$(if $(filter database,$(LAB)),@$(MAKE) --no-print-directory -s -C $(ASYNCLAB) db)
	@$(GRADER) --lab $(LAB) --src $(SUBMISSION) --run -- $(ARGS)

# The grade the teacher's `make grade-all` will give (with their seed).
grade: asynclab-libs
	@$(GRADER) --lab $(LAB) --src $(SUBMISSION) $(if $(SEED),--seed $(SEED)) | tee grade-report.txt

handin: grade
	tar -czf $(HANDIN) $(SUBMISSION) grade-report.txt
	@echo "hand in $(HANDIN)"
