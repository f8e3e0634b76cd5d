/* A loopback device model behind the channel: used by the C tests, the in-process bridge and any
 * simulated dext. Data is really generated, "looped back" and verified, so faults show up the way
 * a driver would report them. */
#include <string.h>

#include "dextbench.h"

static const char *const loopback_caps[] = {"loopback", "endpoint", "faults", "events"};

static uint64_t now_ns(dxb_loopback_t *m) { return m->config.now ? m->config.now(m->config.clock_ctx) : 0; }

static dextbench_v1_EndpointStats *stats_for(dxb_loopback_t *m, uint32_t endpoint) {
    uint32_t i;
    for (i = 0; i < m->n_endpoints; i++)
        if (m->stats[i].endpoint == endpoint) return &m->stats[i];
    return NULL;
}

static dxb_loopback_io_t *io_by_id(dxb_loopback_t *m, uint64_t io_id) {
    uint32_t i;
    for (i = 0; i < DXB_LOOPBACK_MAX_IO; i++)
        if (m->io[i].used && m->io[i].io_id == io_id) return &m->io[i];
    return NULL;
}

static void push_io_done(dxb_loopback_t *m, const dxb_loopback_io_t *io) {
    dextbench_v1_Event ev;
    memset(&ev, 0, sizeof ev);
    ev.which_kind = dextbench_v1_Event_io_done_tag;
    ev.kind.io_done.io_id = io->io_id;
    ev.kind.io_done.state = io->state;
    ev.kind.io_done.bytes_done = io->bytes_done;
    ev.kind.io_done.errors = io->errors;
    dxb_events_push(&m->events, &ev, NULL);
}

static void finish(dxb_loopback_t *m, dxb_loopback_io_t *io, dextbench_v1_IoState state) {
    io->state = state;
    io->finished_ns = now_ns(m);
    push_io_done(m, io);
}

static void fill_status(dxb_loopback_t *m, const dxb_loopback_io_t *io, dextbench_v1_IoStatusResult *r) {
    r->io_id = io->io_id;
    r->state = io->state;
    r->bytes_done = io->bytes_done;
    r->errors = io->errors;
    r->first_error_offset = io->errors ? io->first_error_offset : 0;
    r->byte_count = io->byte_count;
    r->elapsed_ns = (io->state == dextbench_v1_IoState_IO_STATE_RUNNING ? now_ns(m) : io->finished_ns) - io->started_ns;
}

/* ------------------------------------------------------------------------------- handlers */

static int32_t on_hello(void *ctx, const dextbench_v1_Request *req, dextbench_v1_Response *resp) {
    (void)ctx;
    return dxb_hello_fill(&req->body.hello, loopback_caps, sizeof loopback_caps / sizeof loopback_caps[0],
                          DXB_EVENT_QUEUE_CAPACITY, resp);
}

static int32_t on_ping(void *ctx, const dextbench_v1_Request *req, dextbench_v1_Response *resp) {
    dxb_loopback_t *m = ctx;
    resp->which_result = dextbench_v1_Response_ping_tag;
    resp->result.ping.nonce = req->body.ping.nonce;
    resp->result.ping.data.size = req->body.ping.data.size;
    memcpy(resp->result.ping.data.bytes, req->body.ping.data.bytes, req->body.ping.data.size);
    resp->result.ping.time_ns = now_ns(m);
    return DXB_STATUS_OK;
}

static int32_t on_get_info(void *ctx, const dextbench_v1_Request *req, dextbench_v1_Response *resp) {
    dxb_loopback_t *m = ctx;
    dextbench_v1_InfoResult *r = &resp->result.info;
    (void)req;
    resp->which_result = dextbench_v1_Response_info_tag;
    dxb_str_append(r->driver_name, sizeof r->driver_name, m->config.driver_name);
    dxb_str_append(r->driver_version, sizeof r->driver_version, m->config.driver_version);
    r->instance_id = m->config.instance_id;
    r->process_start_time_ns = m->config.process_start_time_ns;
    return DXB_STATUS_OK;
}

/* NOT_FOUND with "no <what> <value>" (an endpoint or an io id). */
static int32_t not_found(dextbench_v1_Response *resp, const char *what, uint64_t value) {
    dxb_status_set(resp, DXB_STATUS_NOT_FOUND, what, NULL);
    dxb_str_append_u64(resp->status.message, sizeof resp->status.message, value);
    return DXB_STATUS_NOT_FOUND;
}

