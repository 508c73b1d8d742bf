/* Unit tests: the producer-consumer lesson's bounded queue, a ring buffer
 * (scenarios/producer_consumer/queue.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "producer_consumer.h"

/* An item whose JSON is a fresh heap string, as a fetch would leave it. */
static struct pc_item item_with_json(long id)
{
    struct pc_item item = pc_item_new(id);
    item.json = strdup("{\"id\":0}");
    assert_non_null(item.json);
    item.json_length = strlen(item.json);
    return item;
}

static void items_leave_in_the_order_they_came(void **state)
{
    (void)state;
    struct pc_queue queue;
    assert_true(pc_queue_init(&queue, 3));
    assert_true(pc_queue_is_empty(&queue));
    for (long id = 0; id < 3; id++) {
        struct pc_item item = item_with_json(id);
        assert_true(pc_queue_push(&queue, &item));
        assert_null(item.json);  /* the queue owns it now */
    }
    assert_true(pc_queue_is_full(&queue));
    for (long id = 0; id < 3; id++) {
        struct pc_item item;
        assert_true(pc_queue_pop(&queue, &item));
        assert_int_equal(item.id, id);
        assert_string_equal(item.label, id == 0 ? "I0" : id == 1 ? "I1" : "I2");
        free(item.json);
    }
    assert_true(pc_queue_is_empty(&queue));
    pc_queue_free(&queue);
}

static void a_full_queue_refuses_and_an_empty_one_has_nothing(void **state)
{
    (void)state;
    struct pc_queue queue;
    assert_true(pc_queue_init(&queue, 1));
    struct pc_item item;
    assert_false(pc_queue_pop(&queue, &item));

    struct pc_item first = item_with_json(7), second = item_with_json(8);
    assert_true(pc_queue_push(&queue, &first));
    assert_false(pc_queue_push(&queue, &second));
    assert_non_null(second.json);  /* refused: still the caller's */
    assert_int_equal(queue.count, 1);
    free(second.json);

    assert_true(pc_queue_pop(&queue, &item));
    assert_int_equal(item.id, 7);
    free(item.json);
    pc_queue_free(&queue);
}

/* Many more items than places, pushed and popped in uneven turns, so the
 * head and the tail wrap round the end of the buffer again and again. */
static void it_wraps_round_and_keeps_the_order(void **state)
{
    (void)state;
    struct pc_queue queue;
    assert_true(pc_queue_init(&queue, 4));
    long next_in = 0, next_out = 0;
    for (int round = 0; round < 50; round++) {
        for (int i = 0; i < 1 + round % 4 && !pc_queue_is_full(&queue); i++) {
            struct pc_item item = item_with_json(next_in++);
            assert_true(pc_queue_push(&queue, &item));
        }
        assert_true(queue.count <= queue.capacity);
        for (int i = 0; i < 1 + round % 3; i++) {
            struct pc_item item;
            if (!pc_queue_pop(&queue, &item))
                break;
            assert_int_equal(item.id, next_out++);
            free(item.json);
        }
    }
    assert_true(next_in > 4 * 10);  /* it really went round many times */
    assert_int_equal(queue.count, next_in - next_out);
    pc_queue_free(&queue);  /* frees what is left, JSON included */
}

/* Backpressure's rule: a fetch in flight holds a place, so with Q places,
 * W items waiting and F fetches in flight, one more may start only while
 * W + F < Q.  Counting only the waiting items would let the queue overflow. */
static void a_fetch_in_flight_holds_a_place(void **state)
{
    (void)state;
    assert_true(pc_queue_has_room(0, 0, 1));
    assert_false(pc_queue_has_room(0, 1, 1));   /* the one place is reserved */
    assert_true(pc_queue_has_room(2, 1, 4));
    assert_false(pc_queue_has_room(2, 2, 4));
    assert_false(pc_queue_has_room(4, 0, 4));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(items_leave_in_the_order_they_came),
        cmocka_unit_test(a_fetch_in_flight_holds_a_place),
        cmocka_unit_test(a_full_queue_refuses_and_an_empty_one_has_nothing),
        cmocka_unit_test(it_wraps_round_and_keeps_the_order),
    };
    return cmocka_run_group_tests_name("producer_consumer_queue", tests, NULL, NULL);
}
