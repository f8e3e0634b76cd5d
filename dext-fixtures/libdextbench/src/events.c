/* Fixed ring of events with seq numbers, drop accounting and the doorbell rule of channel.proto. */
#include <string.h>

#include <pb_encode.h>

#include "dextbench.h"

void dxb_events_init(dxb_events_t *q, dxb_clock_fn now, void *clock_ctx) {
    memset(q, 0, sizeof *q);
    q->next_seq = 1;
    q->now = now;
    q->clock_ctx = clock_ctx;
}

static void ring(dxb_events_t *q) {
    uint64_t args[DXB_DOORBELL_ARGS];
    if (!q->armed || q->doorbell == NULL || q->count == 0) return;
    q->armed = false; /* one ring per poll: PollEvents re-arms */
    args[0] = q->count;
    args[1] = q->next_seq - 1;
    args[2] = q->dropped_total;
    q->doorbell(q->doorbell_ctx, args, DXB_DOORBELL_ARGS);
}

void dxb_events_subscribe(dxb_events_t *q, dxb_doorbell_fn doorbell, void *ctx) {
    q->doorbell = doorbell;
    q->doorbell_ctx = ctx;
    q->armed = true;
    ring(q);
}

void dxb_events_unsubscribe(dxb_events_t *q) {
    q->doorbell = NULL;
    q->doorbell_ctx = NULL;
    q->armed = false;
}

static uint64_t enqueue(dxb_events_t *q, const dextbench_v1_Event *ev) {
    dextbench_v1_Event *slot = &q->ring[(q->head + q->count) % DXB_EVENT_QUEUE_CAPACITY];
    *slot = *ev;
    slot->seq = q->next_seq++;
    slot->time_ns = q->now ? q->now(q->clock_ctx) : 0;
    q->count++;
    return slot->seq;
}

/* Reports drops once there is room again; the Log event takes the next seq. */
static void report_drops(dxb_events_t *q) {
    dextbench_v1_Event ev;
    char *text;
    if (q->dropped_pending == 0 || q->count >= DXB_EVENT_QUEUE_CAPACITY) return;
    memset(&ev, 0, sizeof ev);
    ev.which_kind = dextbench_v1_Event_log_tag;
    ev.kind.log.level = dextbench_v1_LogLevel_LOG_LEVEL_WARN;
    text = ev.kind.log.text;
    dxb_str_append(text, sizeof ev.kind.log.text, "event queue full: dropped ");
    dxb_str_append_u64(text, sizeof ev.kind.log.text, q->dropped_pending);
    dxb_str_append(text, sizeof ev.kind.log.text, " events from seq ");
    dxb_str_append_u64(text, sizeof ev.kind.log.text, q->dropped_first_seq);
    q->dropped_pending = 0;
    enqueue(q, &ev);
}

bool dxb_events_push(dxb_events_t *q, const dextbench_v1_Event *ev, uint64_t *seq) {
    uint64_t got;
    if (q->count >= DXB_EVENT_QUEUE_CAPACITY) {
        if (q->dropped_pending == 0) q->dropped_first_seq = q->next_seq;
        q->dropped_pending++;
        q->dropped_total++;
        got = q->next_seq++; /* the lost event keeps its seq: the gap shows the loss */
        if (seq) *seq = got;
        return false;
    }
    got = enqueue(q, ev);
    if (seq) *seq = got;
    ring(q);
    return true;
}

bool dxb_events_push_log(dxb_events_t *q, dextbench_v1_LogLevel level, const char *text) {
    dextbench_v1_Event ev;
    memset(&ev, 0, sizeof ev);
    ev.which_kind = dextbench_v1_Event_log_tag;
    ev.kind.log.level = level;
    dxb_str_append(ev.kind.log.text, sizeof ev.kind.log.text, text);
    return dxb_events_push(q, &ev, NULL);
}

uint32_t dxb_events_pending(const dxb_events_t *q) { return q->count; }

void dxb_events_poll(dxb_events_t *q, uint32_t max_events, size_t byte_budget, dextbench_v1_EventBatch *batch) {
    size_t size = 0;
    if (max_events == 0 || max_events > DXB_EVENT_BATCH_MAX) max_events = DXB_EVENT_BATCH_MAX;
    memset(batch, 0, sizeof *batch);
    while (q->count > 0 && batch->events_count < max_events) {
        const dextbench_v1_Event *ev = &q->ring[q->head];
        size_t ev_size = 0;
        pb_get_encoded_size(&ev_size, dextbench_v1_Event_fields, ev);
        /* tag (1 byte) + length varint (<= 2 bytes) + message, and room for `more` (2 bytes) */
        if (batch->events_count > 0 && size + 1 + 2 + ev_size + 2 > byte_budget) break;
        batch->events[batch->events_count++] = *ev;
        size += 1 + 2 + ev_size;
        q->head = (q->head + 1) % DXB_EVENT_QUEUE_CAPACITY;
        q->count--;
        report_drops(q);
    }
    batch->more = q->count > 0;
    q->armed = q->doorbell != NULL; /* while more is set the client polls again at once */
}