static int32_t on_get_stats(void *ctx, const dextbench_v1_Request *req, dextbench_v1_Response *resp) {
    dxb_loopback_t *m = ctx;
    uint32_t endpoint = req->body.get_stats.endpoint, i;
    dextbench_v1_StatsResult *r = &resp->result.stats;
    if (endpoint != 0 && stats_for(m, endpoint) == NULL) return not_found(resp, "no endpoint ", endpoint);
    resp->which_result = dextbench_v1_Response_stats_tag;
    for (i = 0; i < m->n_endpoints; i++)
        if (endpoint == 0 || m->stats[i].endpoint == endpoint) r->endpoints[r->endpoints_count++] = m->stats[i];
    return DXB_STATUS_OK;
}

static int32_t on_reset_stats(void *ctx, const dextbench_v1_Request *req, dextbench_v1_Response *resp) {
    dxb_loopback_t *m = ctx;
    uint32_t endpoint = req->body.reset_stats.endpoint, i;
    if (endpoint != 0 && stats_for(m, endpoint) == NULL) return not_found(resp, "no endpoint ", endpoint);
    for (i = 0; i < m->n_endpoints; i++) {
        if (endpoint != 0 && m->stats[i].endpoint != endpoint) continue;
        uint32_t keep = m->stats[i].endpoint;
        memset(&m->stats[i], 0, sizeof m->stats[i]);
        m->stats[i].endpoint = keep;
    }
    resp->which_result = dextbench_v1_Response_reset_stats_tag;
    return DXB_STATUS_OK;
}

static uint32_t first_endpoint(const dxb_loopback_t *m, bool in) {
    uint32_t i;
    for (i = 0; i < m->n_endpoints; i++)
        if (((m->stats[i].endpoint & 0x80u) != 0) == in) return m->stats[i].endpoint;
    return 0;
}

static int32_t invalid(dextbench_v1_Response *resp, const char *text) {
    dxb_status_set(resp, DXB_STATUS_INVALID_ARGUMENT, text, NULL);
    return DXB_STATUS_INVALID_ARGUMENT;
}

static bool slot_free(const dxb_loopback_io_t *slot) { return slot != NULL && !slot->used; }

static int32_t on_io_start(void *ctx, const dextbench_v1_Request *req, dextbench_v1_Response *resp) {
    dxb_loopback_t *m = ctx;
    const dextbench_v1_IoStart *s = &req->body.io_start;
    dextbench_v1_Direction dir = s->direction;
    dxb_loopback_io_t *slot = NULL;
    dxb_pattern_t check;
    uint32_t i, ep_out = 0, ep_in = 0;

    if (s->byte_count == 0) return invalid(resp, "IoStart.byte_count must be >= 1");
    if (s->chunk_size > 1024u * 1024u) return invalid(resp, "IoStart.chunk_size must be <= 1048576");
    if (dir == dextbench_v1_Direction_DIRECTION_UNSPECIFIED) dir = dextbench_v1_Direction_DIRECTION_BOTH;
    if (dir > dextbench_v1_Direction_DIRECTION_BOTH) return invalid(resp, "IoStart.direction unknown");
    if (s->mode == dextbench_v1_IoMode_IO_MODE_LOOPBACK) {
        if (dir != dextbench_v1_Direction_DIRECTION_IN) ep_out = first_endpoint(m, false);
        if (dir != dextbench_v1_Direction_DIRECTION_OUT) ep_in = first_endpoint(m, true);
        if ((dir != dextbench_v1_Direction_DIRECTION_IN && ep_out == 0) ||
            (dir != dextbench_v1_Direction_DIRECTION_OUT && ep_in == 0))
            return invalid(resp, "device has no endpoint for that direction");
    } else if (s->mode == dextbench_v1_IoMode_IO_MODE_ENDPOINT) {
        bool is_in = (s->endpoint & 0x80u) != 0;
        if (stats_for(m, s->endpoint) == NULL) return not_found(resp, "no endpoint ", s->endpoint);
        if (dir == dextbench_v1_Direction_DIRECTION_BOTH && req->body.io_start.direction != 0)
            return invalid(resp, "IoStart ENDPOINT mode moves one direction");
        if ((dir == dextbench_v1_Direction_DIRECTION_IN && !is_in) || (dir == dextbench_v1_Direction_DIRECTION_OUT && is_in))
            return invalid(resp, "IoStart.direction does not match the endpoint address");
        if (is_in) ep_in = s->endpoint; else ep_out = s->endpoint;
    } else {
        return invalid(resp, "IoStart.mode must be LOOPBACK or ENDPOINT");
    }

    if (dxb_pattern_init(&check, s->pattern, s->seed) != DXB_OK) return invalid(resp, "IoStart.pattern must be set");
    for (i = 0; i < DXB_LOOPBACK_MAX_IO && slot == NULL; i++)
        if (!m->io[i].used) slot = &m->io[i];
    for (i = 0; i < DXB_LOOPBACK_MAX_IO && !slot_free(slot); i++) { /* else reuse the oldest finished io */
        dxb_loopback_io_t *io = &m->io[i];
        if (io->state != dextbench_v1_IoState_IO_STATE_RUNNING && (slot == NULL || io->io_id < slot->io_id)) slot = io;
    }
    if (slot == NULL) {
        dxb_status_set(resp, DXB_STATUS_RESOURCE_EXHAUSTED, "all io slots are running", NULL);
        return DXB_STATUS_RESOURCE_EXHAUSTED;
    }
    memset(slot, 0, sizeof *slot);
    slot->tx = check;
    slot->rx = check;
    slot->used = true;
    slot->io_id = m->next_io_id++;
    slot->mode = s->mode;
    slot->state = dextbench_v1_IoState_IO_STATE_RUNNING;
    slot->endpoint_out = ep_out;
    slot->endpoint_in = ep_in;
    slot->byte_count = s->byte_count;
    slot->chunk_size = s->chunk_size ? s->chunk_size : DXB_LOOPBACK_DEFAULT_CHUNK;
    slot->started_ns = now_ns(m);
    slot->next_progress = DXB_LOOPBACK_PROGRESS_EVERY;
    resp->which_result = dextbench_v1_Response_io_start_tag;
    resp->result.io_start.io_id = slot->io_id;
    return DXB_STATUS_OK;
}

