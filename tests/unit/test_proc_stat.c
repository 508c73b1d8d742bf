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

#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
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
        cmocka_unit_test(a_name_with_spaces_and_parentheses_is_kept_whole),
        cmocka_unit_test(a_thread_is_read_from_its_task_entry),
        cmocka_unit_test(no_such_process_is_false),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
