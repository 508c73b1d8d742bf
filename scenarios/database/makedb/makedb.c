/*
 * database/makedb/makedb.c - builds the SQLite database of the database
 * lesson (docs/database.md).
 *
 *     build/bin/database_makedb [--out build/asynclab.db] [--cities N]
 *                               [--seed S] [--force] [--quiet]
 *     build/bin/database_makedb --postgres [--cities N] [--seed S] | psql ...
 *
 * Two tables and nothing else (no index beyond the primary keys: the lesson
 * needs queries that make the database work hard):
 *
 *     states(id INTEGER PRIMARY KEY, long_name TEXT NOT NULL, state TEXT NOT NULL)
 *     cities(id INTEGER PRIMARY KEY, name TEXT NOT NULL, state_id INTEGER NOT NULL)
 *
 * states holds Brazil's 27 federative units.  cities holds N invented city
 * names, each in a state drawn in proportion to how many municipalities the
 * real state has, so Minas Gerais and São Paulo are crowded and Roraima is
 * not.  Everything comes from one seeded generator: the same --cities and
 * --seed give the same rows, on any machine, every time.
 *
 * It lives in a folder of its own because it is not one of the scenario's
 * programs; `make db` builds it and runs it.  It refuses to replace an
 * existing file unless told to (--force), and it writes to a temporary file
 * that is renamed into place only when complete, so an interrupted run
 * never leaves a half-built database behind.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "args.h"
#include "exit_codes.h"
#include "parse.h"

static const char PROGRAM[] = "database_makedb";

/* Sized so the slowest query takes a few seconds on a 2-core machine; see
 * docs/database.md for what it measured. */
#define DEFAULT_CITIES 3000000L
#define MAX_CITIES 100000000L
#define DEFAULT_SEED 2024u
#define DEFAULT_OUT "build/asynclab.db"

struct options {
    const char *out;
    long cities;
    uint64_t seed;
    bool force;
    bool quiet;
    bool postgres;  /* write a psql script to stdout instead of an SQLite file */
};

/* ------------------------------------------------------------ the data */

/* The 27 federative units, and how many municipalities each has (IBGE
 * 2022, 5 570 in all): the weights that spread the invented cities. */
static const struct state {
    const char *long_name;
    const char *code;
    int municipalities;
} STATES[] = {
    { "Acre", "AC", 22 },          { "Alagoas", "AL", 102 },
    { "Amapá", "AP", 16 },         { "Amazonas", "AM", 62 },
    { "Bahia", "BA", 417 },        { "Ceará", "CE", 184 },
    { "Distrito Federal", "DF", 1 }, { "Espírito Santo", "ES", 78 },
    { "Goiás", "GO", 246 },        { "Maranhão", "MA", 217 },
    { "Mato Grosso", "MT", 141 },  { "Mato Grosso do Sul", "MS", 79 },
    { "Minas Gerais", "MG", 853 }, { "Pará", "PA", 144 },
    { "Paraíba", "PB", 223 },      { "Paraná", "PR", 399 },
    { "Pernambuco", "PE", 185 },   { "Piauí", "PI", 224 },
    { "Rio de Janeiro", "RJ", 92 }, { "Rio Grande do Norte", "RN", 167 },
    { "Rio Grande do Sul", "RS", 497 }, { "Rondônia", "RO", 52 },
    { "Roraima", "RR", 15 },       { "Santa Catarina", "SC", 295 },
    { "São Paulo", "SP", 645 },    { "Sergipe", "SE", 75 },
    { "Tocantins", "TO", 139 },
};
#define STATE_COUNT (sizeof STATES / sizeof STATES[0])

/* The pieces invented names are made of. */
static const char *const PREFIXES[] = {
    "São ", "Santa ", "Santo ", "Nova ", "Novo ", "Porto ", "Campo ", "Rio ",
    "Serra ", "Vila ", "Barra do ", "Bom Jesus do ", "Alto ", "Lagoa ", "Ponte ",
};
static const char *const SYLLABLES[] = {
    "a", "ba", "be", "bi", "bo", "ca", "co", "cu", "da", "di", "do", "fa", "ga", "go",
    "gua", "i", "ja", "jo", "ju", "la", "li", "lu", "ma", "me", "mi", "mo", "mu", "na",
    "ne", "no", "pa", "pe", "pi", "po", "qui", "ra", "re", "ri", "ro", "ru", "sa", "se",
    "si", "ta", "te", "ti", "to", "tu", "u", "va", "vi", "xa", "xi", "ze",
};
static const char *const ENDINGS[] = {
    "", "", "", "", "lândia", "polis", "tinga", "rana", "tuba", "guaçu", "mirim", "ba",
};
static const char *const SUFFIXES[] = {
    " do Sul", " do Norte", " da Serra", " do Oeste", " Grande", " Velho", " das Flores",
    " dos Campos", " de Minas", " do Campo", " Paulista", " Alegre",
};
#define COUNT_OF(array) (sizeof (array) / sizeof (array)[0])

