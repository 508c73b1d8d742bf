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
PKGS    := libcurl libmicrohttpd sqlite3 jansson libpq
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
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) cmocka)
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
# The PostgreSQL half of the lesson: a throwaway cluster in $(BUILD)/pg
# (scripts/pg.sh), loaded with the same rows.  `make pg` starts it and
# leaves it running (`make pg-stop`); the targets that need it run inside
# `pg.sh with`, which starts it if it is not running and stops it again
# afterwards, on Ctrl+C too.  With PGHOST & co. set, nothing is started.
PG_DIR     := $(BUILD)/pg
PG_OPTIONS  = $(if $(CITIES),--cities $(CITIES))
WITH_PG     = scripts/pg.sh with $(PG_DIR) $(PG_OPTIONS) --
SCENARIO_WRAP_database = $(WITH_PG)

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
        run-server run-scenario memcheck db pg pg-stop clean

all: $(ALL_BINS)
build: all

help:
	@echo "make                 build everything into build/"
	@echo "make deps            install the Debian packages that are missing"
	@echo "make test            unit + integration tests (what CI runs)"
	@echo "make test-sanitize   the tests again under ASan + UBSan"
	@echo "make memcheck        the server and clients once under valgrind"
	@echo "make run-server      slowserver in the foreground on PORT=$(PORT)"
	@echo "make run-scenario SCENARIO=slow_api [SCALE=0.1]   sync then async, compared"
	@echo "make db [CITIES=N]   build the database lesson's SQLite file if it is missing"
	@echo "make pg [CITIES=N]   start the database lesson's PostgreSQL (build/pg), loading it"
	@echo "make pg-stop         stop it again (the data stays in build/pg)"
	@echo "make clean           remove build/"
	@echo "make bench [SCALE=quick|F] [RUNS=N]   every scenario through hyperfine, rewrites results/"
	@echo "make bench-scale [KS=3,100,1000]   thousands of requests at once: event loop vs threads"
	@echo "make report          re-render results/REPORT.md and charts from results/*.json"

deps:
	@scripts/deps.sh

$(OBJ)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(OBJ)/tests/%.o: ALL_CFLAGS += -Itests/support -DASYNCLAB_BIN_DIR='"$(abspath $(BIN))"'
$(OBJ)/tests/%.o: ALL_CFLAGS += -DASYNCLAB_SCRIPTS_DIR='"$(abspath scripts)"'

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

test: deps
	@$(MAKE) --no-print-directory test-run

test-sanitize: deps
	@$(MAKE) --no-print-directory SANITIZE=1 test-run

memcheck: deps
	@$(MAKE) --no-print-directory all
	@scripts/memcheck.sh $(BIN)

run-server: deps
	@$(MAKE) --no-print-directory $(SERVER_BIN)
	$(SERVER_BIN) --port $(PORT)

run-scenario: deps
	@$(MAKE) --no-print-directory all $(SCENARIO_NEEDS_$(SCENARIO))
	$(SCENARIO_WRAP_$(SCENARIO)) $(BIN)/run_scenario --scenario $(SCENARIO) --scale $(SCALE)

db: deps
	@$(MAKE) --no-print-directory $(DATABASE_FILE)

pg: deps
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
bench: deps
	@$(MAKE) --no-print-directory all db
	$(WITH_PG) $(BIN)/bench --scale $(BENCH_SCALE) $(if $(RUNS),--runs $(RUNS)) --out results

# docs/scale.md: K requests at once, event loop against threads; adds
# results/scale.json, which `report` renders into REPORT.md.
bench-scale: deps
	@$(MAKE) --no-print-directory all
	$(BIN)/bench_scale --out results $(if $(KS),--k $(KS))
	$(BIN)/report results

report: deps
	@$(MAKE) --no-print-directory $(BIN)/report
	$(BIN)/report results

# The per-scenario rules come first in this file; without this, a bare
# `make` would build only the first scenario's first program.
.DEFAULT_GOAL := all

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
