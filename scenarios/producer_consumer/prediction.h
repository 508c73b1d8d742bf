/*
 * prediction.h - --predict for the producer-consumer lesson: what the
 * lesson's model says the run takes, printed without sending a request
 * (docs/producer_consumer.md, "Predict first").
 *
 * One item at a time, every item costs its fetch plus its processing.  The
 * pipeline is played out on paper by async.c's own rules, with exact
 * delays and no overheads: consumers take from the queue, producers start
 * fetches while a slot is idle and pc_queue_has_room says yes, then time
 * jumps to the next transfer that ends.
 */
#ifndef ASYNCLAB_PRODUCER_CONSUMER_PREDICTION_H
#define ASYNCLAB_PRODUCER_CONSUMER_PREDICTION_H

#include <stdbool.h>

struct pc_run;

/* Prints "Predicted time: ..." for the run as set up. */
void pc_print_prediction(const struct pc_run *run, bool is_async);

#endif