/* ------------------------------------------------------------ randomness */

/* SplitMix64: tiny, fast, and the same sequence for a seed on every
 * platform, which is all a reproducible data set needs (rand() is neither
 * portable across C libraries nor seedable per generator). */
static uint64_t next_random(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* A number in [0, bound): the tiny modulo bias does not matter here. */
static size_t random_below(uint64_t *state, size_t bound)
{
    return (size_t)(next_random(state) % bound);
}

/* A state id (1-based, the states table's order), weighted by how many
 * municipalities the real state has. */
static int random_state_id(uint64_t *state, int total_weight)
{
    int pick = (int)random_below(state, (size_t)total_weight);
    for (size_t i = 0; i < STATE_COUNT; i++) {
        pick -= STATES[i].municipalities;
        if (pick < 0)
            return (int)i + 1;
    }
    return (int)STATE_COUNT;
}

/* An invented city name such as "Nova Baritinga do Sul" into name[size]. */
static void random_city_name(uint64_t *state, char *name, size_t size)
{
    size_t length = 0;
    name[0] = '\0';
    if (random_below(state, 10) < 3)
        length += (size_t)snprintf(name + length, size - length, "%s",
                                   PREFIXES[random_below(state, COUNT_OF(PREFIXES))]);
    size_t root_start = length;
    size_t syllables = 2 + random_below(state, 3);
    for (size_t i = 0; i < syllables && length < size; i++)
        length += (size_t)snprintf(name + length, size - length, "%s",
                                   SYLLABLES[random_below(state, COUNT_OF(SYLLABLES))]);
    if (length < size)
        length += (size_t)snprintf(name + length, size - length, "%s",
                                   ENDINGS[random_below(state, COUNT_OF(ENDINGS))]);
    if (length < size && random_below(state, 10) < 2)
        snprintf(name + length, size - length, "%s",
                 SUFFIXES[random_below(state, COUNT_OF(SUFFIXES))]);
    /* Every syllable starts with a lower-case ASCII letter. */
    name[root_start] = (char)(name[root_start] - 'a' + 'A');
}

/* The cities, one after another: the same sequence for the same seed,
 * whichever format they are written in. */
struct city_generator {
    uint64_t random;
    int total_weight;
    long next_id;
    long last_id;
};

static void city_generator_init(struct city_generator *generator, const struct options *options)
{
    *generator = (struct city_generator){ options->seed, 0, 1, options->cities };
    for (size_t i = 0; i < STATE_COUNT; i++)
        generator->total_weight += STATES[i].municipalities;
}

/* The next city's id, name and state; false after the last one. */
static bool next_city(struct city_generator *generator, long *id, char *name, size_t size,
                      int *state_id)
{
    if (generator->next_id > generator->last_id)
        return false;
    *id = generator->next_id++;
    random_city_name(&generator->random, name, size);
    *state_id = random_state_id(&generator->random, generator->total_weight);
    return true;
}

/* ------------------------------------------------------------ SQLite */

/* Runs statements that return no rows; on failure sqlite3_errmsg(db) says
 * why (the caller prints it, once). */
static bool exec_sql(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK;
}

static bool create_schema(sqlite3 *db)
{
    return exec_sql(db,
        "CREATE TABLE states(id INTEGER PRIMARY KEY, long_name TEXT NOT NULL,"
        " state TEXT NOT NULL);"
        "CREATE TABLE cities(id INTEGER PRIMARY KEY, name TEXT NOT NULL,"
        " state_id INTEGER NOT NULL);");
}

static bool insert_states(sqlite3 *db)
{
    sqlite3_stmt *insert = NULL;
    if (sqlite3_prepare_v2(db, "INSERT INTO states(id, long_name, state) VALUES (?, ?, ?)",
                           -1, &insert, NULL) != SQLITE_OK)
        return false;
    bool ok = true;
    for (size_t i = 0; ok && i < STATE_COUNT; i++) {
        sqlite3_bind_int(insert, 1, (int)i + 1);
        sqlite3_bind_text(insert, 2, STATES[i].long_name, -1, SQLITE_STATIC);
        sqlite3_bind_text(insert, 3, STATES[i].code, -1, SQLITE_STATIC);
        ok = sqlite3_step(insert) == SQLITE_DONE && sqlite3_reset(insert) == SQLITE_OK;
    }
    sqlite3_finalize(insert);
    return ok;
}

static bool insert_cities(sqlite3 *db, const struct options *options)
{
    sqlite3_stmt *insert = NULL;
    if (sqlite3_prepare_v2(db, "INSERT INTO cities(id, name, state_id) VALUES (?, ?, ?)",
                           -1, &insert, NULL) != SQLITE_OK)
        return false;
    struct city_generator cities;
    city_generator_init(&cities, options);
    long id;
    int state_id;
    char name[128];
    bool ok = true;
    while (ok && next_city(&cities, &id, name, sizeof name, &state_id)) {
        sqlite3_bind_int64(insert, 1, id);
        sqlite3_bind_text(insert, 2, name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(insert, 3, state_id);
        ok = sqlite3_step(insert) == SQLITE_DONE && sqlite3_reset(insert) == SQLITE_OK;
    }
    sqlite3_finalize(insert);
    return ok;
}

/* Builds the whole database in `path` (a temporary name for options->out),
 * which must not exist yet. */
static bool build_database(const char *path, const struct options *options)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL)
        != SQLITE_OK) {
        fprintf(stderr, "%s: cannot create a file beside %s: %s\n", PROGRAM, options->out,
                db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return false;
    }
    /* A fresh file nobody else can see yet: no journal, no fsync per
     * commit.  If this run dies, the temporary file is simply discarded. */
    bool ok = exec_sql(db, "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;")
              && exec_sql(db, "BEGIN") && create_schema(db) && insert_states(db)
              && insert_cities(db, options) && exec_sql(db, "COMMIT");
    if (!ok)
        fprintf(stderr, "%s: building %s failed: %s\n", PROGRAM, options->out,
                sqlite3_errmsg(db));
    if (sqlite3_close(db) != SQLITE_OK)
        ok = false;
    return ok;
}

