/* Unit tests for libdextbench, and the writer/checker of the proto/conformance JSON files.
 * Usage: test_libdextbench              run the tests; the vector files must match byte for byte
 *        test_libdextbench --write-vectors   rewrite the vector files from this implementation
 * Every response written to a vector file is also checked field by field here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pb_decode.h>
#include <pb_encode.h>

#include "dextbench.h"

static int failures, checks;
#define CHECK(cond)                                                                   \
    do {                                                                              \
        checks++;                                                                     \
        if (!(cond)) {                                                                \
            failures++;                                                               \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                             \
    } while (0)
#define CHECK_EQ_U64(a, b)                                                                               \
    do {                                                                                                 \
        unsigned long long va_ = (unsigned long long)(a), vb_ = (unsigned long long)(b);                 \
        checks++;                                                                                        \
        if (va_ != vb_) {                                                                                \
            failures++;                                                                                  \
            fprintf(stderr, "%s:%d: %s == %llu, expected %llu\n", __FILE__, __LINE__, #a, va_, vb_);     \
        }                                                                                                \
    } while (0)

/* ------------------------------------------------------------------------- text output */

typedef struct text {
    char *buf;
    size_t len, cap;
} text_t;

static void t_put(text_t *t, const char *s) {
    size_t n = strlen(s);
    if (t->len + n + 1 > t->cap) {
        t->cap = (t->len + n + 1) * 2;
        t->buf = realloc(t->buf, t->cap);
        if (!t->buf) abort();
    }
    memcpy(t->buf + t->len, s, n + 1);
    t->len += n;
}

static void t_hex(text_t *t, const uint8_t *b, size_t n) {
    static const char digits[] = "0123456789abcdef";
    char two[3] = {0};
    size_t i;
    for (i = 0; i < n; i++) {
        two[0] = digits[b[i] >> 4];
        two[1] = digits[b[i] & 15];
        t_put(t, two);
    }
}

static void t_u64(text_t *t, uint64_t v) {
    char s[24];
    snprintf(s, sizeof s, "%llu", (unsigned long long)v);
    t_put(t, s);
}

static int write_vectors;

/* Writes or compares one vector file. */
static void vector_file(const char *name, const text_t *t) {
    char path[512];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", DXB_CONFORMANCE_DIR, name);
    if (write_vectors) {
        f = fopen(path, "wb");
        CHECK(f != NULL);
        if (!f) return;
        fwrite(t->buf, 1, t->len, f);
        fclose(f);
        printf("wrote %s\n", path);
        return;
    }
    f = fopen(path, "rb");
    if (!f) {
        failures++;
        fprintf(stderr, "%s missing: run make -C dext-fixtures/libdextbench vectors\n", path);
        return;
    }
    {
        char *file = malloc(t->len + 2);
        size_t got = fread(file, 1, t->len + 1, f);
        fclose(f);
        checks++;
        if (got != t->len || memcmp(file, t->buf, t->len) != 0) {
            failures++;
            fprintf(stderr, "%s differs from this implementation's output (make vectors rewrites it)\n", path);
        }
        free(file);
    }
}

/* ------------------------------------------------------------------------------ frames */

static void test_frames(text_t *v) {
    uint8_t hdr[4], buf[8], msg[5000], wire[6000];
    const uint8_t *m;
    size_t hl = 0, ml = 0, n, spill = 0;
    static const size_t lens[] = {1, 127, 128, 300, 4096, 16384};
    size_t i;

    t_put(v, "{\n  \"description\": \"dextbench channel framing (channel.proto FRAMING A and B)\",\n  \"streamHeaders\": [\n");
    for (i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        n = dxb_frame_put_header(hdr, lens[i]);
        CHECK(n > 0 && n <= DXB_MAX_VARINT_BYTES);
        CHECK(dxb_frame_get_header(hdr, n, &hl, &ml) == DXB_OK);
        CHECK_EQ_U64(hl, n);
        CHECK_EQ_U64(ml, lens[i]);
        CHECK(dxb_frame_get_header(hdr, n - 1, &hl, &ml) == DXB_E_INCOMPLETE);
        t_put(v, "    { \"length\": ");
        t_u64(v, lens[i]);
        t_put(v, ", \"header_hex\": \"");
        t_hex(v, hdr, n);
        t_put(v, i + 1 < sizeof lens / sizeof lens[0] ? "\" },\n" : "\" }\n");
    }
    CHECK(dxb_frame_put_header(hdr, 1) == 1 && hdr[0] == 0x01);
    CHECK(dxb_frame_put_header(hdr, 300) == 2 && hdr[0] == 0xac && hdr[1] == 0x02);
    CHECK(dxb_frame_put_header(hdr, 0) == 0);
    CHECK(dxb_frame_put_header(hdr, 16385) == 0);
    t_put(v, "  ],\n  \"malformedStreamHeaders\": [\n");
    {
        static const uint8_t zero[] = {0x00}, too_big[] = {0x81, 0x80, 0x01}, too_long[] = {0x80, 0x80, 0x80, 0x01};
        CHECK(dxb_frame_get_header(zero, 1, &hl, &ml) == DXB_E_ARG);
        CHECK(dxb_frame_get_header(too_big, 3, &hl, &ml) == DXB_E_ARG);
        CHECK(dxb_frame_get_header(too_long, 4, &hl, &ml) == DXB_E_ARG);
        t_put(v, "    { \"name\": \"length 0\", \"hex\": \"00\" },\n");
        t_put(v, "    { \"name\": \"length 16385\", \"hex\": \"818001\" },\n");
        t_put(v, "    { \"name\": \"varint longer than 3 bytes\", \"hex\": \"80808001\" }\n  ],\n");
    }

    /* CALL input: raw when inline, u32 LE length prefix when out of line. */
    memset(msg, 0x5a, sizeof msg);
    CHECK_EQ_U64(dxb_frame_call_input_size(4096), 4096);
    CHECK_EQ_U64(dxb_frame_call_input_size(4097), 4101);
    CHECK(dxb_frame_put_call_input(msg, 4096, wire, sizeof wire, &n) == DXB_OK && n == 4096 && wire[0] == 0x5a);
    CHECK(dxb_frame_put_call_input(msg, 5000, wire, sizeof wire, &n) == DXB_OK && n == 5004);
    CHECK(wire[0] == 0x88 && wire[1] == 0x13 && wire[2] == 0 && wire[3] == 0 && wire[4] == 0x5a);
    CHECK(dxb_frame_put_call_input(msg, 5000, wire, 5003, &n) == DXB_E_SPACE);
    CHECK(dxb_frame_get_ool(wire, 5004, &m, &ml) == DXB_OK && ml == 5000 && m == wire + 4);
    CHECK(dxb_frame_get_ool(wire, 5003, &m, &ml) == DXB_E_ARG); /* length beyond the buffer */
    CHECK(dxb_frame_get_ool(wire, 3, &m, &ml) == DXB_E_ARG);
    t_put(v, "  \"oolHeaders\": [ { \"length\": 5000, \"header_hex\": \"");
    t_hex(v, wire, 4);
    t_put(v, "\" } ],\n");

    /* Spill notice. */
    dxb_frame_put_spill_notice(buf, 6000);
    CHECK(dxb_frame_parse_call_output(buf, 8, &spill) == 2 && spill == 6000);
    CHECK(dxb_frame_parse_call_output(buf, 7, &spill) == DXB_E_ARG);
    {
        static const uint8_t resp[] = {0x08, 0x01};
        static const uint8_t small_spill[] = {0x00, 'S', 'P', 'L', 0x00, 0x10, 0x00, 0x00}; /* 4096: not a spill */
        CHECK(dxb_frame_parse_call_output(resp, 2, &spill) == 1);
        CHECK(dxb_frame_parse_call_output(small_spill, 8, &spill) == DXB_E_ARG);
    }
    t_put(v, "  \"spillNotices\": [ { \"length\": 6000, \"hex\": \"");
    t_hex(v, buf, 8);
    t_put(v, "\" } ],\n  \"doorbellArgs\": [\"pending_count\", \"last_seq\", \"dropped_total\"]\n}\n");
}

