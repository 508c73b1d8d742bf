/*
 * cli.c - parses the shared command line plus a scenario's own flags.
 *
 * getopt_long does the scanning; this file builds its option table from the
 * common flags and the scenario's table, and turns every mistake into one
 * line on stderr, because a student's typo deserves a sentence, not a crash.
 */
#include "seed.h"
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "parse.h"

/* getopt_long's "val" for the common flags; a scenario's own options use
 * their index in its table plus SCENARIO_OPTION_BASE. */
enum {
    OPT_URL = 1000,
    OPT_SCALE,
    OPT_TRACE,
    OPT_QUIET,
    OPT_PREDICT,
    OPT_SEED,
    OPT_STALL_TIMEOUT,
    OPT_MAX_TIME,
    OPT_HELP = 'h',
    SCENARIO_OPTION_BASE = 2000,
};

static const struct option common_options[] = {
    { "url", required_argument, NULL, OPT_URL },
    { "scale", required_argument, NULL, OPT_SCALE },
    { "trace", required_argument, NULL, OPT_TRACE },
    { "quiet", no_argument, NULL, OPT_QUIET },
    { "predict", no_argument, NULL, OPT_PREDICT },
    { "seed", required_argument, NULL, OPT_SEED },
    { "stall-timeout", required_argument, NULL, OPT_STALL_TIMEOUT },
    { "max-time", required_argument, NULL, OPT_MAX_TIME },
    { "help", no_argument, NULL, OPT_HELP },
};
#define COMMON_OPTION_COUNT (sizeof common_options / sizeof common_options[0])

/* Largest --scale accepted: 1000x a 10 s lesson is already hours. */
#define MAX_SCALE 1000.0
/* Largest --stall-timeout and --max-time: a day.  Zero is refused: these
 * flags exist so that nothing waits for ever. */
#define MAX_BOUND_S 86400.0

static void print_usage(const struct cli_program *program)
{
    printf("usage: %s [options]\n%s\n", program->name, program->purpose);
    if (program->option_count > 0)
        printf("\nScenario options:\n");
    for (size_t i = 0; i < program->option_count; i++) {
        const struct cli_option *option = &program->options[i];
        char left[64];
        snprintf(left, sizeof left, "--%s%s%s", option->name,
                 option->value_name ? " " : "", option->value_name ? option->value_name : "");
        printf("  %-22s %s\n", left, option->help);
    }
    printf("\nCommon options:\n"
           "  --url URL              server base URL (default " CLI_DEFAULT_URL
           ", or $ASYNCLAB_URL)\n"
           "  --scale F              multiply every delay by F (default 1: the lesson's numbers)\n"
           "  --trace FILE           write a Chrome trace of every task (open it in Perfetto)\n"
           "  --quiet                print only the summary line\n"
           "  --predict              print the time the lesson's model predicts, and exit\n"
           "  --seed N               random work drawn from N instead of the lesson's\n"
           "  --stall-timeout S      give up on a reply that sends nothing for S seconds\n"
           "                         (default: the longest wait the work needs, plus 10)\n"
           "  --max-time S           give up on any one request after S seconds\n"
           "                         (default: twice the longest wait, plus 30)\n"
           "  -h, --help             this help\n"
           "  --version              the program's name and asynclab's version\n"
           "\nExit status: 0 all work done, 1 usage error, 2 setup problem (server or\n"
           "database missing), 3 some tasks failed or timed out.\n"
           "\nExample:\n  %s\n", program->example);
}

static bool set_url(struct cli_common *common, const char *url)
{
    size_t length = strlen(url);
    /* A host must follow: "http:///" or "http://:8000" names no server. */
    if (strncmp(url, "http://", 7) != 0 || length <= 7 || length >= sizeof common->url
        || strchr("/:?#@", url[7]) != NULL)
        return false;
    memcpy(common->url, url, length + 1);
    /* "http://host:8000/" and "http://host:8000" must build the same URLs. */
    while (length > 7 && common->url[length - 1] == '/')
        common->url[--length] = '\0';
    return true;
}

static void set_defaults(const struct cli_program *program, struct cli_common *common)
{
    memset(common, 0, sizeof *common);
    common->program = program->name;
    common->scale = 1.0;
    snprintf(common->url, sizeof common->url, "%s", CLI_DEFAULT_URL);
}

/* Fills getopt_long's table: common flags first, then the scenario's. */
static struct option *build_option_table(const struct cli_program *program)
{
    size_t total = COMMON_OPTION_COUNT + program->option_count + 1;
    struct option *table = calloc(total, sizeof *table);
    if (table == NULL)
        return NULL;
    memcpy(table, common_options, sizeof common_options);
    for (size_t i = 0; i < program->option_count; i++) {
        struct option *entry = &table[COMMON_OPTION_COUNT + i];
        entry->name = program->options[i].name;
        entry->has_arg = program->options[i].value_name ? required_argument : no_argument;
        entry->val = SCENARIO_OPTION_BASE + (int)i;
    }
    return table;  /* the last entry stays all zeros: the terminator */
}

