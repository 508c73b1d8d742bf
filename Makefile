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
PKGS    := libcurl libmicrohttpd sqlite3 jansson
SERVER_PKGS := libmicrohttpd jansson

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

# pkg-config runs when a recipe needs it (recursive "="), not when make reads
# this file, so `make test` on a fresh machine can install the packages first.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   = $(shell pkg-config --libs $(PKGS))
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -Wall -Wextra -MMD -MP \
             -Iscenarios/common -Iserver $(PKG_CFLAGS) $(CFLAGS)
LIBS       = $(PKG_LIBS) -lpthread -lm

SCALE    ?= 1
# The scenario rules below are generated before `all` is written, so without
# this a bare `make` would build only the first scenario's programs.
.DEFAULT_GOAL := all
SCENARIO ?= slow_api
PORT     ?= 8000
RUNS     ?=
# Where `make bench`, `bench-scale` and `report` write: by default not the
# committed reference run in results/ (OUT=results refreshes that one).
OUT      ?= build/results
# `make bench` defaults to the quick scale, not run-scenario's 1, unless
# SCALE was given (on the command line or in the environment).
BENCH_SCALE = $(if $(filter file,$(origin SCALE)),quick,$(SCALE))

# ---------------------------------------------------------------- sources
COMMON_SRC := $(wildcard scenarios/common/*.c)
COMMON_OBJ := $(COMMON_SRC:%.c=$(OBJ)/%.o)

SERVER_SRC     := $(wildcard server/*.c)
SERVER_LIB_OBJ := $(patsubst %.c,$(OBJ)/%.o,$(filter-out server/main.c,$(SERVER_SRC)))
SERVER_BIN     := $(BIN)/slowserver

SCENARIO_NAMES := $(filter-out common,$(notdir $(patsubst %/,%,$(wildcard scenarios/*/))))

ALL_BINS := $(SERVER_BIN)

