/*
 * libdextbench: the dext side of the dextbench channel (see proto/dextbench/v1/channel.proto).
 * Portable C99 on nanopb. No malloc, no printf, no globals: every object is caller-allocated, so
 * a dext can embed it in its ivars. Needs only <stdint.h> <stddef.h> <stdbool.h> <string.h>.
 * Builds with PB_BUFFER_ONLY (only pb_istream_from_buffer / pb_ostream_from_buffer are used).
 */
#ifndef DEXTBENCH_H
#define DEXTBENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dextbench/v1/channel.pb.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DXB_PROTOCOL_VERSION 1u

/* ------------------------------------------------------------------ limits and framing */

#define DXB_MAX_INLINE_BYTES 4096u   /* io_struct_inband_t: inline struct limit of IOConnectCall* */
#define DXB_MAX_MESSAGE_BYTES 16384u /* largest encoded Request/Response on any hop */
#define DXB_OOL_HEADER_BYTES 4u      /* out-of-line buffers: u32 little-endian length first */
#define DXB_SPILL_NOTICE_BYTES 8u    /* 00 'S' 'P' 'L' || u32 LE length */
#define DXB_MAX_VARINT_BYTES 3u      /* varint of a length <= 16384 */
#define DXB_EVENT_BATCH_BUDGET 3800u /* EventBatch responses are filled to stay inline */
#define DXB_EVENT_BATCH_MAX 16u
#define DXB_DOORBELL_ARGS 3u         /* [pending_count, last_seq, dropped_total] */

enum dxb_selector {
    DXB_SELECTOR_CALL = 0,
    DXB_SELECTOR_FETCH = 1,
    DXB_SELECTOR_SUBSCRIBE = 2,
};

/* Status codes (Status.code). Table and meaning in channel.proto. */
enum dxb_status {
    DXB_STATUS_OK = 0,
    DXB_STATUS_CANCELLED = 1,
    DXB_STATUS_UNKNOWN = 2,
    DXB_STATUS_INVALID_ARGUMENT = 3,
    DXB_STATUS_DEADLINE_EXCEEDED = 4,
    DXB_STATUS_NOT_FOUND = 5,
    DXB_STATUS_ALREADY_EXISTS = 6,
    DXB_STATUS_PERMISSION_DENIED = 7,
    DXB_STATUS_RESOURCE_EXHAUSTED = 8,
    DXB_STATUS_FAILED_PRECONDITION = 9,
    DXB_STATUS_ABORTED = 10,
    DXB_STATUS_OUT_OF_RANGE = 11,
    DXB_STATUS_UNIMPLEMENTED = 12,
    DXB_STATUS_INTERNAL = 13,
    DXB_STATUS_UNAVAILABLE = 14,
};

/* Return values of the C functions (not wire status codes). */
enum dxb_result {
    DXB_OK = 0,
    DXB_E_ARG = -1,      /* malformed input (bad length, bad header) */
    DXB_E_SPACE = -2,    /* output buffer too small */
    DXB_E_STATE = -3,    /* not now (e.g. FETCH without a pending spill) */
    DXB_E_INCOMPLETE = -4, /* stream framing: need more bytes */
};

/* Stream frames (harness <-> bridge): varint(length) || message. */
/* Writes the varint of `len` into out (>= DXB_MAX_VARINT_BYTES); returns its size, 0 if len is
 * 0 or > DXB_MAX_MESSAGE_BYTES. */
size_t dxb_frame_put_header(uint8_t *out, size_t len);
/* Parses a frame header at buf. DXB_OK: *header_len and *msg_len set (the message may still be
 * incomplete: check buf_len >= header_len + msg_len). DXB_E_INCOMPLETE: need more bytes.
 * DXB_E_ARG: malformed (varint too long, length 0 or > DXB_MAX_MESSAGE_BYTES). */
int dxb_frame_get_header(const uint8_t *buf, size_t buf_len, size_t *header_len, size_t *msg_len);

