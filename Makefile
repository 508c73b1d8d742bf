# asynclab: one entry point.  `make help` lists the targets.
#
# Layout of the build (all under build/, which git ignores):
#   build/bin/slowserver            the bundled slow HTTP server
#   build/bin/<scenario>_<variant>  one program per scenarios/<scenario>/<variant>.c
#   build/bin/tests/                cmocka test programs
# `make SANITIZE=1 ...` builds the same into build/sanitize/ with
# AddressSanitizer and UndefinedBehaviorSanitizer.
#
# A scenario joins the build by existing: every folder under scenarios/
# (except common/) is one; its sync.c, async.c, sync_*.c and async_*.c are the
# programs, and every other .c file in it is shared by them.

CC      ?= cc
CFLAGS  ?= -O2 -g

ifeq ($(SANITIZE),1)
BUILD   := build/sanitize
SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
CFLAGS  += $(SAN)
LDFLAGS += $(SAN)
else
BUILD   := build
endif

BIN     := $(BUILD)/bin
OBJ     := $(BUILD)/obj
LIB     := $(BUILD)/lib

.DEFAULT_GOAL := all

SCALE    ?= 1
SCENARIO ?= slow_api
PORT     ?= 8000
RUNS     ?=
# Where `make bench`, `bench-scale` and `report` write: by default not the
# committed reference run in results/ (OUT=results refreshes that one).
OUT      ?= build/results
# `make bench` defaults to the quick scale, not run-scenario's 1, unless
# SCALE was given (on the command line or in the environment).
BENCH_SCALE = $(if $(filter file,$(origin SCALE)),quick,$(SCALE))

# ---------------------------------------------------------------- layers
# The code is built in layers, each a static library in build/lib/, and a
# program links only the layers (and the Debian libraries) it uses; from a
# library the linker takes only the objects the program calls.
#
#   base     scenarios/common/base/  monotonic clock, strict parsing of
#            numbers, the fd limit, the exit codes, /proc/<pid>/stat.  libc only; slowserver,
#            the harness and every scenario program stand on it.
#   lesson   scenarios/common/       what the lessons' programs share: the
#            command line, console output, libcurl plumbing, traces, the
#            request lists, the model behind --predict.
#   scenario scenarios/<s>/          sync.c, async.c, sync_*.c, async_*.c are
#            programs; every other .c in the folder is the scenario's own
#            library, linked into its programs and its unit tests.
#   server   server/                 slowserver; the tests link its library.
#   harness  harness/lib/            what the harness programs share.
#   tests    tests/support/          what the test programs share.
BASE_DIR   := scenarios/common/base
LESSON_DIR := scenarios/common

# Debian libraries by pkg-config name.  A scenario's programs link the
# lesson tier's packages unless the scenario lists its own as
# PKGS_<scenario>; a harness program likewise as PKGS_<program>.
LESSON_PKGS  := libcurl jansson
SERVER_PKGS  := libmicrohttpd jansson
HARNESS_PKGS := libcurl libmicrohttpd sqlite3 jansson
TEST_PKGS    := cmocka libcurl jansson libpq
PKGS_database     := sqlite3 jansson libpq
PKGS_report       := jansson
PKGS_run_scenario := libcurl
# event_loops (docs/event_loops.md) writes its HTTP by hand but sends the
# slow_api lesson's requests through slow_api.c (in its library, below);
# its io_uring program needs liburing.
PKGS_event_loops  := libcurl jansson liburing
# service (docs/service.md): its programs are HTTP servers too.
PKGS_service      := libcurl jansson libmicrohttpd

# pkg-config runs when a recipe needs it (recursive "=" and $(call) inside
# recipes), not when make reads this file, so `make test` on a fresh
# machine can install the packages first.
pkg_cflags = $(if $(strip $(1)),$(shell pkg-config --cflags $(1)))
pkg_libs   = $(if $(strip $(1)),$(shell pkg-config --libs $(1)))

