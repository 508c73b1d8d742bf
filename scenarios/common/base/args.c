/* args.c - the shared getopt_long wrapper; see args.h. */
#include "args.h"

#include <stdlib.h>
#include <string.h>

#include "exit_codes.h"

enum { ARG_HELP = 0x7f00, ARG_VERSION };

static size_t option_count(const struct option *options)
{
    size_t count = 0;
    while (options != NULL && options[count].name != NULL)
        count++;
    return count;
}

static const struct option *find(const struct option *options, const char *name)
{
    for (size_t i = 0; options != NULL && options[i].name != NULL; i++)
        if (strcmp(options[i].name, name) == 0)
            return &options[i];
    return NULL;
}

/* The program's table with --help and --version after it (unless it has
 * its own), every entry reporting through getopt_long's `val`: its index. */
static struct option *full_table(const struct option *options, size_t count)
{
    struct option *table = calloc(count + 3, sizeof *table);
    if (table == NULL)
        return NULL;
    for (size_t i = 0; i < count; i++) {
        table[i] = options[i];
        table[i].flag = NULL;
        table[i].val = (int)i;
    }
    size_t used = count;
    if (find(options, "help") == NULL)
        table[used++] = (struct option){ "help", no_argument, NULL, ARG_HELP };
    if (find(options, "version") == NULL)
        table[used++] = (struct option){ "version", no_argument, NULL, ARG_VERSION };
    return table;  /* the last entry stays all zeros: the terminator */
}

int args_bad_value(const char *program, const char *flag, const char *value,
                   const char *expected)
{
    fprintf(stderr, "%s: invalid value '%s' for --%s (expected %s; see --help)\n", program,
            value ? value : "", flag, expected);
    return EXIT_USAGE;
}

/* The option as the user typed it, without "=value", for messages. */
static void typed_option(char *const *argv, int index, char *text, size_t size)
{
    const char *typed = index > 0 ? argv[index - 1] : "?";
    size_t length = strcspn(typed, "=");
    snprintf(text, size, "%.*s", (int)length, typed);
}

static int check_required(const struct args_parser *parser, const bool *given, size_t count)
{
    for (size_t r = 0; parser->required != NULL && parser->required[r] != NULL; r++) {
        const struct option *option = find(parser->options, parser->required[r]);
        size_t index = option ? (size_t)(option - parser->options) : count;
        if (index >= count || !given[index]) {
            fprintf(stderr, "%s: missing --%s, which is required (see --help)\n",
                    parser->program, parser->required[r]);
            return EXIT_USAGE;
        }
    }
    return -1;
}

static int store_operands(const struct args_parser *parser, int argc, char **argv)
{
    size_t stored = 0;
    for (int i = optind; i < argc; i++) {
        if (stored >= parser->operand_max) {
            fprintf(stderr, "%s: unexpected argument '%s' (see --help)\n", parser->program,
                    argv[i]);
            return EXIT_USAGE;
        }
        parser->operands[stored++] = argv[i];
    }
    if (parser->operand_count != NULL)
        *parser->operand_count = stored;
    return -1;
}

static int handle(const struct args_parser *parser, int code, char **argv, bool *given,
                  size_t count)
{
    char typed[128];
    switch (code) {
    case ARG_HELP:
        parser->usage(stdout);
        return EXIT_ALL_DONE;
    case ARG_VERSION:
        printf("%s (asynclab) %s\n", parser->program, ASYNCLAB_VERSION);
        return EXIT_ALL_DONE;
    case ':':
        typed_option(argv, optind, typed, sizeof typed);
        fprintf(stderr, "%s: %s needs a value (see --help)\n", parser->program, typed);
        return EXIT_USAGE;
    case '?':
        typed_option(argv, optind, typed, sizeof typed);
        fprintf(stderr, "%s: unknown option '%s' (see --help)\n", parser->program, typed);
        return EXIT_USAGE;
    default:
        break;
    }
    if (code < 0 || (size_t)code >= count)
        return EXIT_USAGE;
    given[code] = true;
    return parser->apply(parser->context, &parser->options[code], optarg);
}

int args_parse(const struct args_parser *parser, int argc, char **argv)
{
    size_t count = option_count(parser->options);
    struct option *table = full_table(parser->options, count);
    bool *given = calloc(count + 1, sizeof *given);
    int status = -1;
    if (table == NULL || given == NULL) {
        fprintf(stderr, "%s: out of memory\n", parser->program);
        status = EXIT_USAGE;
    }
    opterr = 0;   /* our own one-line messages instead of getopt's */
    optind = 1;   /* parsing may happen more than once (the unit tests do) */
    int code;
    /* ":h": a leading ':' makes a missing value ':' rather than '?'. */
    while (status < 0 && (code = getopt_long(argc, argv, ":h", table, NULL)) != -1)
        status = handle(parser, code == 'h' ? ARG_HELP : code, argv, given, count);
    if (status < 0)
        status = check_required(parser, given, count);
    if (status < 0)
        status = store_operands(parser, argc, argv);
    free(table);
    free(given);
    return status;
}

int args_parse_options(const char *program, const struct option *options,
                       int (*apply)(void *context, const struct option *option,
                                    const char *value),
                       void (*usage)(FILE *stream), void *context, int argc, char **argv)
{
    const struct args_parser parser = {
        .program = program, .options = options, .apply = apply, .usage = usage,
        .context = context,
    };
    return args_parse(&parser, argc, argv);
}