static int32_t on_io_status(void *ctx, const dextbench_v1_Request *req, dextbench_v1_Response *resp) {
    dxb_loopback_t *m = ctx;
    dxb_loopback_io_t *io = io_by_id(m, req->body.io_status.io_id);
    if (io == NULL) return not_found(resp, "no io ", req->body.io_status.io_id);
    resp->which_result = dextbench_v1_Response_io_status_tag;
    fill_status(m, io, &resp->result.io_status);
    return DXB_STATUS_OK;
}

static int32_t on_io_stop(void *ctx, const dextbench_v1_Request *req, dextbench_v1_Response *resp) {
    dxb_loopback_t *m = ctx;
    dxb_loopback_io_t *io = io_by_id(m, req->body.io_stop.io_id);
    if (io == NULL) return not_found(resp, "no io ", req->body.io_stop.io_id);
    if (io->state == dextbench_v1_IoState_IO_STATE_RUNNING) finish(m, io, dextbench_v1_IoState_IO_STATE_ABORTED);
    resp->which_result = dextbench_v1_Response_io_stop_tag;
    fill_status(m, io, &resp->result.io_stop);
    return DXB_STATUS_OK;
}

static int32_t on_inject_fault(void *ctx, const dextbench_v1_Request *req, dextbench_v1_Response *resp) {
    dxb_loopback_t *m = ctx;
    const dextbench_v1_InjectFault *f = &req->body.inject_fault;
    char text[96] = "fault injected: ";
    switch (f->kind) {
    case dextbench_v1_FaultKind_FAULT_KIND_CRASH:
        m->crashed = true;
        dxb_str_append(text, sizeof text, "crash");
        break;
    case dextbench_v1_FaultKind_FAULT_KIND_STALL:
        if (f->endpoint != 0 && stats_for(m, f->endpoint) == NULL) return not_found(resp, "no endpoint ", f->endpoint);
        m->stall_armed = true;
        m->stall_endpoint = f->endpoint;
        dxb_str_append(text, sizeof text, "stall on endpoint ");
        dxb_str_append_u64(text, sizeof text, f->endpoint);
        break;
    case dextbench_v1_FaultKind_FAULT_KIND_CORRUPT:
        m->corrupt_armed = true;
        m->corrupt_offset = f->param;
        dxb_str_append(text, sizeof text, "corrupt byte at offset ");
        dxb_str_append_u64(text, sizeof text, f->param);
        break;
    case dextbench_v1_FaultKind_FAULT_KIND_DELAY:
        m->delay_until_ns = now_ns(m) + f->param;
        dxb_str_append(text, sizeof text, "delay io by ns ");
        dxb_str_append_u64(text, sizeof text, f->param);
        break;
    default:
        return invalid(resp, "InjectFault.kind must be CRASH, STALL, CORRUPT or DELAY");
    }
    dxb_events_push_log(&m->events, dextbench_v1_LogLevel_LOG_LEVEL_WARN, text);
    resp->which_result = dextbench_v1_Response_inject_fault_tag;
    return DXB_STATUS_OK;
}