BASE_CFLAGS = -std=c11 -D_GNU_SOURCE -Wall -Wextra -MMD -MP -I$(BASE_DIR) $(CFLAGS)

# Each object gets its layer's include paths and package flags (set per
# folder below); `objects_of` maps sources to build/obj/ paths.
objects_of = $(patsubst %.c,$(OBJ)/%.o,$(1))
LAYER_CFLAGS =
$(OBJ)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(LAYER_CFLAGS) -c -o $@ $<

# A static library from objects: $(LIB)/lib<name>.a.
$(LIB)/%.a:
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

# ---------------------------------------------------------------- base, lesson
BASE_LIB   := $(LIB)/libbase.a
LESSON_LIB := $(LIB)/liblesson.a
$(BASE_LIB):   $(call objects_of,$(wildcard $(BASE_DIR)/*.c))
$(LESSON_LIB): $(call objects_of,$(wildcard $(LESSON_DIR)/*.c))
$(OBJ)/$(LESSON_DIR)/%.o: LAYER_CFLAGS = -I$(LESSON_DIR) $(call pkg_cflags,$(LESSON_PKGS))
$(OBJ)/$(BASE_DIR)/%.o: LAYER_CFLAGS =

# ---------------------------------------------------------------- slowserver
SERVER_BIN := $(BIN)/slowserver
SERVER_LIB := $(LIB)/libslowserver.a
$(SERVER_LIB): $(call objects_of,$(filter-out server/main.c,$(wildcard server/*.c))) \
               $(OBJ)/gen/live_assets.o
$(OBJ)/server/%.o: LAYER_CFLAGS = -Iserver $(call pkg_cflags,$(SERVER_PKGS))
$(SERVER_BIN): $(OBJ)/server/main.o $(SERVER_LIB) $(BASE_LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(call pkg_libs,$(SERVER_PKGS)) -lpthread -lm
ALL_BINS := $(SERVER_BIN)

# The live view's page (server/live/) is built into slowserver as byte
# arrays (server/live_assets.h says why); scripts/embed.sh writes them.
LIVE_FILES := $(wildcard server/live/*)
$(OBJ)/gen/live_assets.c: scripts/embed.sh $(LIVE_FILES)
	@mkdir -p $(@D)
	sh scripts/embed.sh $(LIVE_FILES) > $@.tmp && mv $@.tmp $@
$(OBJ)/gen/live_assets.o: $(OBJ)/gen/live_assets.c
	$(CC) $(BASE_CFLAGS) -Iserver -c -o $@ $<

# ---------------------------------------------------------------- scenarios
# A scenario joins the build by existing: every folder under scenarios/
# except common/ is one.  `make <scenario>` builds its programs alone.
SCENARIO_NAMES := $(filter-out common,$(notdir $(patsubst %/,%,$(wildcard scenarios/*/))))
scenario_pkgs = $(or $(PKGS_$(1)),$(LESSON_PKGS))