/* ---------------------------------------------------------------------------- patterns */

static void test_patterns(text_t *v) {
    static const struct {
        const char *name;
        dextbench_v1_Pattern kind;
    } kinds[] = {{"PRBS7", dextbench_v1_Pattern_PATTERN_PRBS7},
                 {"PRBS15", dextbench_v1_Pattern_PATTERN_PRBS15},
                 {"PRBS31", dextbench_v1_Pattern_PATTERN_PRBS31},
                 {"COUNTER", dextbench_v1_Pattern_PATTERN_COUNTER},
                 {"ZEROS", dextbench_v1_Pattern_PATTERN_ZEROS}};
    /* Reference values from an independent bit-by-bit script of the PATTERNS.md definition. */
    static const uint8_t seed1_first16[3][16] = {
        {0x06, 0x14, 0x79, 0x16, 0x75, 0x3e, 0x87, 0x12, 0x6d, 0x6f, 0x63, 0x4b, 0xb9, 0x95, 0x7f, 0x02},
        {0x00, 0x06, 0x00, 0x14, 0x00, 0x78, 0x01, 0x10, 0x06, 0x60, 0x15, 0x40, 0x7f, 0x81, 0x01, 0x06},
        {0x00, 0x00, 0x00, 0x12, 0x00, 0x00, 0x01, 0x04, 0x00, 0x00, 0x12, 0x48, 0x00, 0x01, 0x00, 0x10}};
    static const uint8_t seeds_first[2] = {0, 1};
    uint8_t a[1016], b[1016];
    dxb_pattern_t p, q;
    uint64_t first = 0;
    size_t i, s;
    int first_row = 1;

    for (i = 0; i < 3; i++) {
        dxb_pattern_init(&p, kinds[i].kind, 1);
        dxb_pattern_fill(&p, a, 16);
        CHECK(memcmp(a, seed1_first16[i], 16) == 0);
    }

    /* Byte period of PRBS7 is 127 bytes (bit period 127, coprime with 8). */
    {
        static uint8_t big[254];
        dxb_pattern_init(&p, dextbench_v1_Pattern_PATTERN_PRBS7, 1);
        dxb_pattern_fill(&p, big, sizeof big);
        CHECK(memcmp(big, big + 127, 127) == 0);
        CHECK(memcmp(big, big + 1, 126) != 0);
    }
    /* seed 0 and seed 2^31 (low bits zero) both mean the all-ones state. */
    dxb_pattern_init(&p, dextbench_v1_Pattern_PATTERN_PRBS31, 0);
    dxb_pattern_init(&q, dextbench_v1_Pattern_PATTERN_PRBS31, 0x80000000ull);
    CHECK(p.state == 0x7fffffffu && q.state == 0x7fffffffu);
    CHECK(dxb_pattern_init(&p, dextbench_v1_Pattern_PATTERN_UNSPECIFIED, 1) == DXB_E_ARG);

    /* Counter wraps modulo 256 from the seed. */
    dxb_pattern_init(&p, dextbench_v1_Pattern_PATTERN_COUNTER, 254);
    dxb_pattern_fill(&p, a, 4);
    CHECK(a[0] == 254 && a[1] == 255 && a[2] == 0 && a[3] == 1);

    /* Verify: exact stream passes; one flipped byte is found at its offset. */
    dxb_pattern_init(&p, dextbench_v1_Pattern_PATTERN_PRBS15, 7);
    dxb_pattern_init(&q, dextbench_v1_Pattern_PATTERN_PRBS15, 7);
    dxb_pattern_fill(&p, a, 1000);
    CHECK_EQ_U64(dxb_pattern_verify(&q, a, 500, &first), 0);
    a[777] ^= 0x10;
    CHECK_EQ_U64(dxb_pattern_verify(&q, a + 500, 500, &first), 1);
    CHECK_EQ_U64(first, 777);

    t_put(v, "{\n  \"description\": \"dextbench test patterns; definition in dext-fixtures/libdextbench/PATTERNS.md\",\n  \"vectors\": [\n");
    for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        for (s = 0; s < sizeof seeds_first; s++) {
            uint64_t seed = seeds_first[s];
            /* streams from a chunked fill and a one-shot fill agree */
            dxb_pattern_init(&p, kinds[i].kind, seed);
            dxb_pattern_fill(&p, a, sizeof a);
            dxb_pattern_init(&q, kinds[i].kind, seed);
            dxb_pattern_fill(&q, b, 3);
            dxb_pattern_fill(&q, b + 3, sizeof b - 3);
            CHECK(memcmp(a, b, sizeof a) == 0);
            t_put(v, first_row ? "" : ",\n");
            first_row = 0;
            t_put(v, "    { \"pattern\": \"");
            t_put(v, kinds[i].name);
            t_put(v, "\", \"seed\": ");
            t_u64(v, seed);
            t_put(v, ", \"first16_hex\": \"");
            t_hex(v, a, 16);
            t_put(v, "\", \"offset1000_16_hex\": \"");
            t_hex(v, a + 1000, 16);
            t_put(v, "\" }");
        }
    }
    t_put(v, "\n  ]\n}\n");
}

/* ------------------------------------------------------------------------------ events */

static uint64_t fake_now = 5000000000ull;
static uint64_t clock_fn(void *ctx) {
    (void)ctx;
    return fake_now;
}

