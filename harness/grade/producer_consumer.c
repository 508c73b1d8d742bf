/*
 * producer_consumer.c - grading the producer_consumer lab.
 *
 * The producer-consumer lab: items fetched by up to P producers into a queue
 * of at most Q, processed by up to C consumers, on one event loop.  The seed
 * draws the work so that the consumers are the slow stage (the queue fills
 * and backpressure matters); the server's per-path counters show how many
 * fetches and posts were in flight.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grading.h"
#include "seed.h"
#include "server_stats.h"

enum {
    PC_DONE, PC_SUMMARY, PC_EXIT, PC_FETCHES, PC_POSTS, PC_ON_TIME, PC_SLEEPS,
    PC_SERVER_DOWN, PC_BAD_FLAG, PC_SERVER_DIES, PC_VALGRIND,
};

static const struct rubric_check PRODUCER_CONSUMER_CHECKS[] = {
    [PC_DONE] = { "correctness", 25,
        "every item fetched and processed once: a \"done\" line per id, none lost" },
    [PC_SUMMARY] = { "correctness", 5, "\"Items processed: N of N\"" },
    [PC_EXIT] = { "correctness", 5, "exit 0" },
    [PC_FETCHES] = { "concurrency", 15,
        "fetches in flight: min(P, Q) at most and at once (slowserver's /stats for /items): "
        "the producers work together and the room check holds them back" },
    [PC_POSTS] = { "concurrency", 15, "posts in flight: exactly C at most (/stats for /process)" },
    [PC_ON_TIME] = { "efficiency", 10,
        "the run ends within 1.25x of the lesson's --predict (+0.5 s)" },
    [PC_SLEEPS] = { "efficiency", 5,
        "it sleeps while it waits: at most twice the CPU of the lesson's async.c on the same "
        "work (+0.05 s)" },
    [PC_SERVER_DOWN] = { "robustness", 3, "no server at --url: exit 2" },
    [PC_BAD_FLAG] = { "robustness", 2, "--queue 0: exit 1" },
    [PC_SERVER_DIES] = { "robustness", 5,
        "the server dies mid-run: the program still ends, within 3 s, with exit 3" },
    [PC_VALGRIND] = { "memory", 10, "valgrind: no memory errors, nothing leaked" },
};

struct pc_work {
    char items[16], fetch[16], process[16], producers[16], consumers[16], queue[16];
    long item_count, p, c, q;
};

static void pc_draw(unsigned long seed, struct pc_work *work)
{
    struct seed draw = seed_start(seed);
    work->item_count = seed_between(&draw, 8, 14);
    work->p = seed_between(&draw, 2, 3);
    work->c = seed_between(&draw, 2, 3);
    work->q = seed_between(&draw, 2, 4);
    /* Fetching at P / F items a second always outpaces processing at C / D. */
    snprintf(work->items, sizeof work->items, "%ld", work->item_count);
    snprintf(work->fetch, sizeof work->fetch, "%g", seed_step(&draw, 0.1, 0.15, 0.05));
    snprintf(work->process, sizeof work->process, "%g", seed_step(&draw, 0.4, 0.6, 0.05));
    snprintf(work->producers, sizeof work->producers, "%ld", work->p);
    snprintf(work->consumers, sizeof work->consumers, "%ld", work->c);
    snprintf(work->queue, sizeof work->queue, "%ld", work->q);
}

/* Every item's "done" line exactly once, and none lost; false with why. */
static bool items_done(const struct pc_work *work, const struct launch_result *result,
                       char *why, size_t size)
{
    bool done = !result->killed && strstr(result->out, ": lost:") == NULL;
    for (long id = 0; id < work->item_count && done; id++) {
        char line[96];
        snprintf(line, sizeof line, "\nI%ld: done       the server acknowledged id %ld\n", id, id);
        const char *first = strstr(result->out, line);
        if (first == NULL || strstr(first + 1, line) != NULL) {
            done = false;
            snprintf(why, size, first ? "I%ld processed more than once"
                                      : "no \"I%ld: done\" line", id);
        }
    }
    if (strstr(result->out, ": lost:") != NULL)
        snprintf(why, size, "items lost: fetched into a full queue (no backpressure)");
    return done;
}

/* The items, the summary line, the exit status; returns whether every item
 * was done (the timing checks need it). */
static bool grade_pc_correctness(struct grade_sheet *sheet, const struct pc_work *work,
                                 const struct launch_result *result)
{
    char end[64], why[160] = "every item done once, none lost";
    describe_end(result, end, sizeof end);
    bool done = items_done(work, result, why, sizeof why);
    grade_check(sheet, PC_DONE, done, "%s%s%s", why, result->killed ? "; " : "",
                result->killed ? end : "");
    char summary[64];
    snprintf(summary, sizeof summary, "Items processed: %ld of %ld", work->item_count,
             work->item_count);
    grade_check(sheet, PC_SUMMARY, strstr(result->out, summary) != NULL, "%s\"%s\"",
                strstr(result->out, summary) ? "" : "no line ", summary);
    grade_check(sheet, PC_EXIT, result->status == 0, "%s", end);
    return done;
}