/* IOUserClient hop, client (bridge) side. */
/* Bytes the CALL input takes for a message of msg_len: msg_len inline, 4 + msg_len out of line. */
size_t dxb_frame_call_input_size(size_t msg_len);
/* Writes the CALL input for msg into out (raw if inline, OOL form otherwise). */
int dxb_frame_put_call_input(const uint8_t *msg, size_t msg_len, uint8_t *out, size_t out_cap, size_t *out_len);
/* Classifies a CALL output: returns 1 for a Response message (use out as is), 2 for a spill notice
 * (*spill_len set), DXB_E_ARG for anything else. */
int dxb_frame_parse_call_output(const uint8_t *out, size_t out_len, size_t *spill_len);
/* OOL form (u32 LE length || message): write / read. Reading checks the length fits the buffer. */
int dxb_frame_put_ool(const uint8_t *msg, size_t msg_len, uint8_t *out, size_t out_cap);
int dxb_frame_get_ool(const uint8_t *buf, size_t buf_len, const uint8_t **msg, size_t *msg_len);
void dxb_frame_put_spill_notice(uint8_t out[DXB_SPILL_NOTICE_BYTES], uint32_t msg_len);

/* ----------------------------------------------------------------------------- server */

typedef uint64_t (*dxb_clock_fn)(void *ctx); /* monotonic nanoseconds */

/* A handler fills resp->which_result and the result (resp->id is set by the server) and returns
 * a status code; for a non-OK code it may call dxb_status_set to give a message. */
typedef int32_t (*dxb_handler_fn)(void *ctx, const dextbench_v1_Request *req, dextbench_v1_Response *resp);

/* NULL entries answer UNIMPLEMENTED. */
typedef struct dxb_handlers {
    dxb_handler_fn hello, ping, get_info, get_stats, reset_stats, io_start, io_status, io_stop,
        inject_fault, poll_events, extension;
} dxb_handlers_t;

typedef struct dxb_server {
    dxb_handlers_t handlers;
    void *ctx;
    dextbench_v1_Request request;   /* decode target; large, so it lives here, not on the stack */
    dextbench_v1_Response response;
} dxb_server_t;

void dxb_server_init(dxb_server_t *server, const dxb_handlers_t *handlers, void *ctx);
/* Decodes one Request, dispatches it, encodes one Response into out. Always produces a Response
 * when out_cap allows the smallest one (returns DXB_OK); DXB_E_SPACE only if out_cap cannot hold
 * even the RESOURCE_EXHAUSTED answer. */
int dxb_server_handle(dxb_server_t *server, const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap,
                      size_t *out_len);

/* Sets resp->status (has_status = code != OK) with message = a + b (either may be NULL). */
void dxb_status_set(dextbench_v1_Response *resp, int32_t code, const char *a, const char *b);
/* Hello helper: negotiates the version, fills limits and capabilities. Returns a status code. */
int32_t dxb_hello_fill(const dextbench_v1_Hello *hello, const char *const *caps, size_t n_caps,
                       uint32_t event_queue_capacity, dextbench_v1_Response *resp);

/* Small string helpers (no printf in a dext): append to a NUL-terminated buffer of size cap. */
void dxb_str_append(char *dst, size_t cap, const char *src);
void dxb_str_append_u64(char *dst, size_t cap, uint64_t v);

/* ------------------------------------------------------------------------------ events */

#define DXB_EVENT_QUEUE_CAPACITY 64u

typedef void (*dxb_doorbell_fn)(void *ctx, const uint64_t *args, uint32_t n_args);

typedef struct dxb_events {
    dextbench_v1_Event ring[DXB_EVENT_QUEUE_CAPACITY];
    uint32_t head;   /* index of the oldest event */
    uint32_t count;
    uint64_t next_seq;          /* seq of the next produced event (starts at 1) */
    uint64_t dropped_total;
    uint64_t dropped_pending;   /* drops not yet reported by a Log event */
    uint64_t dropped_first_seq;
    dxb_clock_fn now;
    void *clock_ctx;
    dxb_doorbell_fn doorbell;
    void *doorbell_ctx;
    bool armed;
} dxb_events_t;