static uint64_t last_doorbell[DXB_DOORBELL_ARGS];
static int doorbell_rings;
static void doorbell_fn(void *ctx, const uint64_t *args, uint32_t n) {
    (void)ctx;
    CHECK_EQ_U64(n, DXB_DOORBELL_ARGS);
    memcpy(last_doorbell, args, sizeof last_doorbell);
    doorbell_rings++;
}

static dxb_events_t events_q;
static dextbench_v1_EventBatch batch;

static void test_events(void) {
    dextbench_v1_Event ev;
    uint64_t seq = 0;
    uint32_t i;
    memset(&ev, 0, sizeof ev);
    ev.which_kind = dextbench_v1_Event_io_progress_tag;
    dxb_events_init(&events_q, clock_fn, NULL);
    CHECK(dxb_events_push(&events_q, &ev, &seq) && seq == 1);
    CHECK_EQ_U64(doorbell_rings, 0); /* nobody subscribed yet */
    dxb_events_subscribe(&events_q, doorbell_fn, NULL);
    CHECK_EQ_U64(doorbell_rings, 1); /* subscribing rings when events wait */
    CHECK_EQ_U64(last_doorbell[0], 1);
    CHECK_EQ_U64(last_doorbell[1], 1);
    for (i = 0; i < 69; i++) {
        ev.kind.io_progress.bytes_done = i;
        dxb_events_push(&events_q, &ev, &seq);
    }
    CHECK_EQ_U64(doorbell_rings, 1); /* not re-armed until a poll */
    CHECK_EQ_U64(dxb_events_pending(&events_q), DXB_EVENT_QUEUE_CAPACITY);
    CHECK_EQ_U64(events_q.dropped_total, 6);
    CHECK_EQ_U64(seq, 70);

    dxb_events_poll(&events_q, 0, DXB_EVENT_BATCH_BUDGET, &batch);
    CHECK_EQ_U64(batch.events_count, 16);
    CHECK(batch.more);
    CHECK_EQ_U64(batch.events[0].seq, 1);
    CHECK_EQ_U64(batch.events[0].time_ns, 5000000000ull);
    CHECK_EQ_U64(batch.events[15].seq, 16);
    /* drain; the drop report follows event 64 with seq 71 */
    {
        uint64_t prev_seq = 16, received = 16;
        while (batch.more) {
            dxb_events_poll(&events_q, 16, DXB_EVENT_BATCH_BUDGET, &batch);
            for (i = 0; i < batch.events_count; i++, received++) {
                if (batch.events[i].seq == 71) CHECK_EQ_U64(prev_seq, 64); /* 65..70 were dropped */
                else CHECK_EQ_U64(batch.events[i].seq, prev_seq + 1);
                prev_seq = batch.events[i].seq;
            }
        }
        CHECK_EQ_U64(received, 65);
    }
    CHECK_EQ_U64(batch.events[batch.events_count - 1].seq, 71);
    CHECK(batch.events[batch.events_count - 1].which_kind == dextbench_v1_Event_log_tag);
    CHECK(strcmp(batch.events[batch.events_count - 1].kind.log.text, "event queue full: dropped 6 events from seq 65") == 0);
    CHECK_EQ_U64(dxb_events_pending(&events_q), 0);
    dxb_events_push_log(&events_q, dextbench_v1_LogLevel_LOG_LEVEL_INFO, "hi");
    CHECK_EQ_U64(doorbell_rings, 2); /* re-armed by the poll */
    CHECK_EQ_U64(last_doorbell[1], 72);
    CHECK_EQ_U64(last_doorbell[2], 6);

    /* Byte budget: big extension events are cut into batches that stay inline. */
    dxb_events_init(&events_q, clock_fn, NULL);
    memset(&ev, 0, sizeof ev);
    ev.which_kind = dextbench_v1_Event_extension_tag;
    ev.kind.extension.payload.size = 256;
    for (i = 0; i < 20; i++) dxb_events_push(&events_q, &ev, NULL);
    dxb_events_poll(&events_q, 16, DXB_EVENT_BATCH_BUDGET, &batch);
    {
        size_t size = 0;
        pb_get_encoded_size(&size, dextbench_v1_EventBatch_fields, &batch);
        CHECK(size <= DXB_EVENT_BATCH_BUDGET);
        CHECK(batch.events_count >= 10 && batch.events_count < 16);
        CHECK(batch.more);
    }
}

/* -------------------------------------------------------------------- loopback session */

static dxb_loopback_t model;
static dextbench_v1_Request req;
static dextbench_v1_Response resp;
static uint8_t req_buf[DXB_MAX_MESSAGE_BYTES], resp_buf[DXB_MAX_MESSAGE_BYTES];

static const dxb_loopback_config_t session_config = {
    "EchoDriver", "1.0.0", 0x0123456789abcdefull, 1700000000123456789ull, {0x01, 0x81, 0}, clock_fn, NULL};

static size_t encode_req(const dextbench_v1_Request *r, uint8_t *out, size_t cap) {
    pb_ostream_t os = pb_ostream_from_buffer(out, cap);
    CHECK(pb_encode(&os, dextbench_v1_Request_fields, r));
    return os.bytes_written;
}

static bool decode_resp(const uint8_t *in, size_t len, dextbench_v1_Response *r) {
    pb_istream_t is = pb_istream_from_buffer(in, len);
    memset(r, 0, sizeof *r);
    return pb_decode(&is, dextbench_v1_Response_fields, r);
}

static int steps_written;

/* Runs one request through the model, records it as a vector step, decodes the response. */
static void step_raw(text_t *v, const char *name, uint64_t clock_ns, uint64_t advance, const uint8_t *in, size_t in_len) {
    size_t out_len = 0;
    fake_now = clock_ns;
    if (advance) dxb_loopback_advance(&model, advance);
    CHECK(dxb_server_handle(&model.server, in, in_len, resp_buf, sizeof resp_buf, &out_len) == DXB_OK);
    CHECK(decode_resp(resp_buf, out_len, &resp));
    t_put(v, steps_written++ ? ",\n" : "");
    t_put(v, "    { \"name\": \"");
    t_put(v, name);
    t_put(v, "\", \"clock_ns\": ");
    t_u64(v, clock_ns);
    t_put(v, ", \"advance_bytes\": ");
    t_u64(v, advance);
    t_put(v, ",\n      \"request_hex\": \"");
    t_hex(v, in, in_len);
    t_put(v, "\",\n      \"response_hex\": \"");
    t_hex(v, resp_buf, out_len);
    t_put(v, "\" }");
}

static void step(text_t *v, const char *name, uint64_t clock_ns, uint64_t advance) {
    size_t n = encode_req(&req, req_buf, sizeof req_buf);
    step_raw(v, name, clock_ns, advance, req_buf, n);
    CHECK_EQ_U64(resp.id, req.id);
}