define scenario_rules
$(1)_PROGRAM_SRC := $$(filter scenarios/$(1)/sync.c scenarios/$(1)/async.c \
                      scenarios/$(1)/sync_%.c scenarios/$(1)/async_%.c, \
                      $$(wildcard scenarios/$(1)/*.c))
$(1)_LIB  := $(LIB)/lib$(1).a
$(1)_BINS := $$(patsubst scenarios/$(1)/%.c,$(BIN)/$(1)_%,$$($(1)_PROGRAM_SRC))
$$($(1)_LIB): $$(call objects_of,$$(filter-out $$($(1)_PROGRAM_SRC),$$(wildcard scenarios/$(1)/*.c)))
$(OBJ)/scenarios/$(1)/%.o: LAYER_CFLAGS = -Iscenarios/$(1) -I$(LESSON_DIR) \
                                          $$(call pkg_cflags,$$(call scenario_pkgs,$(1)))
$$($(1)_BINS): $(BIN)/$(1)_%: $(OBJ)/scenarios/$(1)/%.o $$($(1)_LIB) $(LESSON_LIB) $(BASE_LIB)
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(call pkg_libs,$$(call scenario_pkgs,$(1))) -lpthread -lm
.PHONY: $(1)
$(1): $$($(1)_BINS)
ALL_BINS += $$($(1)_BINS)
endef
$(foreach s,$(SCENARIO_NAMES),$(eval $(call scenario_rules,$(s))))
$(event_loops_LIB): $(OBJ)/scenarios/slow_api/slow_api.o
$(OBJ)/scenarios/event_loops/%.o: LAYER_CFLAGS += -Iscenarios/slow_api

# The database scenario's generator is a program of its own, not one of the
# scenario's variants: it lives in scenarios/database/makedb/, out of reach
# of the rules above, and builds $(BUILD)/asynclab.db (`make db`), the file
# the database programs read by default.
DATABASE_MAKEDB := $(BIN)/database_makedb
DATABASE_FILE   := $(BUILD)/asynclab.db
$(DATABASE_MAKEDB): $(OBJ)/scenarios/database/makedb/makedb.o $(BASE_LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(call pkg_libs,sqlite3)
$(OBJ)/scenarios/database/makedb/%.o: LAYER_CFLAGS = $(call pkg_cflags,sqlite3)
ALL_BINS += $(DATABASE_MAKEDB)
database: $(DATABASE_MAKEDB)
# Built only when missing (an existing file is never replaced; delete it, or
# run the generator with --force, to rebuild).  CITIES=N sizes a new one.
$(DATABASE_FILE): | $(DATABASE_MAKEDB)
	$(DATABASE_MAKEDB) --out $@ $(if $(CITIES),--cities $(CITIES))
# What `make run-scenario SCENARIO=X` needs besides the programs.
SCENARIO_NEEDS_database := $(DATABASE_FILE)
# The PostgreSQL half of the lesson: a throwaway cluster in $(BUILD)/pg
# (scripts/pg.sh), loaded with the same rows.  `make pg` starts it and
# leaves it running (`make pg-stop`); the targets that need it run inside
# `pg.sh with`, which starts it if it is not running and stops it again
# afterwards, on Ctrl+C too.  With PGHOST & co. set, nothing is started.
PG_DIR     := $(BUILD)/pg
PG_OPTIONS  = $(if $(CITIES),--cities $(CITIES))
WITH_PG     = scripts/pg.sh with $(PG_DIR) $(PG_OPTIONS) --
SCENARIO_WRAP_database = $(WITH_PG)
SCENARIO_DEPS_database = postgres

# ---------------------------------------------------------------- harness
# harness/*.c are programs; harness/lib/*.c is what they share (servers,
# hyperfine's JSON, charts).  A program too big for one file keeps its
# other files in a folder of its own name (harness/report/ for report.c),
# linked into it alone.  run_scenario also probes the server, so it links
# the lesson tier's HTTP code.
HARNESS_LIB  := $(LIB)/libharness.a
HARNESS_NAMES := $(patsubst harness/%.c,%,$(wildcard harness/*.c))
HARNESS_BINS := $(patsubst %,$(BIN)/%,$(HARNESS_NAMES))
$(HARNESS_LIB): $(call objects_of,$(wildcard harness/lib/*.c))
$(foreach p,$(HARNESS_NAMES),$(eval $(BIN)/$(p): $(call objects_of,$(wildcard harness/$(p)/*.c))))
$(OBJ)/harness/%.o: LAYER_CFLAGS = -Iharness -Iharness/lib $(call pkg_cflags,$(HARNESS_PKGS))
$(OBJ)/harness/run_scenario.o: LAYER_CFLAGS += -I$(LESSON_DIR)
$(BIN)/run_scenario: $(LESSON_LIB)
# report reads the programs' traces back with the lesson tier's trace reader.
$(OBJ)/harness/report.o $(OBJ)/harness/report/%.o: LAYER_CFLAGS += -I$(LESSON_DIR)
$(BIN)/report: $(LESSON_LIB)
# The service lesson's load driver is a libcurl client of the gateways.
$(OBJ)/harness/gateway_load.o $(OBJ)/harness/gateway_load/%.o: LAYER_CFLAGS += -I$(LESSON_DIR)
$(BIN)/gateway_load: $(LESSON_LIB)
harness_pkgs = $(or $(PKGS_$(1)),$(HARNESS_PKGS))
$(HARNESS_BINS): $(BIN)/%: $(OBJ)/harness/%.o $(HARNESS_LIB) $(BASE_LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(HARNESS_LIB) $(filter $(LESSON_LIB),$^) $(BASE_LIB) \
	    $(call pkg_libs,$(call harness_pkgs,$*)) -lm
ALL_BINS += $(HARNESS_BINS)

# ---------------------------------------------------------------- tests
# Every tests/unit/test_*.c and tests/integration/test_*.c is one cmocka
# program.  A test named after what it tests (test_<scenario>..., or
# test_server...) sees that part's headers and links its library; every
# test may use tests/support/ and the base and lesson tiers; tests/support/
# starts programs through the harness's launcher (harness/lib/launch.c).
UNIT_TEST_SRC        := $(wildcard tests/unit/test_*.c)
INTEGRATION_TEST_SRC := $(wildcard tests/integration/test_*.c)
UNIT_TESTS        := $(patsubst tests/unit/%.c,$(BIN)/tests/%,$(UNIT_TEST_SRC))
INTEGRATION_TESTS := $(patsubst tests/integration/%.c,$(BIN)/tests/%,$(INTEGRATION_TEST_SRC))
# tests/browser/: the live view in a headless chromium; `make test-browser`
# only (it needs chromium, which `make test` does not).
BROWSER_TEST_SRC  := $(wildcard tests/browser/test_*.c)
BROWSER_TESTS     := $(patsubst tests/browser/%.c,$(BIN)/tests/%,$(BROWSER_TEST_SRC))
TEST_SUPPORT_LIB  := $(LIB)/libtestsupport.a
$(TEST_SUPPORT_LIB): $(call objects_of,$(wildcard tests/support/*.c))
$(OBJ)/tests/%.o: LAYER_CFLAGS = -Itests/support -I$(LESSON_DIR) -Iharness \
                                 $(call pkg_cflags,$(TEST_PKGS)) \
                                 -DASYNCLAB_BIN_DIR='"$(abspath $(BIN))"' \
                                 -DASYNCLAB_SOURCE_DIR='"$(abspath .)"'

# test_subject(test_name): the scenario (or "server") the test is named after.
test_subject = $(firstword $(foreach s,$(SCENARIO_NAMES) server, \
                 $(if $(filter test_$(s) test_$(s)_%,$(1)),$(s))))
subject_lib  = $(if $(filter server,$(1)),$(SERVER_LIB),$(if $(1),$($(1)_LIB)))
subject_dir  = $(if $(filter server,$(1)),server,$(if $(1),scenarios/$(1)))
subject_pkgs = $(if $(filter server,$(1)),$(SERVER_PKGS),$(if $(1),$(call scenario_pkgs,$(1))))

define test_rules
$(BIN)/tests/$(1): $(OBJ)/$(2) $(call subject_lib,$(3)) $(TEST_SUPPORT_LIB) $(HARNESS_LIB) \
                   $(LESSON_LIB) $(BASE_LIB)
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ \
	    $$(call pkg_libs,$(TEST_PKGS) $(call subject_pkgs,$(3))) -lpthread -lm
$(OBJ)/$(2): LAYER_CFLAGS += $(if $(3),-I$(call subject_dir,$(3)) \
                               $$(call pkg_cflags,$$(call subject_pkgs,$(3))))
endef
$(foreach t,$(UNIT_TEST_SRC) $(INTEGRATION_TEST_SRC) $(BROWSER_TEST_SRC), \
  $(eval $(call test_rules,$(basename $(notdir $(t))),$(t:.c=.o),$(call test_subject,$(basename $(notdir $(t)))))))

# Integration tests run the programs, so building one builds them too.
$(INTEGRATION_TESTS) $(BROWSER_TESTS): | $(ALL_BINS)

# ---------------------------------------------------------------- targets
.PHONY: all help deps test test-build test-run test-sanitize \
        run-server run-scenario memcheck db pg pg-stop clean test-browser

all: $(ALL_BINS)

help:
	@echo "make                 build everything into build/"
	@echo "make deps [NEEDS=build|bench|test|scale|postgres]   install the missing Debian packages (all needs by default)"
	@echo "make test            unit + integration tests (what CI runs)"
	@echo "make test-sanitize   the tests again under ASan + UBSan"
	@echo "make test-browser    the live view (/live) in headless chromium (installs it)"
	@echo "make memcheck        the server and clients once under valgrind"
	@echo "make run-server      slowserver in the foreground on PORT=$(PORT)"
	@echo "make run-scenario SCENARIO=slow_api [SCALE=0.1]   sync then async, compared"
	@echo "make db [CITIES=N]   build the database lesson's SQLite file if it is missing"
	@echo "make pg [CITIES=N]   start the database lesson's PostgreSQL (build/pg), loading it"
	@echo "make pg-stop         stop it again (the data stays in build/pg)"
	@echo "make <scenario>      one scenario's programs alone, e.g. make slow_api"
	@echo "make fuzz [FUZZ_SECONDS=60]   each libFuzzer target (clang, ASan + UBSan) for that long"
	@echo "make clean           remove build/"
	@echo "make bench [SCALE=quick|F] [RUNS=N] [OUT=$(OUT)]   every scenario through hyperfine, report in OUT"
	@echo "make bench-scale [KS=3,100,1000] [OUT=$(OUT)]   thousands of requests at once: event loop vs threads"
	@echo "make report [OUT=$(OUT)]   re-render OUT/REPORT.md and charts from OUT/*.json"
	@echo "                     (OUT=results: the committed reference run)"
	@echo "make lab LAB=slow_api [DIR=path] [FORCE=1]   a student workspace for one lab"
	@echo "make grade LAB=slow_api [SRC=file | DIR=workspace] [SEED=n]   grade one submission"
	@echo "make grade-all LAB=slow_api SUBMISSIONS=dir [SEED=n]   grade a class: CSV + JSON"

# ---------------------------------------------------------------- needs
# Each target's first recipe line installs what it needs (the packages of
# each need are in scripts/packages.txt) and checks the values it was given
# before anything is built.  `make deps` installs every need, or NEEDS=.
DEPS   = @scripts/deps.sh
CHECK  = @scripts/check-values.sh
# An unknown SCENARIO= is refused before anything is built.
CHECK_SCENARIO = $(if $(filter $(SCENARIO),$(SCENARIO_NAMES)),, \
  $(error SCENARIO=$(SCENARIO) is not a scenario (one of: $(SCENARIO_NAMES))))

deps:
	$(DEPS) $(NEEDS)

test-build: $(ALL_BINS) $(UNIT_TESTS) $(INTEGRATION_TESTS)

# Unit tests first: they are fast and say precisely what broke.
test-run: test-build
	@scripts/run-tests.sh $(UNIT_TESTS) $(INTEGRATION_TESTS)

test:
	$(DEPS) build bench test postgres
	@$(MAKE) --no-print-directory test-run

test-sanitize:
	$(DEPS) build bench test postgres
	@$(MAKE) --no-print-directory SANITIZE=1 test-run

# chromium is a need of its own ("browser"); if it cannot be installed the
# test says it is skipped, and why.  Screenshots go to SCREENSHOTS.
SCREENSHOTS ?= $(BUILD)/screenshots
test-browser:
	$(DEPS) build bench test
	@scripts/deps.sh browser || echo "test-browser: chromium could not be installed"
	@$(MAKE) --no-print-directory $(BROWSER_TESTS)
	@mkdir -p $(SCREENSHOTS)
	@ASYNCLAB_SCREENSHOTS=$(abspath $(SCREENSHOTS)) scripts/run-tests.sh $(BROWSER_TESTS)

memcheck:
	$(DEPS) build bench test postgres
	@$(MAKE) --no-print-directory all
	@scripts/memcheck.sh $(BIN)

run-server:
	$(CHECK) PORT:count
	$(DEPS) build
	@$(MAKE) --no-print-directory $(SERVER_BIN)
	$(SERVER_BIN) --port $(PORT)

run-scenario:
	$(CHECK_SCENARIO)$(CHECK) SCALE:number
	$(DEPS) build $(SCENARIO_DEPS_$(SCENARIO))
	@$(MAKE) --no-print-directory all $(SCENARIO_NEEDS_$(SCENARIO))
	$(SCENARIO_WRAP_$(SCENARIO)) $(BIN)/run_scenario --scenario $(SCENARIO) --scale $(SCALE)

db:
	$(CHECK) CITIES:count
	$(DEPS) build
	@$(MAKE) --no-print-directory $(DATABASE_FILE)

pg:
	$(CHECK) CITIES:count
	$(DEPS) build postgres
	@$(MAKE) --no-print-directory $(DATABASE_MAKEDB)
	scripts/pg.sh start $(PG_DIR) $(PG_OPTIONS)

pg-stop:
	scripts/pg.sh stop $(PG_DIR)

clean:
	scripts/pg.sh remove build/pg
	scripts/pg.sh remove build/sanitize/pg
	rm -rf build

# ---------------------------------------------------------------- benchmarks
# docs/harness.md.  The database scenario's programs need their database
# built first.
.PHONY: bench bench-scale report
bench:
	$(CHECK) SCALE:number-or-quick RUNS:count
	$(DEPS) build bench postgres
	@$(MAKE) --no-print-directory all db
	$(WITH_PG) $(BIN)/bench --scale $(BENCH_SCALE) $(if $(RUNS),--runs $(RUNS)) --out $(OUT)

# docs/scale.md: K requests at once, event loop against threads; adds
# $(OUT)/scale.json, which `report` renders into REPORT.md.
bench-scale:
	$(CHECK) KS:counts
	$(DEPS) build bench scale
	@$(MAKE) --no-print-directory all
	$(BIN)/bench_scale --out $(OUT) $(if $(KS),--k $(KS))
	@if [ -f $(OUT)/summary.json ]; then $(BIN)/report $(OUT); \
	 else echo "bench-scale: no report in $(OUT) yet; make bench OUT=$(OUT) writes one with a Scale section"; fi

report:
	$(DEPS) build bench
	@$(MAKE) --no-print-directory $(BIN)/report
	$(BIN)/report $(OUT)

# ---------------------------------------------------------------- labs
# docs/labs/README.md.  A lab's workspace goes outside build/ (make clean
# never touches it): DIR, or labs-out/<LAB> in this checkout by default.
# The grader builds submissions against this checkout's libraries
# (labs/workspace.mk), so `lab-libs` builds them all.
.PHONY: lab lab-libs grade grade-all
LAB ?= slow_api
LAB_NAMES := $(notdir $(patsubst %/,%,$(wildcard labs/*/)))
CHECK_LAB = $(if $(filter $(LAB),$(LAB_NAMES)),, \
  $(error LAB=$(LAB) is not a lab (one of: $(LAB_NAMES))))