/* ------------------------------------------------------------ PostgreSQL */

/*
 * The same rows as a psql script on `out`, for the PostgreSQL half of the
 * lesson (scripts/pg.sh pipes it into psql):
 *
 *     build/bin/database_makedb --postgres | psql ...
 *
 * The tables are created, bulk-loaded with COPY and given their primary
 * keys in one transaction.  COPY ... FREEZE writes the rows as already
 * visible to everyone, so the first query does not have to rewrite every
 * page to record that; VACUUM ANALYZE then gives the planner its
 * statistics.  COPY's text format needs tabs, newlines and backslashes
 * escaped; the generator's names and the states' never contain any.
 */
static bool write_postgres_script(FILE *out, const struct options *options)
{
    fputs("\\set ON_ERROR_STOP on\n"
          "SET client_encoding = 'UTF8';\n"
          "SET client_min_messages = warning;\n"
          "BEGIN;\n"
          "DROP TABLE IF EXISTS cities, states;\n"
          "CREATE TABLE states(id integer NOT NULL, long_name text NOT NULL,"
          " state text NOT NULL);\n"
          "CREATE TABLE cities(id integer NOT NULL, name text NOT NULL,"
          " state_id integer NOT NULL);\n"
          "COPY states (id, long_name, state) FROM stdin WITH (FREEZE);\n", out);
    for (size_t i = 0; i < STATE_COUNT; i++)
        fprintf(out, "%zu\t%s\t%s\n", i + 1, STATES[i].long_name, STATES[i].code);
    fputs("\\.\nCOPY cities (id, name, state_id) FROM stdin WITH (FREEZE);\n", out);

    struct city_generator cities;
    city_generator_init(&cities, options);
    long id;
    int state_id;
    char name[128];
    while (next_city(&cities, &id, name, sizeof name, &state_id))
        fprintf(out, "%ld\t%s\t%d\n", id, name, state_id);
    fputs("\\.\n"
          "ALTER TABLE states ADD PRIMARY KEY (id);\n"
          "ALTER TABLE cities ADD PRIMARY KEY (id);\n"
          "COMMIT;\n"
          "VACUUM ANALYZE states, cities;\n", out);
    if (fflush(out) != 0 || ferror(out)) {
        fprintf(stderr, "%s: writing the PostgreSQL script failed: %s\n", PROGRAM,
                strerror(errno));
        return false;
    }
    return true;
}

/* ------------------------------------------------------------ command line */