void dxb_events_init(dxb_events_t *q, dxb_clock_fn now, void *clock_ctx);
/* Attaches the doorbell (the dext's AsyncCompletion) and arms it; rings at once if events wait. */
void dxb_events_subscribe(dxb_events_t *q, dxb_doorbell_fn doorbell, void *ctx);
void dxb_events_unsubscribe(dxb_events_t *q);
/* Queues ev (which_kind and kind set by the caller; seq and time_ns are assigned). Returns the
 * seq it got; when the queue is full the event is dropped (counted) and false is returned. */
bool dxb_events_push(dxb_events_t *q, const dextbench_v1_Event *ev, uint64_t *seq);
bool dxb_events_push_log(dxb_events_t *q, dextbench_v1_LogLevel level, const char *text);
uint32_t dxb_events_pending(const dxb_events_t *q);
/* Moves up to max_events (0 = DXB_EVENT_BATCH_MAX) into batch while its encoded size stays within
 * byte_budget; sets batch->more; re-arms the doorbell. */
void dxb_events_poll(dxb_events_t *q, uint32_t max_events, size_t byte_budget, dextbench_v1_EventBatch *batch);

/* --------------------------------------------------------------------------- patterns */

/* Stream definitions in PATTERNS.md. A generator yields the byte at stream offset 0, 1, 2 ... */
typedef struct dxb_pattern {
    dextbench_v1_Pattern kind;
    uint32_t state; /* LFSR state (PRBS) */
    uint64_t seed;
    uint64_t offset; /* stream offset of the next byte */
} dxb_pattern_t;

/* DXB_E_ARG for PATTERN_UNSPECIFIED or an unknown kind. */
int dxb_pattern_init(dxb_pattern_t *p, dextbench_v1_Pattern kind, uint64_t seed);
void dxb_pattern_fill(dxb_pattern_t *p, uint8_t *out, size_t len);
/* Compares data with the next len bytes of the stream; returns the number of mismatched bytes and
 * sets *first_error (stream offset) when the count is > 0. */
uint64_t dxb_pattern_verify(dxb_pattern_t *p, const uint8_t *data, size_t len, uint64_t *first_error);

/* --------------------------------------------------------------------------- loopback */

#define DXB_LOOPBACK_MAX_IO 4u
#define DXB_LOOPBACK_MAX_ENDPOINTS 8u
#define DXB_LOOPBACK_DEFAULT_CHUNK 16384u
#define DXB_LOOPBACK_PROGRESS_EVERY (1024u * 1024u) /* bytes between IoProgress events */

typedef struct dxb_loopback_io {
    bool used;
    uint64_t io_id;
    dextbench_v1_IoMode mode;
    dextbench_v1_IoState state;
    uint32_t endpoint_out, endpoint_in; /* 0 = not used */
    uint64_t byte_count, bytes_done, errors, first_error_offset;
    uint32_t chunk_size;
    uint64_t started_ns, finished_ns, next_progress;
    dxb_pattern_t tx, rx;
} dxb_loopback_io_t;

typedef struct dxb_loopback_config {
    const char *driver_name;
    const char *driver_version;
    uint64_t instance_id;
    uint64_t process_start_time_ns;
    uint32_t endpoints[DXB_LOOPBACK_MAX_ENDPOINTS]; /* addresses; 0 ends the list */
    dxb_clock_fn now;
    void *clock_ctx;
} dxb_loopback_config_t;

typedef struct dxb_loopback {
    dxb_loopback_config_t config;
    dxb_server_t server;
    dxb_events_t events;
    dextbench_v1_EndpointStats stats[DXB_LOOPBACK_MAX_ENDPOINTS];
    uint32_t n_endpoints;
    dxb_loopback_io_t io[DXB_LOOPBACK_MAX_IO];
    uint64_t next_io_id;
    /* armed faults */
    uint32_t stall_endpoint; bool stall_armed;
    uint64_t corrupt_offset; bool corrupt_armed;
    uint64_t delay_until_ns;
    bool crashed; /* FAULT_KIND_CRASH: the host must drop the connection (the dext "dies") */
    uint8_t tx_buf[DXB_LOOPBACK_DEFAULT_CHUNK], rx_buf[DXB_LOOPBACK_DEFAULT_CHUNK];
} dxb_loopback_t;