static void new_req(uint64_t id, pb_size_t which) {
    memset(&req, 0, sizeof req);
    req.id = id;
    req.which_body = which;
}

static void expect_status(int32_t code) {
    CHECK_EQ_U64(resp.status.code, (uint64_t)(int64_t)code);
    CHECK(resp.has_status == (code != 0));
}

static void test_loopback_session(text_t *v) {
    fake_now = 4000000000ull;
    dxb_loopback_init(&model, &session_config);
    t_put(v, "{\n  \"description\": \"dxb_loopback session: run the steps in order on a fresh model. Before each step set the clock to clock_ns, then advance io by advance_bytes, then handle request_hex; the answer must equal response_hex.\",\n");
    t_put(v, "  \"config\": { \"driver_name\": \"EchoDriver\", \"driver_version\": \"1.0.0\", \"instance_id\": \"81985529216486895\", \"process_start_time_ns\": \"1700000000123456789\", \"endpoints\": [1, 129], \"init_clock_ns\": 4000000000 },\n  \"steps\": [\n");

    new_req(1, dextbench_v1_Request_hello_tag);
    req.body.hello.protocol_version = 1;
    req.body.hello.capabilities_count = 1;
    strcpy(req.body.hello.capabilities[0], "bigint");
    step(v, "hello", 5000000000ull, 0);
    expect_status(0);
    CHECK(resp.which_result == dextbench_v1_Response_hello_tag);
    CHECK_EQ_U64(resp.result.hello.protocol_version, 1);
    CHECK_EQ_U64(resp.result.hello.capabilities_count, 4);
    CHECK(strcmp(resp.result.hello.capabilities[0], "loopback") == 0);
    CHECK(strcmp(resp.result.hello.capabilities[3], "events") == 0);
    CHECK_EQ_U64(resp.result.hello.max_inline_bytes, 4096);
    CHECK_EQ_U64(resp.result.hello.max_message_bytes, 16384);
    CHECK_EQ_U64(resp.result.hello.event_queue_capacity, 64);

    new_req(2, dextbench_v1_Request_hello_tag);
    step(v, "hello protocol_version 0", 5000000000ull, 0);
    expect_status(DXB_STATUS_INVALID_ARGUMENT);
    CHECK(strcmp(resp.status.message, "Hello.protocol_version must be >= 1") == 0);
    CHECK(resp.which_result == 0);

    new_req(3, dextbench_v1_Request_ping_tag);
    req.body.ping.nonce = 0xfeedfacecafebeefull;
    req.body.ping.data.size = 3;
    memcpy(req.body.ping.data.bytes, "abc", 3);
    step(v, "ping", 5000000100ull, 0);
    expect_status(0);
    CHECK_EQ_U64(resp.result.ping.nonce, 0xfeedfacecafebeefull);
    CHECK(resp.result.ping.data.size == 3 && memcmp(resp.result.ping.data.bytes, "abc", 3) == 0);
    CHECK_EQ_U64(resp.result.ping.time_ns, 5000000100ull);

    new_req(4, dextbench_v1_Request_get_info_tag);
    step(v, "get_info", 5000000200ull, 0);
    CHECK(resp.which_result == dextbench_v1_Response_info_tag);
    CHECK(strcmp(resp.result.info.driver_name, "EchoDriver") == 0);
    CHECK(strcmp(resp.result.info.driver_version, "1.0.0") == 0);
    CHECK_EQ_U64(resp.result.info.instance_id, 0x0123456789abcdefull);
    CHECK_EQ_U64(resp.result.info.process_start_time_ns, 1700000000123456789ull);

    new_req(5, dextbench_v1_Request_poll_events_tag);
    step(v, "poll_events: Started", 5000000300ull, 0);
    CHECK(resp.which_result == dextbench_v1_Response_event_batch_tag);
    CHECK_EQ_U64(resp.result.event_batch.events_count, 1);
    CHECK(resp.result.event_batch.events[0].which_kind == dextbench_v1_Event_started_tag);
    CHECK_EQ_U64(resp.result.event_batch.events[0].seq, 1);
    CHECK_EQ_U64(resp.result.event_batch.events[0].time_ns, 4000000000ull);
    CHECK(!resp.result.event_batch.more);

    new_req(6, dextbench_v1_Request_io_start_tag);
    req.body.io_start.mode = dextbench_v1_IoMode_IO_MODE_LOOPBACK;
    req.body.io_start.byte_count = 65536;
    req.body.io_start.pattern = dextbench_v1_Pattern_PATTERN_PRBS31;
    req.body.io_start.seed = 1;
    req.body.io_start.chunk_size = 16384;
    step(v, "io_start loopback prbs31 64KiB", 6000000000ull, 0);
    expect_status(0);
    CHECK_EQ_U64(resp.result.io_start.io_id, 1);

    new_req(7, dextbench_v1_Request_io_status_tag);
    req.body.io_status.io_id = 1;
    step(v, "io_status running, nothing moved", 6000000000ull, 0);
    CHECK(resp.result.io_status.state == dextbench_v1_IoState_IO_STATE_RUNNING);
    CHECK_EQ_U64(resp.result.io_status.bytes_done, 0);
    CHECK_EQ_U64(resp.result.io_status.byte_count, 65536);

    new_req(8, dextbench_v1_Request_io_status_tag);
    req.body.io_status.io_id = 1;
    step(v, "io_status after 32KiB", 6500000000ull, 32768);
    CHECK(resp.result.io_status.state == dextbench_v1_IoState_IO_STATE_RUNNING);
    CHECK_EQ_U64(resp.result.io_status.bytes_done, 32768);
    CHECK_EQ_U64(resp.result.io_status.errors, 0);
    CHECK_EQ_U64(resp.result.io_status.elapsed_ns, 500000000ull);

    new_req(9, dextbench_v1_Request_inject_fault_tag);
    req.body.inject_fault.kind = dextbench_v1_FaultKind_FAULT_KIND_CORRUPT;
    req.body.inject_fault.param = 40000;
    step(v, "inject_fault corrupt offset 40000", 6500000000ull, 0);
    expect_status(0);
    CHECK(resp.which_result == dextbench_v1_Response_inject_fault_tag);

    new_req(10, dextbench_v1_Request_io_status_tag);
    req.body.io_status.io_id = 1;
    step(v, "io_status done with one corrupted byte", 7000000000ull, 32768);
    CHECK(resp.result.io_status.state == dextbench_v1_IoState_IO_STATE_DONE);
    CHECK_EQ_U64(resp.result.io_status.bytes_done, 65536);
    CHECK_EQ_U64(resp.result.io_status.errors, 1);
    CHECK_EQ_U64(resp.result.io_status.first_error_offset, 40000);
    CHECK_EQ_U64(resp.result.io_status.elapsed_ns, 1000000000ull);

    new_req(11, dextbench_v1_Request_get_stats_tag);
    step(v, "get_stats all", 7000000000ull, 0);
    CHECK_EQ_U64(resp.result.stats.endpoints_count, 2);
    CHECK_EQ_U64(resp.result.stats.endpoints[0].endpoint, 0x01);
    CHECK_EQ_U64(resp.result.stats.endpoints[0].bytes, 65536);
    CHECK_EQ_U64(resp.result.stats.endpoints[0].transfers, 4);
    CHECK_EQ_U64(resp.result.stats.endpoints[1].endpoint, 0x81);
    CHECK_EQ_U64(resp.result.stats.endpoints[1].bytes, 65536);
    CHECK_EQ_U64(resp.result.stats.endpoints[1].errors, 0);

    new_req(12, dextbench_v1_Request_get_stats_tag);
    req.body.get_stats.endpoint = 5;
    step(v, "get_stats unknown endpoint", 7000000000ull, 0);
    expect_status(DXB_STATUS_NOT_FOUND);
    CHECK(strcmp(resp.status.message, "no endpoint 5") == 0);

    new_req(13, dextbench_v1_Request_poll_events_tag);
    step(v, "poll_events: fault log, io done", 7000000000ull, 0);
    CHECK_EQ_U64(resp.result.event_batch.events_count, 2);
    CHECK(resp.result.event_batch.events[0].which_kind == dextbench_v1_Event_log_tag);
    CHECK_EQ_U64(resp.result.event_batch.events[0].seq, 2);
    CHECK(resp.result.event_batch.events[0].kind.log.level == dextbench_v1_LogLevel_LOG_LEVEL_WARN);
    CHECK(strcmp(resp.result.event_batch.events[0].kind.log.text, "fault injected: corrupt byte at offset 40000") == 0);
    CHECK(resp.result.event_batch.events[1].which_kind == dextbench_v1_Event_io_done_tag);
    CHECK_EQ_U64(resp.result.event_batch.events[1].seq, 3);
    CHECK_EQ_U64(resp.result.event_batch.events[1].kind.io_done.io_id, 1);
    CHECK(resp.result.event_batch.events[1].kind.io_done.state == dextbench_v1_IoState_IO_STATE_DONE);
    CHECK_EQ_U64(resp.result.event_batch.events[1].kind.io_done.bytes_done, 65536);
    CHECK_EQ_U64(resp.result.event_batch.events[1].kind.io_done.errors, 1);

    new_req(14, dextbench_v1_Request_inject_fault_tag);
    req.body.inject_fault.kind = dextbench_v1_FaultKind_FAULT_KIND_STALL;
    req.body.inject_fault.endpoint = 0x81;
    step(v, "inject_fault stall endpoint 0x81", 7000000000ull, 0);
    expect_status(0);

    new_req(15, dextbench_v1_Request_io_start_tag);
    req.body.io_start.mode = dextbench_v1_IoMode_IO_MODE_ENDPOINT;
    req.body.io_start.endpoint = 0x81;
    req.body.io_start.direction = dextbench_v1_Direction_DIRECTION_IN;
    req.body.io_start.byte_count = 1000;
    req.body.io_start.pattern = dextbench_v1_Pattern_PATTERN_COUNTER;
    req.body.io_start.seed = 250;
    step(v, "io_start endpoint 0x81 in", 7000000000ull, 0);
    CHECK_EQ_U64(resp.result.io_start.io_id, 2);

    new_req(16, dextbench_v1_Request_io_status_tag);
    req.body.io_status.io_id = 2;
    step(v, "io_status failed by the stall", 7100000000ull, 4096);
    CHECK(resp.result.io_status.state == dextbench_v1_IoState_IO_STATE_FAILED);
    CHECK_EQ_U64(resp.result.io_status.bytes_done, 0);
    CHECK_EQ_U64(resp.result.io_status.errors, 1);
    CHECK_EQ_U64(resp.result.io_status.first_error_offset, 0);

    new_req(17, dextbench_v1_Request_get_stats_tag);
    req.body.get_stats.endpoint = 0x81;
    step(v, "get_stats 0x81 counts the stall", 7100000000ull, 0);
    CHECK_EQ_U64(resp.result.stats.endpoints_count, 1);
    CHECK_EQ_U64(resp.result.stats.endpoints[0].stalls, 1);
    CHECK_EQ_U64(resp.result.stats.endpoints[0].errors, 1);
    CHECK_EQ_U64(resp.result.stats.endpoints[0].bytes, 65536);

    new_req(18, dextbench_v1_Request_reset_stats_tag);
    step(v, "reset_stats all", 7100000000ull, 0);
    expect_status(0);
    CHECK(resp.which_result == dextbench_v1_Response_reset_stats_tag);

    new_req(19, dextbench_v1_Request_get_stats_tag);
    req.body.get_stats.endpoint = 0x81;
    step(v, "get_stats 0x81 after reset", 7100000000ull, 0);
    CHECK_EQ_U64(resp.result.stats.endpoints_count, 1);
    CHECK_EQ_U64(resp.result.stats.endpoints[0].endpoint, 0x81);
    CHECK_EQ_U64(resp.result.stats.endpoints[0].bytes, 0);
    CHECK_EQ_U64(resp.result.stats.endpoints[0].stalls, 0);

    new_req(20, dextbench_v1_Request_io_start_tag);
    req.body.io_start.mode = dextbench_v1_IoMode_IO_MODE_LOOPBACK;
    req.body.io_start.byte_count = 1000;
    step(v, "io_start without a pattern", 7100000000ull, 0);
    expect_status(DXB_STATUS_INVALID_ARGUMENT);
    CHECK(strcmp(resp.status.message, "IoStart.pattern must be set") == 0);

    new_req(21, dextbench_v1_Request_io_start_tag);
    req.body.io_start.mode = dextbench_v1_IoMode_IO_MODE_LOOPBACK;
    req.body.io_start.byte_count = 1 << 20;
    req.body.io_start.pattern = dextbench_v1_Pattern_PATTERN_PRBS7;
    step(v, "io_start 1MiB prbs7", 7200000000ull, 0);
    CHECK_EQ_U64(resp.result.io_start.io_id, 3);

    new_req(22, dextbench_v1_Request_io_stop_tag);
    req.body.io_stop.io_id = 3;
    step(v, "io_stop aborts after 48KiB", 7300000000ull, 49152);
    CHECK(resp.which_result == dextbench_v1_Response_io_stop_tag);
    CHECK(resp.result.io_stop.state == dextbench_v1_IoState_IO_STATE_ABORTED);
    CHECK_EQ_U64(resp.result.io_stop.bytes_done, 49152);
    CHECK_EQ_U64(resp.result.io_stop.errors, 0);

    new_req(23, dextbench_v1_Request_io_stop_tag);
    req.body.io_stop.io_id = 99;
    step(v, "io_stop unknown io", 7300000000ull, 0);
    expect_status(DXB_STATUS_NOT_FOUND);
    CHECK(strcmp(resp.status.message, "no io 99") == 0);

    {
        /* dextbench.echo.v1.Echo {text "hi", count 5, token 2^63 + 1} (devices/echo.proto) */
        static const uint8_t echo[] = {0x0a, 0x02, 'h', 'i', 0x10, 0x05, 0x20,
                                       0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
        new_req(24, dextbench_v1_Request_extension_tag);
        strcpy(req.body.extension.type_name, "dextbench.echo.v1.Echo");
        req.body.extension.payload.size = sizeof echo;
        memcpy(req.body.extension.payload.bytes, echo, sizeof echo);
        step(v, "extension echo", 7300000000ull, 0);
        expect_status(0);
        CHECK(resp.which_result == dextbench_v1_Response_extension_tag);
        CHECK(strcmp(resp.result.extension.type_name, "dextbench.echo.v1.Echo") == 0);
        CHECK(resp.result.extension.payload.size == sizeof echo &&
              memcmp(resp.result.extension.payload.bytes, echo, sizeof echo) == 0);
    }

    new_req(25, dextbench_v1_Request_poll_events_tag);
    req.body.poll_events.max_events = 2;
    step(v, "poll_events max 2", 7300000000ull, 0);
    CHECK_EQ_U64(resp.result.event_batch.events_count, 2);
    CHECK(resp.result.event_batch.more);
    CHECK_EQ_U64(resp.result.event_batch.events[0].seq, 4);
    CHECK(strcmp(resp.result.event_batch.events[0].kind.log.text, "fault injected: stall on endpoint 129") == 0);
    CHECK_EQ_U64(resp.result.event_batch.events[1].seq, 5);
    CHECK(resp.result.event_batch.events[1].kind.log.level == dextbench_v1_LogLevel_LOG_LEVEL_ERROR);

    new_req(26, dextbench_v1_Request_poll_events_tag);
    step(v, "poll_events rest", 7300000000ull, 0);
    CHECK_EQ_U64(resp.result.event_batch.events_count, 2);
    CHECK(!resp.result.event_batch.more);
    CHECK(resp.result.event_batch.events[0].kind.io_done.state == dextbench_v1_IoState_IO_STATE_FAILED);
    CHECK_EQ_U64(resp.result.event_batch.events[1].kind.io_done.io_id, 3);
    CHECK(resp.result.event_batch.events[1].kind.io_done.state == dextbench_v1_IoState_IO_STATE_ABORTED);

    {
        /* id 27 and an unknown length-delimited field 99 ("zz"): the body is unknown */
        static const uint8_t unknown_body[] = {0x08, 0x1b, 0x9a, 0x06, 0x02, 'z', 'z'};
        static const uint8_t malformed[] = {0x08, 0x1c, 0x12, 0x05, 0x08};
        step_raw(v, "unknown body member", 7300000000ull, 0, unknown_body, sizeof unknown_body);
        CHECK_EQ_U64(resp.id, 27);
        expect_status(DXB_STATUS_UNIMPLEMENTED);
        CHECK(strcmp(resp.status.message, "Request has no body this server knows") == 0);
        step_raw(v, "empty request", 7300000000ull, 0, NULL, 0);
        CHECK_EQ_U64(resp.id, 0);
        expect_status(DXB_STATUS_UNIMPLEMENTED);
        step_raw(v, "malformed request (truncated submessage)", 7300000000ull, 0, malformed, sizeof malformed);
        CHECK_EQ_U64(resp.id, 28);
        expect_status(DXB_STATUS_INVALID_ARGUMENT);
        CHECK(strncmp(resp.status.message, "malformed Request: ", 19) == 0);
    }
    t_put(v, "\n  ]\n}\n");
}

/* ------------------------------------------------------------- limits and the spill path */

static dxb_channel_t channel;
static uint8_t ool[DXB_OOL_HEADER_BYTES + DXB_MAX_MESSAGE_BYTES];

static void test_limits_and_channel(void) {
    uint8_t out[DXB_MAX_INLINE_BYTES], wire[DXB_OOL_HEADER_BYTES + DXB_MAX_MESSAGE_BYTES];
    size_t n, out_len = 0, spill = 0, wire_len = 0, msg_len = 0;
    const uint8_t *msg;
    uint32_t i;

    fake_now = 1;
    dxb_loopback_init(&model, &session_config);

    /* RESOURCE_EXHAUSTED: a 500-byte echo into a 100-byte output. */
    new_req(40, dextbench_v1_Request_ping_tag);
    req.body.ping.data.size = 500;
    n = encode_req(&req, req_buf, sizeof req_buf);
    CHECK(dxb_server_handle(&model.server, req_buf, n, resp_buf, 100, &out_len) == DXB_OK);
    CHECK(decode_resp(resp_buf, out_len, &resp));
    CHECK_EQ_U64(resp.id, 40);
    expect_status(DXB_STATUS_RESOURCE_EXHAUSTED);
    CHECK(strcmp(resp.status.message, "response needs 510 bytes; limit 100") == 0);
    CHECK(dxb_server_handle(&model.server, req_buf, n, resp_buf, 4, &out_len) == DXB_E_SPACE);

    /* 6000-byte echo: request goes out of line, response spills and is fetched. */
    dxb_channel_init(&channel, &model.server);
    new_req(41, dextbench_v1_Request_ping_tag);
    req.body.ping.nonce = 7;
    req.body.ping.data.size = 6000;
    for (i = 0; i < 6000; i++) req.body.ping.data.bytes[i] = (uint8_t)(i * 7);
    n = encode_req(&req, req_buf, sizeof req_buf);
    CHECK(dxb_frame_put_call_input(req_buf, n, wire, sizeof wire, &wire_len) == DXB_OK);
    CHECK_EQ_U64(wire_len, n + 4);
    CHECK(dxb_channel_fetch(&channel, ool, sizeof ool) == DXB_E_STATE);
    CHECK(dxb_channel_call(&channel, wire, wire_len, true, out, sizeof out, &out_len) == DXB_OK);
    CHECK(dxb_frame_parse_call_output(out, out_len, &spill) == 2);
    CHECK(spill > DXB_MAX_INLINE_BYTES);
    CHECK(dxb_channel_fetch(&channel, ool, DXB_OOL_HEADER_BYTES + spill - 1) == DXB_E_SPACE);
    CHECK(dxb_channel_fetch(&channel, ool, DXB_OOL_HEADER_BYTES + spill) == DXB_OK);
    CHECK(dxb_frame_get_ool(ool, DXB_OOL_HEADER_BYTES + spill, &msg, &msg_len) == DXB_OK);
    CHECK_EQ_U64(msg_len, spill);
    CHECK(decode_resp(msg, msg_len, &resp));
    CHECK_EQ_U64(resp.id, 41);
    CHECK_EQ_U64(resp.result.ping.nonce, 7);
    CHECK(resp.result.ping.data.size == 6000 && memcmp(resp.result.ping.data.bytes, req.body.ping.data.bytes, 6000) == 0);
    CHECK(dxb_channel_fetch(&channel, ool, sizeof ool) == DXB_E_STATE); /* fetched once */

    /* Small request inline, answer inline. */
    new_req(42, dextbench_v1_Request_get_info_tag);
    n = encode_req(&req, req_buf, sizeof req_buf);
    CHECK(dxb_channel_call(&channel, req_buf, n, false, out, sizeof out, &out_len) == DXB_OK);
    CHECK(dxb_frame_parse_call_output(out, out_len, &spill) == 1);
    CHECK(decode_resp(out, out_len, &resp) && resp.id == 42);
    /* An inline input above 4096 cannot come from the kernel. */
    CHECK(dxb_channel_call(&channel, wire, 4097, false, out, sizeof out, &out_len) == DXB_E_ARG);

    /* Crash fault: the model flags it for the host. */
    new_req(43, dextbench_v1_Request_inject_fault_tag);
    req.body.inject_fault.kind = dextbench_v1_FaultKind_FAULT_KIND_CRASH;
    n = encode_req(&req, req_buf, sizeof req_buf);
    CHECK(dxb_server_handle(&model.server, req_buf, n, resp_buf, sizeof resp_buf, &out_len) == DXB_OK);
    CHECK(model.crashed);

    /* Slots: four running ios exhaust the model; finished ones are reused oldest first. */
    dxb_loopback_init(&model, &session_config);
    for (i = 0; i < 5; i++) {
        new_req(50 + i, dextbench_v1_Request_io_start_tag);
        req.body.io_start.mode = dextbench_v1_IoMode_IO_MODE_LOOPBACK;
        req.body.io_start.byte_count = 100;
        req.body.io_start.pattern = dextbench_v1_Pattern_PATTERN_ZEROS;
        n = encode_req(&req, req_buf, sizeof req_buf);
        CHECK(dxb_server_handle(&model.server, req_buf, n, resp_buf, sizeof resp_buf, &out_len) == DXB_OK);
        CHECK(decode_resp(resp_buf, out_len, &resp));
        expect_status(i < 4 ? 0 : DXB_STATUS_RESOURCE_EXHAUSTED);
    }
    dxb_loopback_advance(&model, 1000);
    CHECK(!dxb_loopback_busy(&model));
    CHECK(dxb_server_handle(&model.server, req_buf, n, resp_buf, sizeof resp_buf, &out_len) == DXB_OK);
    CHECK(decode_resp(resp_buf, out_len, &resp));
    CHECK_EQ_U64(resp.result.io_start.io_id, 5);
    CHECK_EQ_U64(model.io[0].io_id, 5); /* took io 1's slot */
}

/* ------------------------------------------------------------------ wire-paced io */

static uint64_t start_io(uint64_t id, dextbench_v1_IoMode mode, uint32_t endpoint, uint64_t bytes) {
    size_t n, out_len = 0;
    new_req(id, dextbench_v1_Request_io_start_tag);
    req.body.io_start.mode = mode;
    req.body.io_start.endpoint = endpoint;
    req.body.io_start.byte_count = bytes;
    req.body.io_start.pattern = dextbench_v1_Pattern_PATTERN_PRBS15;
    req.body.io_start.seed = 9;
    req.body.io_start.chunk_size = 16384;
    n = encode_req(&req, req_buf, sizeof req_buf);
    CHECK(dxb_server_handle(&model.server, req_buf, n, resp_buf, sizeof resp_buf, &out_len) == DXB_OK);
    CHECK(decode_resp(resp_buf, out_len, &resp));
    expect_status(0);
    return resp.result.io_start.io_id;
}

static const dxb_loopback_io_t *io_of(uint64_t io_id) {
    uint32_t i;
    for (i = 0; i < DXB_LOOPBACK_MAX_IO; i++)
        if (model.io[i].used && model.io[i].io_id == io_id) return &model.io[i];
    return NULL;
}

static const dextbench_v1_EndpointStats *stats_of(uint32_t endpoint) {
    uint32_t i;
    for (i = 0; i < model.n_endpoints; i++)
        if (model.stats[i].endpoint == endpoint) return &model.stats[i];
    return NULL;
}

static uint8_t wire_tx[16384], wire_rx[16384];

/* One chunk over a "wire" that returns what was sent, with bytes [flip_from, flip_to) inverted. */
static void round_trip(dxb_loopback_chunk_t *c, size_t flip_from, size_t flip_to, dxb_wire_t wire) {
    size_t i;
    dxb_loopback_chunk_fill(&model, c, wire_tx, (size_t)c->length);
    memcpy(wire_rx, wire_tx, (size_t)c->length);
    for (i = flip_from; i < flip_to; i++) wire_rx[i] ^= 0xFFu;
    if (wire == DXB_WIRE_OK) dxb_loopback_chunk_verify(&model, c, wire_rx, (size_t)c->length);
    dxb_loopback_chunk_end(&model, c, wire, 0);
}

static void test_wire_paced(void) {
    dxb_loopback_chunk_t c;
    const dxb_loopback_io_t *io;
    dxb_pattern_t stream;
    uint8_t expected[16384];
    uint64_t id;
    size_t out_len = 0, n;
    uint32_t done_events = 0, i;
    dextbench_v1_EventBatch batch;

    fake_now = 1;
    dxb_loopback_init(&model, &session_config);
    id = start_io(60, dextbench_v1_IoMode_IO_MODE_LOOPBACK, 0, 40000);
    io = io_of(id);

    /* Nothing counts before the wire answers; the bytes sent are the io's stream. */
    CHECK(dxb_loopback_chunk_begin(&model, 1u << 20, &c));
    CHECK_EQ_U64(c.io_id, id);
    CHECK_EQ_U64(c.offset, 0);
    CHECK_EQ_U64(c.length, 16384);
    dxb_loopback_chunk_fill(&model, &c, wire_tx, 16384);
    dxb_pattern_init(&stream, dextbench_v1_Pattern_PATTERN_PRBS15, 9);
    dxb_pattern_fill(&stream, expected, sizeof expected);
    CHECK(memcmp(wire_tx, expected, sizeof expected) == 0);
    CHECK_EQ_U64(io->bytes_done, 0);
    CHECK_EQ_U64(stats_of(0x01)->transfers, 0);
    memcpy(wire_rx, wire_tx, 16384);
    dxb_loopback_chunk_verify(&model, &c, wire_rx, 16384);
    dxb_loopback_chunk_end(&model, &c, DXB_WIRE_OK, 0);
    CHECK_EQ_U64(io->bytes_done, 16384);
    CHECK_EQ_U64(stats_of(0x01)->transfers, 1);
    CHECK_EQ_U64(stats_of(0x81)->bytes, 16384);
    CHECK_EQ_U64(io->errors, 0);

    /* Three bytes come back different: three errors, the first at its stream offset. */
    CHECK(dxb_loopback_chunk_begin(&model, 1u << 20, &c));
    CHECK_EQ_U64(c.offset, 16384);
    round_trip(&c, 100, 103, DXB_WIRE_OK);
    CHECK_EQ_U64(io->errors, 3);
    CHECK_EQ_U64(io->first_error_offset, 16384 + 100);
    CHECK(io->state == dextbench_v1_IoState_IO_STATE_RUNNING);

    /* The last piece: DONE (and IoDone) only once the wire has returned it. */
    CHECK(dxb_loopback_chunk_begin(&model, 1u << 20, &c));
    CHECK_EQ_U64(c.length, 40000 - 32768);
    dxb_loopback_chunk_fill(&model, &c, wire_tx, (size_t)c.length);
    CHECK(io->state == dextbench_v1_IoState_IO_STATE_RUNNING);
    memcpy(wire_rx, wire_tx, (size_t)c.length);
    dxb_loopback_chunk_verify(&model, &c, wire_rx, (size_t)c.length);
    dxb_loopback_chunk_end(&model, &c, DXB_WIRE_OK, 0);
    CHECK(io->state == dextbench_v1_IoState_IO_STATE_DONE);
    CHECK_EQ_U64(io->bytes_done, 40000);
    CHECK(!dxb_loopback_chunk_begin(&model, 1u << 20, &c));
    dxb_events_poll(&model.events, 0, DXB_MAX_MESSAGE_BYTES, &batch);
    for (i = 0; i < batch.events_count; i++) {
        if (batch.events[i].which_kind != dextbench_v1_Event_io_done_tag) continue;
        done_events++;
        CHECK_EQ_U64(batch.events[i].kind.io_done.errors, 3);
        CHECK_EQ_U64(batch.events[i].kind.io_done.bytes_done, 40000);
    }
    CHECK_EQ_U64(done_events, 1);

    /* A stall on the IN pipe: the endpoint counts a stall and an error, the io ends FAILED. */
    id = start_io(61, dextbench_v1_IoMode_IO_MODE_LOOPBACK, 0, 40000);
    io = io_of(id);
    CHECK(dxb_loopback_chunk_begin(&model, 1u << 20, &c));
    dxb_loopback_chunk_fill(&model, &c, wire_tx, (size_t)c.length);
    dxb_loopback_chunk_end(&model, &c, DXB_WIRE_STALL, 0x81);
    CHECK(io->state == dextbench_v1_IoState_IO_STATE_FAILED);
    CHECK_EQ_U64(io->errors, 1);
    CHECK_EQ_U64(io->first_error_offset, 0);
    CHECK_EQ_U64(io->bytes_done, 0);
    CHECK_EQ_U64(stats_of(0x81)->stalls, 1);
    CHECK_EQ_U64(stats_of(0x81)->errors, 1);
    CHECK_EQ_U64(stats_of(0x01)->errors, 0);

    /* Any other wire failure: an error on the io's endpoint (IN for loopback), no stall. */
    id = start_io(62, dextbench_v1_IoMode_IO_MODE_LOOPBACK, 0, 100);
    CHECK(dxb_loopback_chunk_begin(&model, 1u << 20, &c));
    round_trip(&c, 0, 0, DXB_WIRE_ERROR);
    CHECK(io_of(id)->state == dextbench_v1_IoState_IO_STATE_FAILED);
    CHECK_EQ_U64(stats_of(0x81)->errors, 2);
    CHECK_EQ_U64(stats_of(0x81)->stalls, 1);

    /* IoStop while a chunk is out: its late answer changes nothing. */
    id = start_io(63, dextbench_v1_IoMode_IO_MODE_LOOPBACK, 0, 40000);
    CHECK(dxb_loopback_chunk_begin(&model, 1u << 20, &c));
    new_req(64, dextbench_v1_Request_io_stop_tag);
    req.body.io_stop.io_id = id;
    n = encode_req(&req, req_buf, sizeof req_buf);
    CHECK(dxb_server_handle(&model.server, req_buf, n, resp_buf, sizeof resp_buf, &out_len) == DXB_OK);
    round_trip(&c, 0, 0, DXB_WIRE_OK);
    CHECK(io_of(id)->state == dextbench_v1_IoState_IO_STATE_ABORTED);
    CHECK_EQ_U64(io_of(id)->bytes_done, 0);
    CHECK_EQ_U64(stats_of(0x01)->transfers, 3);

    /* ENDPOINT mode OUT: sent only, nothing to verify, counted on the OUT endpoint alone. */
    id = start_io(65, dextbench_v1_IoMode_IO_MODE_ENDPOINT, 0x01, 1000);
    CHECK(dxb_loopback_chunk_begin(&model, 1u << 20, &c));
    dxb_loopback_chunk_fill(&model, &c, wire_tx, (size_t)c.length);
    dxb_loopback_chunk_end(&model, &c, DXB_WIRE_OK, 0);
    CHECK(io_of(id)->state == dextbench_v1_IoState_IO_STATE_DONE);
    CHECK_EQ_U64(io_of(id)->errors, 0);
    CHECK_EQ_U64(stats_of(0x01)->transfers, 4);
    CHECK_EQ_U64(stats_of(0x81)->transfers, 3);
}

int main(int argc, char **argv) {
    text_t frames = {0}, patterns = {0}, session = {0};
    write_vectors = argc > 1 && strcmp(argv[1], "--write-vectors") == 0;
    test_frames(&frames);
    test_patterns(&patterns);
    test_events();
    test_loopback_session(&session);
    test_limits_and_channel();
    test_wire_paced();
    vector_file("frames.json", &frames);
    vector_file("patterns.json", &patterns);
    vector_file("loopback-session.json", &session);
    free(frames.buf);
    free(patterns.buf);
    free(session.buf);
    if (failures) {
        fprintf(stderr, "libdextbench: %d of %d checks failed\n", failures, checks);
        return 1;
    }
    printf("libdextbench: %d checks passed\n", checks);
    return 0;
}