static void usage(FILE *stream)
{
    fprintf(stream,
            "usage: %s [--out PATH] [--cities N] [--seed S] [--force] [--quiet] [--postgres]\n"
            "Builds the database lesson's SQLite file: Brazil's 27 states and N invented cities.\n"
            "\n"
            "  --out PATH    the file to create (default " DEFAULT_OUT ")\n"
            "  --cities N    how many cities (default %ld; 1 to %ld)\n"
            "  --seed S      seed of the name generator (default %u): same seed, same rows\n"
            "  --force       replace PATH if it exists (otherwise that is refused)\n"
            "  --quiet       print nothing but errors\n"
            "  --postgres    write the same rows to stdout as a psql script (COPY) instead\n"
            "\nExample:\n  %s --out /tmp/small.db --cities 20000\n",
            PROGRAM, DEFAULT_CITIES, MAX_CITIES, DEFAULT_SEED, PROGRAM);
}

static const struct option OPTIONS[] = {
    { "out", required_argument, NULL, 'o' },   { "cities", required_argument, NULL, 'c' },
    { "seed", required_argument, NULL, 's' },  { "force", no_argument, NULL, 'f' },
    { "quiet", no_argument, NULL, 'q' },       { "postgres", no_argument, NULL, 'p' },
    { NULL, 0, NULL, 0 },
};

static int apply_option(void *context, const struct option *option, const char *value)
{
    struct options *options = context;
    long number;
    switch (option->val) {
    case 'o': options->out = value; break;
    case 'f': options->force = true; break;
    case 'q': options->quiet = true; break;
    case 'p': options->postgres = true; break;
    case 'c':
        if (!parse_long_in(value, 1, MAX_CITIES, &options->cities)) {
            char expected[64];
            snprintf(expected, sizeof expected, "a whole number from 1 to %ld", MAX_CITIES);
            return args_bad_value(PROGRAM, "cities", value, expected);
        }
        break;
    case 's':
        if (!parse_long_in(value, 0, 4294967295L, &number))
            return args_bad_value(PROGRAM, "seed", value, "a whole number from 0 to 4294967295");
        options->seed = (uint64_t)number;
        break;
    }
    return -1;
}

static int parse_options(int argc, char **argv, struct options *options)
{
    *options = (struct options){ DEFAULT_OUT, DEFAULT_CITIES, DEFAULT_SEED, false, false, false };
    return args_parse_options(PROGRAM, OPTIONS, apply_option, usage, options, argc, argv);
}

/* ------------------------------------------------------------ main */

static char temporary_path[4096 + 32];

/* Ctrl+C while building: remove the partial file, then die as asked. */
static void discard_and_die(int signal_number)
{
    if (temporary_path[0] != '\0')
        unlink(temporary_path);
    signal(signal_number, SIG_DFL);
    raise(signal_number);
}

int main(int argc, char **argv)
{
    struct options options;
    int early_exit = parse_options(argc, argv, &options);
    if (early_exit >= 0)
        return early_exit;
    if (options.postgres)
        return write_postgres_script(stdout, &options) ? EXIT_ALL_DONE : EXIT_SETUP;

    struct stat existing;
    if (!options.force && stat(options.out, &existing) == 0) {
        fprintf(stderr, "%s: %s already exists; not replacing it (add --force to rebuild it)\n",
                PROGRAM, options.out);
        return EXIT_SETUP;
    }
    int length = snprintf(temporary_path, sizeof temporary_path, "%s.tmp-%ld", options.out,
                          (long)getpid());
    if (length < 0 || (size_t)length >= sizeof temporary_path) {
        fprintf(stderr, "%s: path too long: %s\n", PROGRAM, options.out);
        return EXIT_USAGE;
    }
    unlink(temporary_path);  /* a leftover of a killed run with our pid */
    struct sigaction on_signal = { .sa_handler = discard_and_die };
    sigaction(SIGINT, &on_signal, NULL);
    sigaction(SIGTERM, &on_signal, NULL);

    if (!options.quiet)
        printf("Building %s: 27 states, %ld cities, seed %" PRIu64 "...\n", options.out,
               options.cities, options.seed);
    if (!build_database(temporary_path, &options)) {
        unlink(temporary_path);
        return EXIT_SETUP;
    }
    /* link() fails if the name exists, so a file that appeared meanwhile is
     * not replaced either; rename() replaces, which --force asked for. */
    bool placed = options.force ? rename(temporary_path, options.out) == 0
                                : link(temporary_path, options.out) == 0;
    if (!placed) {
        fprintf(stderr, "%s: cannot put the new database at %s: %s\n", PROGRAM, options.out,
                strerror(errno));
        unlink(temporary_path);
        return EXIT_SETUP;
    }
    unlink(temporary_path);  /* after link(): the old name of the same file */
    if (!options.quiet)
        printf("Done: %s\n", options.out);
    return EXIT_ALL_DONE;
}
