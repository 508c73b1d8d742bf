/* queue.c - the bounded queue, a ring buffer; see queue.h. */
#include "queue.h"

#include <stdlib.h>
#include <string.h>

bool pc_queue_init(struct pc_queue *queue, long capacity)
{
    memset(queue, 0, sizeof *queue);
    queue->slots = calloc((size_t)capacity, sizeof *queue->slots);
    if (queue->slots == NULL)
        return false;
    queue->capacity = capacity;
    return true;
}

bool pc_queue_is_full(const struct pc_queue *queue)
{
    return queue->count == queue->capacity;
}

bool pc_queue_is_empty(const struct pc_queue *queue)
{
    return queue->count == 0;
}

bool pc_queue_push(struct pc_queue *queue, struct pc_item *item)
{
    if (pc_queue_is_full(queue))
        return false;
    /* The slot after the newest item, wrapping round to the start. */
    long tail = (queue->head + queue->count) % queue->capacity;
    queue->slots[tail] = *item;
    item->json = NULL;
    queue->count++;
    return true;
}

bool pc_queue_pop(struct pc_queue *queue, struct pc_item *item)
{
    if (pc_queue_is_empty(queue))
        return false;
    *item = queue->slots[queue->head];
    memset(&queue->slots[queue->head], 0, sizeof queue->slots[queue->head]);
    queue->head = (queue->head + 1) % queue->capacity;
    queue->count--;
    return true;
}

void pc_queue_free(struct pc_queue *queue)
{
    struct pc_item item;
    while (pc_queue_pop(queue, &item))
        free(item.json);
    free(queue->slots);
    memset(queue, 0, sizeof *queue);
}

bool pc_queue_has_room(long waiting, long fetching, long capacity)
{
    return waiting + fetching < capacity;
}