static int32_t on_poll_events(void *ctx, const dextbench_v1_Request *req, dextbench_v1_Response *resp) {
    dxb_loopback_t *m = ctx;
    resp->which_result = dextbench_v1_Response_event_batch_tag;
    dxb_events_poll(&m->events, req->body.poll_events.max_events, DXB_EVENT_BATCH_BUDGET, &resp->result.event_batch);
    return DXB_STATUS_OK;
}

/* The echo device echoes its own messages: an Extension request comes back as the result. */
static int32_t on_extension(void *ctx, const dextbench_v1_Request *req, dextbench_v1_Response *resp) {
    (void)ctx;
    resp->which_result = dextbench_v1_Response_extension_tag;
    resp->result.extension = req->body.extension;
    return DXB_STATUS_OK;
}

/* -------------------------------------------------------------------------------- model */

void dxb_loopback_init(dxb_loopback_t *m, const dxb_loopback_config_t *config) {
    static const dxb_handlers_t handlers = {
        on_hello, on_ping, on_get_info, on_get_stats, on_reset_stats, on_io_start,
        on_io_status, on_io_stop, on_inject_fault, on_poll_events, on_extension
    };
    dextbench_v1_Event started;
    uint32_t i;
    memset(m, 0, sizeof *m);
    m->config = *config;
    m->next_io_id = 1;
    for (i = 0; i < DXB_LOOPBACK_MAX_ENDPOINTS && config->endpoints[i] != 0; i++)
        m->stats[m->n_endpoints++].endpoint = config->endpoints[i];
    dxb_server_init(&m->server, &handlers, m);
    dxb_events_init(&m->events, config->now, config->clock_ctx);
    memset(&started, 0, sizeof started);
    started.which_kind = dextbench_v1_Event_started_tag;
    dxb_events_push(&m->events, &started, NULL);
}

bool dxb_loopback_busy(const dxb_loopback_t *m) {
    uint32_t i;
    for (i = 0; i < DXB_LOOPBACK_MAX_IO; i++)
        if (m->io[i].used && m->io[i].state == dextbench_v1_IoState_IO_STATE_RUNNING) return true;
    return false;
}

static void count_transfer(dxb_loopback_t *m, uint32_t endpoint, uint64_t bytes) {
    dextbench_v1_EndpointStats *st = endpoint ? stats_for(m, endpoint) : NULL;
    if (st == NULL) return;
    st->bytes += bytes;
    st->transfers++;
}

static dxb_loopback_io_t *running_io(dxb_loopback_t *m, uint64_t io_id) {
    dxb_loopback_io_t *io = io_by_id(m, io_id);
    return io != NULL && io->state == dextbench_v1_IoState_IO_STATE_RUNNING ? io : NULL;
}

/* A failed transfer: the endpoint (0 = the io's own) and the io count it, and the io ends FAILED. */
static void fail_transfer(dxb_loopback_t *m, dxb_loopback_io_t *io, uint32_t endpoint, bool stalled) {
    dextbench_v1_EndpointStats *st;
    if (endpoint == 0) endpoint = io->endpoint_in ? io->endpoint_in : io->endpoint_out;
    st = stats_for(m, endpoint);
    if (st) {
        if (stalled) st->stalls++;
        st->errors++;
    }
    if (io->errors == 0) io->first_error_offset = io->bytes_done;
    io->errors++;
    dxb_events_push_log(&m->events, dextbench_v1_LogLevel_LOG_LEVEL_ERROR, stalled ? "transfer stalled" : "transfer failed");
    finish(m, io, dextbench_v1_IoState_IO_STATE_FAILED);
}

/* An armed STALL fault that applies to io fails it (the fault is used up). */
static bool take_stall(dxb_loopback_t *m, dxb_loopback_io_t *io) {
    if (!m->stall_armed) return false;
    if (m->stall_endpoint != 0 && m->stall_endpoint != io->endpoint_out && m->stall_endpoint != io->endpoint_in) return false;
    m->stall_armed = false;
    fail_transfer(m, io, m->stall_endpoint, true);
    return true;
}