# One block of rules per scenario folder.
define scenario_rules
$(1)_PROGRAM_SRC := $$(filter scenarios/$(1)/sync.c scenarios/$(1)/async.c \
                      scenarios/$(1)/sync_%.c scenarios/$(1)/async_%.c, \
                      $$(wildcard scenarios/$(1)/*.c))
$(1)_SHARED_OBJ  := $$(patsubst %.c,$(OBJ)/%.o, \
                      $$(filter-out $$($(1)_PROGRAM_SRC),$$(wildcard scenarios/$(1)/*.c)))
$(1)_BINS        := $$(patsubst scenarios/$(1)/%.c,$(BIN)/$(1)_%,$$($(1)_PROGRAM_SRC))
$$($(1)_BINS): $(BIN)/$(1)_%: $(OBJ)/scenarios/$(1)/%.o $$($(1)_SHARED_OBJ) $(COMMON_OBJ)
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LIBS)
ALL_BINS += $$($(1)_BINS)
SCENARIO_SHARED_OBJ += $$($(1)_SHARED_OBJ)
endef
$(foreach s,$(SCENARIO_NAMES),$(eval $(call scenario_rules,$(s))))

# The database scenario's generator is a program of its own, not one of the
# scenario's variants: it lives in scenarios/database/makedb/, out of reach
# of the rules above, and builds $(BUILD)/asynclab.db (`make db`), the file
# the database programs read by default.
DATABASE_MAKEDB := $(BIN)/database_makedb
DATABASE_FILE   := $(BUILD)/asynclab.db
$(DATABASE_MAKEDB): $(OBJ)/scenarios/database/makedb/makedb.o $(COMMON_OBJ)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)
ALL_BINS += $(DATABASE_MAKEDB)
# Built only when missing (an existing file is never replaced; delete it, or
# run the generator with --force, to rebuild).  CITIES=N sizes a new one.
$(DATABASE_FILE): | $(DATABASE_MAKEDB)
	$(DATABASE_MAKEDB) --out $@ $(if $(CITIES),--cities $(CITIES))
# What `make run-scenario SCENARIO=X` needs besides the programs.
SCENARIO_NEEDS_database := $(DATABASE_FILE)

HARNESS_SRC := $(wildcard harness/*.c)
HARNESS_BINS := $(patsubst harness/%.c,$(BIN)/%,$(HARNESS_SRC))
ALL_BINS += $(HARNESS_BINS)
# harness/lib/*.c: code the harness programs share (servers, hyperfine's
# JSON, charts), linked into each of them.
HARNESS_LIB_OBJ := $(patsubst %.c,$(OBJ)/%.o,$(wildcard harness/lib/*.c))

# Tests: every tests/unit/test_*.c and tests/integration/test_*.c is one
# cmocka program; tests/support/*.c is linked into all of them.
UNIT_TEST_SRC        := $(wildcard tests/unit/test_*.c)
INTEGRATION_TEST_SRC := $(wildcard tests/integration/test_*.c)
TEST_SUPPORT_OBJ     := $(patsubst %.c,$(OBJ)/%.o,$(wildcard tests/support/*.c))
UNIT_TESTS        := $(patsubst tests/unit/%.c,$(BIN)/tests/%,$(UNIT_TEST_SRC))
INTEGRATION_TESTS := $(patsubst tests/integration/%.c,$(BIN)/tests/%,$(INTEGRATION_TEST_SRC))

# ---------------------------------------------------------------- targets
.PHONY: all help deps build test test-build test-run test-sanitize \
        run-server run-scenario memcheck db clean

all: $(ALL_BINS)
build: all

help:
	@echo "make                 build everything into build/"
	@echo "make deps [NEEDS=build|bench|test|scale]   install the missing Debian packages (all needs by default)"
	@echo "make test            unit + integration tests (what CI runs)"
	@echo "make test-sanitize   the tests again under ASan + UBSan"
	@echo "make memcheck        the server and clients once under valgrind"
	@echo "make run-server      slowserver in the foreground on PORT=$(PORT)"
	@echo "make run-scenario SCENARIO=slow_api [SCALE=0.1]   sync then async, compared"
	@echo "make db [CITIES=N]   build the database lesson's SQLite file if it is missing"
	@echo "make clean           remove build/"
	@echo "make bench [SCALE=quick|F] [RUNS=N] [OUT=$(OUT)]   every scenario through hyperfine, report in OUT"
	@echo "make bench-scale [KS=3,100,1000] [OUT=$(OUT)]   thousands of requests at once: event loop vs threads"
	@echo "make report [OUT=$(OUT)]   re-render OUT/REPORT.md and charts from OUT/*.json"
	@echo "                     (OUT=results: the committed reference run)"

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

$(OBJ)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(OBJ)/tests/%.o: ALL_CFLAGS += -Itests/support -DASYNCLAB_BIN_DIR='"$(abspath $(BIN))"' \
                                 -DASYNCLAB_SOURCE_DIR='"$(abspath .)"' $(shell pkg-config --cflags cmocka)

$(SERVER_BIN): $(OBJ)/server/main.o $(SERVER_LIB_OBJ) $(COMMON_OBJ)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(OBJ)/harness/%.o: ALL_CFLAGS += -Iharness/lib

$(HARNESS_BINS): $(BIN)/%: $(OBJ)/harness/%.o $(HARNESS_LIB_OBJ) $(COMMON_OBJ)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(UNIT_TESTS) $(INTEGRATION_TESTS): $(BIN)/tests/%: $(TEST_SUPPORT_OBJ) \
        $(SERVER_LIB_OBJ) $(SCENARIO_SHARED_OBJ) $(COMMON_OBJ)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LIBS) $(shell pkg-config --libs cmocka)

# Integration tests run the programs, so building one builds them too.
$(INTEGRATION_TESTS): | $(ALL_BINS)

# Each test program's own object (tests/unit or tests/integration).
$(foreach t,$(UNIT_TEST_SRC) $(INTEGRATION_TEST_SRC), \
  $(eval $(BIN)/tests/$(basename $(notdir $(t))): $(OBJ)/$(t:.c=.o)))

test-build: $(ALL_BINS) $(UNIT_TESTS) $(INTEGRATION_TESTS)

# Unit tests first: they are fast and say precisely what broke.
test-run: test-build
	@scripts/run-tests.sh $(UNIT_TESTS) $(INTEGRATION_TESTS)

test:
	$(DEPS) build bench test
	@$(MAKE) --no-print-directory test-run

test-sanitize:
	$(DEPS) build bench test
	@$(MAKE) --no-print-directory SANITIZE=1 test-run

memcheck:
	$(DEPS) build bench test
	@$(MAKE) --no-print-directory all
	@scripts/memcheck.sh $(BIN)

run-server:
	$(CHECK) PORT:count
	$(DEPS) build
	@$(MAKE) --no-print-directory $(SERVER_BIN)
	$(SERVER_BIN) --port $(PORT)

run-scenario:
	$(CHECK_SCENARIO)$(CHECK) SCALE:number
	$(DEPS) build
	@$(MAKE) --no-print-directory all $(SCENARIO_NEEDS_$(SCENARIO))
	$(BIN)/run_scenario --scenario $(SCENARIO) --scale $(SCALE)

db:
	$(CHECK) CITIES:count
	$(DEPS) build
	@$(MAKE) --no-print-directory $(DATABASE_FILE)

clean:
	rm -rf build

# ---------------------------------------------------------------- benchmarks
# docs/harness.md.  The database scenario's programs need their database
# built first.
.PHONY: bench bench-scale report
bench:
	$(CHECK) SCALE:number-or-quick RUNS:count
	$(DEPS) build bench
	@$(MAKE) --no-print-directory all db
	$(BIN)/bench --scale $(BENCH_SCALE) $(if $(RUNS),--runs $(RUNS)) --out $(OUT)

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

# The per-scenario rules come first in this file; without this, a bare
# `make` would build only the first scenario's first program.
.DEFAULT_GOAL := all

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