/* Queues a Started event. */
void dxb_loopback_init(dxb_loopback_t *m, const dxb_loopback_config_t *config);
/* Moves up to max_bytes of io traffic (generated, looped back in memory, verified), honouring
 * faults: the chunk loop below with a memcpy for the wire. */
void dxb_loopback_advance(dxb_loopback_t *m, uint64_t max_bytes);

/* Wire-paced io, for a dext whose loopback really goes over a device: one chunk at a time, and
 * nothing is counted until the wire has spoken, so IoStatus / IoDone / GetStats report what the
 * wire did (a failed transfer ends the io FAILED; returned bytes that differ count as errors).
 *   begin   picks the next piece of the first running io (an armed STALL fault fails that io
 *           first); false when nothing runs (or the model crashed, or a DELAY fault holds)
 *   fill    the chunk's next len bytes of the io's stream, to send
 *   verify  len bytes that came back, checked against the stream, in order
 *   end     the wire's verdict: DXB_WIRE_OK counts the transfer on the io's endpoints and moves
 *           the io on (IoProgress, DONE at byte_count); STALL / ERROR count an error (and a stall)
 *           on `endpoint` (0 = the io's own) and end the io FAILED. Ignored once the io is no
 *           longer running (IoStop or the dext's Stop ended it while the chunk was out).
 * One chunk in flight per model: begin again only after end. */
typedef enum dxb_wire { DXB_WIRE_OK = 0, DXB_WIRE_STALL, DXB_WIRE_ERROR } dxb_wire_t;

typedef struct dxb_loopback_chunk {
    uint64_t io_id;
    uint64_t offset; /* stream offset of the chunk's first byte (= the io's bytes_done) */
    uint64_t length; /* <= the io's chunk_size and the max_bytes passed to begin */
} dxb_loopback_chunk_t;

bool dxb_loopback_chunk_begin(dxb_loopback_t *m, uint64_t max_bytes, dxb_loopback_chunk_t *c);
void dxb_loopback_chunk_fill(dxb_loopback_t *m, const dxb_loopback_chunk_t *c, uint8_t *out, size_t len);
void dxb_loopback_chunk_verify(dxb_loopback_t *m, const dxb_loopback_chunk_t *c, const uint8_t *in, size_t len);
void dxb_loopback_chunk_end(dxb_loopback_t *m, const dxb_loopback_chunk_t *c, dxb_wire_t wire, uint32_t endpoint);
bool dxb_loopback_busy(const dxb_loopback_t *m);
/* Queues Stopping and aborts running io (a dext's Stop()). */
void dxb_loopback_stop(dxb_loopback_t *m);

/* ---------------------------------------------------------- dext-side external methods */

/* What a dext's ExternalMethod does with the server: one spill slot per connection. */
typedef struct dxb_channel {
    dxb_server_t *server;
    uint8_t spill[DXB_MAX_MESSAGE_BYTES];
    size_t spill_len;
    bool spill_pending;
} dxb_channel_t;

void dxb_channel_init(dxb_channel_t *ch, dxb_server_t *server);
/* selector CALL. in/in_len: structureInput bytes, or the mapped structureInputDescriptor when
 * in_is_ool. out: the inline output (cap = structureOutputMaximumSize, normally 4096). */
int dxb_channel_call(dxb_channel_t *ch, const uint8_t *in, size_t in_len, bool in_is_ool, uint8_t *out,
                     size_t out_cap, size_t *out_len);
/* selector FETCH: writes u32 LE length || Response into the mapped structureOutputDescriptor. */
int dxb_channel_fetch(dxb_channel_t *ch, uint8_t *out, size_t out_cap);

#ifdef __cplusplus
}
#endif
#endif
