/*
 * command.c - bench's command lines (argv arrays it builds a word at a
 * time), what a program predicts for one, and hyperfine run on them.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "exit_codes.h"
#include "launch.h"

void command_add(struct command *command, const char *word)
{
    if (command->count < MAX_WORDS)
        command->words[command->count++] = strdup(word);
    command->words[command->count] = NULL;
}

/* Replaces the word after `flag` with `value`. */
void command_replace_word(struct command *command, const char *flag, const char *value)
{
    for (int i = 0; i + 1 < command->count; i++) {
        if (strcmp(command->words[i], flag) == 0) {
            free(command->words[i + 1]);
            command->words[i + 1] = strdup(value);
            return;
        }
    }
}

void command_free(struct command *command)
{
    for (int i = 0; i < command->count; i++)
        free(command->words[i]);
    command->count = 0;
    command->words[0] = NULL;
}

/* hyperfine's --export-json to json_path ("x/slow_api.json"), and beside it
 * its Markdown and CSV tables (slow_api.md, slow_api.csv) for people who
 * paste the numbers into a document or a spreadsheet. */
void add_exports(struct command *hyperfine, const char *json_path)
{
    size_t stem = strlen(json_path) - strlen(".json");
    char path[PATH_MAX];
    command_add(hyperfine, "--export-json");
    command_add(hyperfine, json_path);
    snprintf(path, sizeof path, "%.*s.md", (int)stem, json_path);
    command_add(hyperfine, "--export-markdown");
    command_add(hyperfine, path);
    snprintf(path, sizeof path, "%.*s.csv", (int)stem, json_path);
    command_add(hyperfine, "--export-csv");
    command_add(hyperfine, path);
}

/* The command as one line for hyperfine, which splits it like a shell
 * would (with -N, no shell runs it): a word with a space is quoted. */
void command_line(const struct command *command, char *line, size_t size)
{
    size_t used = 0;
    line[0] = '\0';
    for (int i = 0; i < command->count && used < size; i++) {
        const char *word = command->words[i];
        bool quote = strpbrk(word, " \t") != NULL;
        used += (size_t)snprintf(line + used, size - used, "%s%s%s%s", i ? " " : "",
                                 quote ? "'" : "", word, quote ? "'" : "");
    }
}

/* "Predicted time: 1.700 s (sync: the sum of the delays)": the number (NAN
 * when the program says "?", as one whose work is only known by doing it)
 * and the explanation, which may itself contain parentheses. */
static double parse_prediction(const char *out, char *note, size_t note_size)
{
    const char *line = strstr(out, "Predicted time: ");
    if (line == NULL)
        return NAN;
    line += strlen("Predicted time: ");
    const char *end = line + strcspn(line, "\n");
    const char *open = memchr(line, '(', (size_t)(end - line));
    const char *close = end;
    while (close > line && close[-1] != ')')
        close--;
    if (open != NULL && close > open + 1)
        snprintf(note, note_size, "%.*s", (int)(close - 1 - (open + 1)), open + 1);
    char *number_end;
    double predicted = strtod(line, &number_end);
    return number_end != line && isfinite(predicted) ? predicted : NAN;
}

/* What the program says the lesson's model predicts: its own command line
 * plus --predict, which answers at once without any network. */
double ask_prediction(const struct command *command, char *note, size_t note_size)
{
    struct command asking = { .count = 0 };
    for (int i = 0; i < command->count; i++)
        command_add(&asking, command->words[i]);
    command_add(&asking, "--predict");
    char *out = NULL;
    double predicted = NAN;
    note[0] = '\0';
    if (launch_capture(BENCH_PROGRAM, asking.words, &out, NULL) == 0)
        predicted = parse_prediction(out, note, note_size);
    free(out);
    command_free(&asking);
    return predicted;
}

/* Runs hyperfine in the foreground (its progress is the user's to watch).
 * Returns its exit status. */
int run_hyperfine(struct command *hyperfine)
{
    if (interrupted)
        return -1;
    return launch_run_forwarding(BENCH_PROGRAM, hyperfine->words);
}

/* After hyperfine gave up: run each program once more, alone, and say
 * which one failed and what it printed last on stderr. */
void diagnose(const struct command *commands, const char *const *names, size_t count,
              bool fails_by_design, char *why, size_t why_size)
{
    for (size_t i = 0; i < count && !interrupted; i++) {
        char *err = NULL;
        int status = launch_capture(BENCH_PROGRAM, commands[i].words, NULL, &err);
        char line[512];
        launch_last_line(err, line, sizeof line);
        free(err);
        if (status == 0 || (fails_by_design && status == EXIT_TASKS_FAILED))
            continue;
        const char *slash = strrchr(commands[i].words[0], '/');
        snprintf(why, why_size, "%s (%s) exited %d%s%s%s",
                 slash ? slash + 1 : commands[i].words[0], names[i], status,
                 status == EXIT_SETUP ? " (setup problem)"
                 : status == EXIT_TASKS_FAILED ? " (tasks failed; if that is the lesson, mark the "
                                                 "scenario fails_by_design in harness/scenarios.h)"
                 : "", line[0] ? ": " : "", line);
        return;
    }
}