$(OBJ)/harness/grade.o $(OBJ)/harness/grade/%.o: LAYER_CFLAGS += -I$(LESSON_DIR) -DASYNCLAB_ROOT='"$(abspath .)"'
$(OBJ)/harness/lib/server_stats.o: LAYER_CFLAGS += -I$(LESSON_DIR)
$(BIN)/grade: $(LESSON_LIB)
lab-libs: $(foreach s,$(SCENARIO_NAMES),$($(s)_LIB)) $(LESSON_LIB) $(BASE_LIB)
# The Debian libraries a lab's program links (labs/workspace.mk asks).
.PHONY: lab-pkgs
lab-pkgs:
	@echo $(call scenario_pkgs,$(LAB))

lab:
	$(CHECK_LAB)
	$(DEPS) build
	@$(MAKE) --no-print-directory $(BIN)/grade lab-libs
	@scripts/make-lab.sh "$(LAB)" "$(or $(DIR),labs-out/$(LAB))" "$(FORCE)" "$(BIN)"

grade:
	$(CHECK_LAB)$(CHECK) SEED:count
	$(DEPS) build grade
	@$(MAKE) --no-print-directory all lab-libs
	$(BIN)/grade --lab $(LAB) $(if $(SRC),--src $(SRC),--dir $(or $(DIR),labs-out/$(LAB))) \
	    $(if $(SEED),--seed $(SEED))

