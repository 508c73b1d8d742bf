/*
 * Unit tests: reading /proc/<pid>/stat (scenarios/common/base/proc_stat.c),
 * on this test's own process and thread, including a name that holds the
 * spaces and parentheses that make the line hard to split.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc_stat.h"

static void our_own_process_is_read_as_the_kernel_sees_it(void **state)
{
    (void)state;
    struct proc_stat stat;
    assert_true(proc_stat_read(getpid(), 0, &stat));
    assert_int_equal(stat.state, 'R');  /* it is running: it is reading */
    assert_int_equal(stat.parent, getppid());
    assert_int_equal(stat.group, getpgrp());
    assert_true(stat.cpu_seconds >= 0);
}

/* This process's user and system CPU so far, as getrusage counts them. */
static void rusage_cpu(double *user, double *system)
{
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    *user = (double)usage.ru_utime.tv_sec + (double)usage.ru_utime.tv_usec / 1e6;
    *system = (double)usage.ru_stime.tv_sec + (double)usage.ru_stime.tv_usec / 1e6;
}

/* The CPU time is getrusage's, user and system both (to the kernel's
 * 10 ms tick), so the right two fields are read: the test works in both
 * until each has at least 0.06 s, more than the 0.03 s allowed between them. */
static void the_cpu_time_is_user_and_system_both(void **state)
{
    (void)state;
    volatile unsigned long spin = 0;
    double user = 0, system = 0;
    while (user < 0.06 || system < 0.06) {
        for (int i = 0; i < 100000; i++)  /* user time */
            spin += (unsigned long)i;
        for (int i = 0; i < 2000; i++)    /* system time: a real system call each */
            spin += (unsigned long)syscall(SYS_getppid);
        rusage_cpu(&user, &system);
    }
    struct proc_stat stat;
    assert_true(proc_stat_read(getpid(), 0, &stat));
    rusage_cpu(&user, &system);
    assert_true(stat.cpu_seconds > user + system - 0.03);
    assert_true(stat.cpu_seconds <= user + system + 0.03);
}

/* A child in a process group of its own, so that its parent (us) and its
 * group (itself) are different numbers and cannot be mistaken for each
 * other. */
static void a_child_has_its_parent_and_its_own_group(void **state)
{
    (void)state;
    pid_t child = fork();
    if (child == 0) {
        setpgid(0, 0);
        pause();  /* until the test kills it */
        _exit(0);
    }
    assert_true(child > 0);
    setpgid(child, child);  /* whichever of the two runs first */
    struct proc_stat stat;
    bool read = proc_stat_read(child, 0, &stat);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    assert_true(read);
    assert_int_equal(stat.parent, getpid());
    assert_int_equal(stat.group, child);
    assert_true(stat.state != 'Z');
}

static void a_name_with_spaces_and_parentheses_is_kept_whole(void **state)
{
    (void)state;
    char before[16] = "";
    prctl(PR_GET_NAME, before);
    prctl(PR_SET_NAME, "a) b (c) d");
    struct proc_stat stat;
    bool read = proc_stat_read(getpid(), 0, &stat);
    prctl(PR_SET_NAME, before);
    assert_true(read);
    assert_string_equal(stat.name, "a) b (c) d");
    assert_int_equal(stat.parent, getppid());  /* the fields after it still line up */
    assert_int_equal(stat.group, getpgrp());
}

static void a_thread_is_read_from_its_task_entry(void **state)
{
    (void)state;
    struct proc_stat stat;
    int thread = (int)syscall(SYS_gettid);
    assert_true(proc_stat_read(getpid(), thread, &stat));
    assert_int_equal(stat.state, 'R');
    assert_int_equal(stat.group, getpgrp());
}

static void no_such_process_is_false(void **state)
{
    (void)state;
    struct proc_stat stat;
    assert_false(proc_stat_read(0, 0, &stat));
    assert_false(proc_stat_read(-1, 0, &stat));
    assert_false(proc_stat_read(getpid(), 999999999, &stat));  /* no such thread */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(our_own_process_is_read_as_the_kernel_sees_it),
        cmocka_unit_test(a_child_has_its_parent_and_its_own_group),
        cmocka_unit_test(the_cpu_time_is_user_and_system_both),
        cmocka_unit_test(a_name_with_spaces_and_parentheses_is_kept_whole),
        cmocka_unit_test(a_thread_is_read_from_its_task_entry),
        cmocka_unit_test(no_such_process_is_false),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