/* The server's counts: min(P, Q) fetches and C posts in flight at most. */
static void grade_pc_concurrency(struct grade_sheet *sheet, const struct pc_work *work,
                                 long fetches, long posts)
{
    long want_fetches = work->p < work->q ? work->p : work->q;
    grade_check(sheet, PC_FETCHES, fetches == want_fetches,
                "P=%ld, Q=%ld: the server held %ld fetches at once%s", work->p, work->q,
                fetches < 0 ? 0 : fetches, fetches == want_fetches ? ""
                : fetches > want_fetches ? ": more than the room check allows"
                                         : ": the producers did not work together");
    grade_check(sheet, PC_POSTS, posts == work->c, "C=%ld: the server held %ld posts at once%s",
                work->c, posts < 0 ? 0 : posts, posts == work->c ? ""
                : posts > work->c ? ": more than C" : ": the consumers did not work together");
}

/* Against the lesson's own async.c on the same work: its --predict for the
 * time, one run of it for the CPU. */
static void grade_pc_efficiency(struct grading *grading, const char *url,
                                const char *const *args, double serial,
                                const struct launch_result *result, bool done)
{
    struct grade_sheet *sheet = &grading->sheet;
    double predicted = lesson_prediction("producer_consumer_async", args);
    char lesson[PATH_MAX + 64];
    snprintf(lesson, sizeof lesson, "%s/producer_consumer_async", grade_bin_dir);
    const char *argv[32] = { lesson, "--url", url };
    size_t count = 3;
    for (size_t i = 0; args[i] != NULL; i++)
        argv[count++] = args[i];
    argv[count] = NULL;
    struct launch_result yardstick;
    launch_run_bounded(GRADE_PROGRAM, (char *const *)argv, serial + 5.0, NULL, &yardstick);
    if (!done) {
        grade_check(sheet, PC_ON_TIME, false, "not timed: the items were not all done");
        grade_check(sheet, PC_SLEEPS, false, "not measured: the items were not all done");
    } else {
        grade_check(sheet, PC_ON_TIME, result->wall_s <= allowed_time(predicted),
                    "took %.2f s (predicted %.2f, allowed %.2f)", result->wall_s, predicted,
                    allowed_time(predicted));
        double allowed = IDLE_CPU_RATIO * yardstick.cpu_s + IDLE_CPU_ALLOWANCE_S;
        grade_check(sheet, PC_SLEEPS, result->cpu_s <= allowed, "used %.3f s of CPU (the "
                    "lesson's async.c %.3f s, allowed %.3f)%s", result->cpu_s, yardstick.cpu_s,
                    allowed, result->cpu_s <= allowed ? ""
                    : ": it spins instead of sleeping in curl_multi_poll");
    }
    launch_result_free(&yardstick);
}

static void grade_pc_robustness(struct grading *grading, const char *url)
{
    const char *plain[] = { "--items", "2", NULL };
    grade_server_down(grading, PC_SERVER_DOWN, plain);
    const char *bad[] = { "--queue", "0", NULL };
    grade_exit_status(grading, PC_BAD_FLAG, "http://127.0.0.1:1", bad, 1, "--queue 0");
    const char *slow[] = { "--items", "6", "--fetch-delay", "1", "--process-delay", "1", NULL };
    grade_server_dies(grading, PC_SERVER_DIES, slow);
    const char *small[] = { "--items", "3", "--scale", "0.1", "--quiet", NULL };
    grade_memory(grading, PC_VALGRIND, url, small);
}

static void grade_producer_consumer(struct grading *grading)
{
    struct pc_work work;
    pc_draw(grading->seed, &work);
    grading->work = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "items", work.items,
                              "fetch_delay", work.fetch, "process_delay", work.process,
                              "producers", work.producers, "consumers", work.consumers,
                              "queue", work.queue);
    const char *url = server_pool_url(&grading->servers, "async", true);
    if (url == NULL) {
        grade_fail_rest(&grading->sheet, "the grader could not start slowserver");
        return;
    }
    const char *args[] = { "--items", work.items, "--fetch-delay", work.fetch,
                           "--process-delay", work.process, "--producers", work.producers,
                           "--consumers", work.consumers, "--queue", work.queue, NULL };
    double serial = (double)work.item_count * (atof(work.fetch) + atof(work.process));
    struct launch_result result;
    server_stats_reset(url);
    run_submission(grading, url, args, serial + 2.0, NULL, &result);
    long fetches = server_stats_path(url, "/items", "max_in_flight");
    long posts = server_stats_path(url, "/process", "max_in_flight");
    bool done = grade_pc_correctness(&grading->sheet, &work, &result);
    grade_pc_concurrency(&grading->sheet, &work, fetches, posts);
    grade_pc_efficiency(grading, url, args, serial, &result, done);
    launch_result_free(&result);
    grade_pc_robustness(grading, url);
}

const struct lab PRODUCER_CONSUMER_LAB = {
    "producer_consumer", "async.c", true, PRODUCER_CONSUMER_CHECKS,
    sizeof PRODUCER_CONSUMER_CHECKS / sizeof PRODUCER_CONSUMER_CHECKS[0], grade_producer_consumer,
};