grade-all:
	$(CHECK_LAB)$(CHECK) SEED:count
	$(if $(SUBMISSIONS),,$(error give SUBMISSIONS=folder of handins))
	$(DEPS) build grade
	@$(MAKE) --no-print-directory all lab-libs
	$(BIN)/grade_all --lab $(LAB) --submissions $(SUBMISSIONS) $(if $(SEED),--seed $(SEED)) \
	    --out $(or $(GRADES),grades-$(LAB))
# ---------------------------------------------------------------- fuzzing
# docs/fuzzing.md.  libFuzzer targets (fuzz/fuzz_*.c), built with clang
# under ASan + UBSan into build/fuzz/, each linked with slowserver's code
# and the base layer from source.  `make fuzz` runs each for FUZZ_SECONDS
# from its committed seeds (fuzz/corpus/<target>/); what they find goes to
# build/fuzz/findings/.
.PHONY: fuzz fuzz-build fuzz-coverage
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_DIR     := build/fuzz
FUZZ_FLAGS   := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
                -fno-omit-frame-pointer
FUZZ_TARGETS := $(patsubst fuzz/%.c,$(FUZZ_DIR)/%,$(wildcard fuzz/fuzz_*.c))
FUZZ_SOURCES := $(filter-out server/main.c,$(wildcard server/*.c)) $(wildcard $(BASE_DIR)/*.c) \
                $(OBJ)/gen/live_assets.c
$(FUZZ_DIR)/fuzz_%: fuzz/fuzz_%.c $(FUZZ_SOURCES) $(wildcard server/*.h $(BASE_DIR)/*.h)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -std=c11 -D_GNU_SOURCE -Wall -Wextra -I$(BASE_DIR) -Iserver \
	    $(call pkg_cflags,$(SERVER_PKGS)) -o $@ $< $(FUZZ_SOURCES) \
	    $(call pkg_libs,$(SERVER_PKGS)) -lpthread -lm
fuzz-build:
	$(DEPS) build fuzz
	@$(MAKE) --no-print-directory $(FUZZ_TARGETS)

# Per-file line coverage of what the corpora (FUZZ_CORPUS, default what
# `make fuzz` learned, plus the seeds) exercise.
FUZZ_CORPUS ?= $(FUZZ_DIR)/corpus
fuzz-coverage:
	$(DEPS) build fuzz
	@$(MAKE) --no-print-directory $(OBJ)/gen/live_assets.c
	@scripts/fuzz-coverage.sh $(FUZZ_CORPUS) -I$(BASE_DIR) -Iserver \
	    $(call pkg_cflags,$(SERVER_PKGS)) -- $(FUZZ_SOURCES)

fuzz:
	$(CHECK) FUZZ_SECONDS:count
	@$(MAKE) --no-print-directory fuzz-build
	@scripts/fuzz.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