static enum cli_result invalid_value(const struct cli_common *common, const char *flag,
                                     const char *value, const char *expects)
{
    fprintf(stderr, "%s: invalid value '%s' for --%s (expected %s; see --help)\n",
            common->program, value ? value : "", flag, expects);
    return CLI_EXIT_USAGE;
}

/* Handles one option getopt_long returned. */
static enum cli_result apply_option(const struct cli_program *program, int code,
                                    const char *value, char *const *argv,
                                    struct cli_common *common)
{
    switch (code) {
    case OPT_URL:
        if (!set_url(common, value))
            return invalid_value(common, "url", value, "an http:// URL");
        return CLI_RUN;
    case OPT_SCALE:
        if (!parse_double_in(value, 0.0, MAX_SCALE, &common->scale) || common->scale <= 0.0)
            return invalid_value(common, "scale", value, "a number greater than 0, at most 1000");
        return CLI_RUN;
    case OPT_TRACE:
        common->trace_path = value;
        return CLI_RUN;
    case OPT_STALL_TIMEOUT:
    case OPT_MAX_TIME: {
        double *bound = code == OPT_MAX_TIME ? &common->max_time : &common->stall_timeout;
        if (!parse_double_in(value, 0.0, MAX_BOUND_S, bound) || *bound <= 0.0)
            return invalid_value(common, code == OPT_MAX_TIME ? "max-time" : "stall-timeout",
                                 value, "seconds greater than 0, at most 86400");
        return CLI_RUN;
    }
    case OPT_QUIET:
        common->quiet = true;
        return CLI_RUN;
    case OPT_PREDICT:
        common->predict = true;
        return CLI_RUN;
    case OPT_SEED: {
        long seed;
        if (!parse_long_in(value, 0, SEED_MAX, &seed))
            return invalid_value(common, "seed", value, SEED_EXPECTED);
        common->seed = (unsigned long)seed;
        common->seeded = true;
        return CLI_RUN;
    }
    case OPT_HELP:
        print_usage(program);
        return CLI_EXIT_OK;
    default:
        break;
    }
    if (code >= SCENARIO_OPTION_BASE && code < SCENARIO_OPTION_BASE + (int)program->option_count) {
        const struct cli_option *option = &program->options[code - SCENARIO_OPTION_BASE];
        if (!option->apply(value, option->target))
            return invalid_value(common, option->name, value, option->expects);
        return CLI_RUN;
    }
    /* '?' from getopt_long: unknown flag, or a value missing. */
    fprintf(stderr, "%s: bad option '%s' (unknown, or missing its value; see --help)\n",
            common->program, argv[optind - 1]);
    return CLI_EXIT_USAGE;
}

/* What args_parse needs to call back into this file. */
struct cli_parse_context {
    const struct cli_program *program;
    struct cli_common *common;
    char **argv;
};

static int apply_parsed(void *context, const struct option *option, const char *value)
{
    struct cli_parse_context *parse = context;
    switch (apply_option(parse->program, option->val, value, parse->argv, parse->common)) {
    case CLI_RUN: return -1;
    case CLI_EXIT_OK: return EXIT_ALL_DONE;
    case CLI_EXIT_USAGE: break;
    }
    return EXIT_USAGE;
}

/* The program whose --help args_parse may ask for (one parse at a time). */
static const struct cli_program *parsing;

static void usage_parsed(FILE *stream)
{
    (void)stream;  /* --help goes to stdout, as print_usage writes it */
    print_usage(parsing);
}

enum cli_result cli_parse(const struct cli_program *program, int argc, char **argv,
                          struct cli_common *common)
{
    set_defaults(program, common);
    const char *env_url = getenv("ASYNCLAB_URL");
    if (env_url != NULL && env_url[0] != '\0' && !set_url(common, env_url)) {
        fprintf(stderr, "%s: ASYNCLAB_URL='%s' is not an http:// URL\n", common->program, env_url);
        return CLI_EXIT_USAGE;
    }

    struct option *table = build_option_table(program);
    if (table == NULL) {
        fprintf(stderr, "%s: out of memory\n", common->program);
        return CLI_EXIT_USAGE;
    }
    struct cli_parse_context context = { program, common, argv };
    parsing = program;
    const struct args_parser parser = {
        .program = common->program,
        .options = table,
        .apply = apply_parsed,
        .usage = usage_parsed,
        .context = &context,
    };
    int status = args_parse(&parser, argc, argv);
    free(table);
    return status < 0 ? CLI_RUN : status == EXIT_ALL_DONE ? CLI_EXIT_OK : CLI_EXIT_USAGE;
}

bool cli_apply_long(const char *value, void *target)
{
    struct cli_long_target *spec = target;
    return parse_long_in(value, spec->min, spec->max, spec->value);
}

bool cli_apply_double(const char *value, void *target)
{
    struct cli_double_target *spec = target;
    return parse_double_in(value, spec->min, spec->max, spec->value);
}

bool cli_apply_double_list(const char *value, void *target)
{
    struct cli_list_target *spec = target;
    return parse_double_list(value, spec->min, spec->max, spec->values, spec->capacity, spec->count);
}

bool cli_apply_flag(const char *value, void *target)
{
    (void)value;
    *(bool *)target = true;
    return true;
}