bool dxb_loopback_chunk_begin(dxb_loopback_t *m, uint64_t max_bytes, dxb_loopback_chunk_t *c) {
    uint32_t i;
    if (m->crashed || max_bytes == 0 || now_ns(m) < m->delay_until_ns) return false;
    for (i = 0; i < DXB_LOOPBACK_MAX_IO; i++) {
        dxb_loopback_io_t *io = &m->io[i];
        uint64_t n;
        if (!io->used || io->state != dextbench_v1_IoState_IO_STATE_RUNNING || take_stall(m, io)) continue;
        n = io->byte_count - io->bytes_done;
        if (n > io->chunk_size) n = io->chunk_size;
        if (n > max_bytes) n = max_bytes;
        c->io_id = io->io_id;
        c->offset = io->bytes_done;
        c->length = n;
        return true;
    }
    return false;
}

void dxb_loopback_chunk_fill(dxb_loopback_t *m, const dxb_loopback_chunk_t *c, uint8_t *out, size_t len) {
    dxb_loopback_io_t *io = running_io(m, c->io_id);
    if (io == NULL) {
        memset(out, 0, len); /* the io ended meanwhile; end() will ignore this chunk */
        return;
    }
    dxb_pattern_fill(&io->tx, out, len);
}

void dxb_loopback_chunk_verify(dxb_loopback_t *m, const dxb_loopback_chunk_t *c, const uint8_t *in, size_t len) {
    dxb_loopback_io_t *io = running_io(m, c->io_id);
    uint64_t first = 0, errs;
    if (io == NULL) return;
    errs = dxb_pattern_verify(&io->rx, in, len, &first);
    if (errs) {
        if (io->errors == 0) io->first_error_offset = first;
        io->errors += errs;
    }
}

void dxb_loopback_chunk_end(dxb_loopback_t *m, const dxb_loopback_chunk_t *c, dxb_wire_t wire, uint32_t endpoint) {
    dxb_loopback_io_t *io = running_io(m, c->io_id);
    if (io == NULL) return;
    if (wire != DXB_WIRE_OK) {
        fail_transfer(m, io, endpoint, wire == DXB_WIRE_STALL);
        return;
    }
    count_transfer(m, io->endpoint_out, c->length);
    count_transfer(m, io->endpoint_in, c->length);
    io->bytes_done += c->length;
    if (io->bytes_done >= io->next_progress && io->bytes_done < io->byte_count) {
        dextbench_v1_Event ev;
        memset(&ev, 0, sizeof ev);
        ev.which_kind = dextbench_v1_Event_io_progress_tag;
        ev.kind.io_progress.io_id = io->io_id;
        ev.kind.io_progress.bytes_done = io->bytes_done;
        dxb_events_push(&m->events, &ev, NULL);
        while (io->next_progress <= io->bytes_done) io->next_progress += DXB_LOOPBACK_PROGRESS_EVERY;
    }
    if (io->bytes_done >= io->byte_count) finish(m, io, dextbench_v1_IoState_IO_STATE_DONE);
}

void dxb_loopback_advance(dxb_loopback_t *m, uint64_t max_bytes) {
    dxb_loopback_chunk_t c;
    while (dxb_loopback_chunk_begin(m, max_bytes, &c)) {
        uint64_t done = 0;
        while (done < c.length) { /* the "wire": tx_buf copied to rx_buf, a CORRUPT fault applied */
            size_t piece = (size_t)(c.length - done < sizeof m->tx_buf ? c.length - done : sizeof m->tx_buf);
            uint64_t base = c.offset + done;
            dxb_loopback_chunk_fill(m, &c, m->tx_buf, piece);
            memcpy(m->rx_buf, m->tx_buf, piece);
            if (m->corrupt_armed && m->corrupt_offset >= base && m->corrupt_offset < base + piece) {
                m->rx_buf[m->corrupt_offset - base] ^= 0xFFu;
                m->corrupt_armed = false;
            }
            dxb_loopback_chunk_verify(m, &c, m->rx_buf, piece);
            done += piece;
        }
        dxb_loopback_chunk_end(m, &c, DXB_WIRE_OK, 0);
        max_bytes -= c.length;
    }
}

void dxb_loopback_stop(dxb_loopback_t *m) {
    dextbench_v1_Event ev;
    uint32_t i;
    memset(&ev, 0, sizeof ev);
    ev.which_kind = dextbench_v1_Event_stopping_tag;
    dxb_events_push(&m->events, &ev, NULL);
    for (i = 0; i < DXB_LOOPBACK_MAX_IO; i++)
        if (m->io[i].used && m->io[i].state == dextbench_v1_IoState_IO_STATE_RUNNING)
            finish(m, &m->io[i], dextbench_v1_IoState_IO_STATE_ABORTED);
}
