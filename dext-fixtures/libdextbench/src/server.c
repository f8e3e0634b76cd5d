/* Request -> handler -> Response, with the status rules of channel.proto. */
#include <string.h>

#include <pb_decode.h>
#include <pb_encode.h>

#include "dextbench.h"

void dxb_str_append(char *dst, size_t cap, const char *src) {
    size_t n;
    if (cap == 0 || src == NULL) return;
    n = strlen(dst);
    while (*src && n + 1 < cap) dst[n++] = *src++;
    dst[n] = '\0';
}

void dxb_str_append_u64(char *dst, size_t cap, uint64_t v) {
    char digits[21];
    size_t i = sizeof digits - 1;
    digits[i] = '\0';
    do {
        digits[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    dxb_str_append(dst, cap, digits + i);
}

void dxb_status_set(dextbench_v1_Response *resp, int32_t code, const char *a, const char *b) {
    resp->has_status = code != DXB_STATUS_OK;
    resp->status.code = code;
    resp->status.message[0] = '\0';
    dxb_str_append(resp->status.message, sizeof resp->status.message, a);
    dxb_str_append(resp->status.message, sizeof resp->status.message, b);
}

int32_t dxb_hello_fill(const dextbench_v1_Hello *hello, const char *const *caps, size_t n_caps,
                       uint32_t event_queue_capacity, dextbench_v1_Response *resp) {
    dextbench_v1_HelloResult *r = &resp->result.hello;
    size_t i;
    if (hello->protocol_version == 0) {
        dxb_status_set(resp, DXB_STATUS_INVALID_ARGUMENT, "Hello.protocol_version must be >= 1", NULL);
        return DXB_STATUS_INVALID_ARGUMENT;
    }
    resp->which_result = dextbench_v1_Response_hello_tag;
    /* The lower version wins; a client needing more than this server has decides itself. */
    r->protocol_version = DXB_PROTOCOL_VERSION;
    r->max_inline_bytes = DXB_MAX_INLINE_BYTES;
    r->max_message_bytes = DXB_MAX_MESSAGE_BYTES;
    r->event_queue_capacity = event_queue_capacity;
    r->capabilities_count = 0;
    for (i = 0; i < n_caps && r->capabilities_count < sizeof r->capabilities / sizeof r->capabilities[0]; i++) {
        char *dst = r->capabilities[r->capabilities_count++];
        dst[0] = '\0';
        dxb_str_append(dst, sizeof r->capabilities[0], caps[i]);
    }
    return DXB_STATUS_OK;
}

void dxb_server_init(dxb_server_t *server, const dxb_handlers_t *handlers, void *ctx) {
    memset(server, 0, sizeof *server);
    server->handlers = *handlers;
    server->ctx = ctx;
}

static dxb_handler_fn handler_for(const dxb_handlers_t *h, pb_size_t which) {
    switch (which) {
    case dextbench_v1_Request_hello_tag: return h->hello;
    case dextbench_v1_Request_ping_tag: return h->ping;
    case dextbench_v1_Request_get_info_tag: return h->get_info;
    case dextbench_v1_Request_get_stats_tag: return h->get_stats;
    case dextbench_v1_Request_reset_stats_tag: return h->reset_stats;
    case dextbench_v1_Request_io_start_tag: return h->io_start;
    case dextbench_v1_Request_io_status_tag: return h->io_status;
    case dextbench_v1_Request_io_stop_tag: return h->io_stop;
    case dextbench_v1_Request_inject_fault_tag: return h->inject_fault;
    case dextbench_v1_Request_poll_events_tag: return h->poll_events;
    case dextbench_v1_Request_extension_tag: return h->extension;
    default: return NULL;
    }
}

/* Clears resp's header (id, status, which_result) and zeroes the result member a request of kind
 * `body` is answered with (handlers write only that member); 0 = no member. */
static void clear_response(dextbench_v1_Response *resp, pb_size_t body) {
    resp->id = 0;
    resp->has_status = false;
    memset(&resp->status, 0, sizeof resp->status);
    resp->which_result = 0;
    switch (body) {
    case dextbench_v1_Request_hello_tag: memset(&resp->result.hello, 0, sizeof resp->result.hello); break;
    case dextbench_v1_Request_ping_tag: /* bytes past data.size are never encoded: leave its 8 KiB alone */
        resp->result.ping.nonce = 0;
        resp->result.ping.data.size = 0;
        resp->result.ping.time_ns = 0;
        break;
    case dextbench_v1_Request_get_info_tag: memset(&resp->result.info, 0, sizeof resp->result.info); break;
    case dextbench_v1_Request_get_stats_tag: memset(&resp->result.stats, 0, sizeof resp->result.stats); break;
    case dextbench_v1_Request_reset_stats_tag: memset(&resp->result.reset_stats, 0, sizeof resp->result.reset_stats); break;
    case dextbench_v1_Request_io_start_tag: memset(&resp->result.io_start, 0, sizeof resp->result.io_start); break;
    case dextbench_v1_Request_io_status_tag: memset(&resp->result.io_status, 0, sizeof resp->result.io_status); break;
    case dextbench_v1_Request_io_stop_tag: memset(&resp->result.io_stop, 0, sizeof resp->result.io_stop); break;
    case dextbench_v1_Request_inject_fault_tag: memset(&resp->result.inject_fault, 0, sizeof resp->result.inject_fault); break;
    case dextbench_v1_Request_poll_events_tag: memset(&resp->result.event_batch, 0, sizeof resp->result.event_batch); break;
    case dextbench_v1_Request_extension_tag: memset(&resp->result.extension, 0, sizeof resp->result.extension); break;
    default: break;
    }
}

/* True when the top level of the Request bytes holds a Ping body (field 3, length-delimited). */
static bool has_ping_body(const uint8_t *in, size_t in_len) {
    pb_istream_t is = pb_istream_from_buffer(in, in_len);
    while (is.bytes_left > 0) {
        pb_wire_type_t wt;
        uint32_t tag;
        bool eof;
        if (!pb_decode_tag(&is, &wt, &tag, &eof)) return false;
        if (tag == dextbench_v1_Request_ping_tag && wt == PB_WT_STRING) return true;
        if (!pb_skip_field(&is, wt)) return false;
    }
    return false;
}

/* pb_decode of a Request, as from fresh defaults. pb_decode zeroes the 8 KiB Ping member before
 * decoding into it whenever which_body was another kind; for a Request with a Ping body the same
 * result comes from clearing what a Ping's bytes mean (nonce, data.size) and decoding without
 * that init: nanopb then fills the member it already holds. */
static bool decode_request(pb_istream_t *is, const uint8_t *in, size_t in_len, dextbench_v1_Request *req) {
    if (!has_ping_body(in, in_len)) return pb_decode(is, dextbench_v1_Request_fields, req);
    req->id = 0;
    req->which_body = dextbench_v1_Request_ping_tag;
    req->body.ping.nonce = 0;
    req->body.ping.data.size = 0;
    return pb_decode_ex(is, dextbench_v1_Request_fields, req, PB_DECODE_NOINIT);
}

static bool encode_response(const dextbench_v1_Response *resp, uint8_t *out, size_t out_cap, size_t *out_len) {
    pb_ostream_t os = pb_ostream_from_buffer(out, out_cap);
    if (!pb_encode(&os, dextbench_v1_Response_fields, resp)) return false;
    *out_len = os.bytes_written;
    return true;
}

int dxb_server_handle(dxb_server_t *server, const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap,
                      size_t *out_len) {
    dextbench_v1_Request *req = &server->request;
    dextbench_v1_Response *resp = &server->response;
    pb_istream_t is = pb_istream_from_buffer(in, in_len);
    size_t need = 0;
    uint64_t id;

    /* No memset of the (8 KiB) structs per call: pb_decode sets every field of req to its default
     * first (and zeroes a oneof member as it decodes it), and resp gets its header cleared and the
     * result member of the request's kind zeroed (clear_response). */
    if (!decode_request(&is, in, in_len, req)) {
        clear_response(resp, 0);
        /* The id may not have been read; report what we have (0 when unknown). */
        resp->id = req->id;
        dxb_status_set(resp, DXB_STATUS_INVALID_ARGUMENT, "malformed Request: ", PB_GET_ERROR(&is));
    } else {
        dxb_handler_fn fn = handler_for(&server->handlers, req->which_body);
        clear_response(resp, req->which_body);
        resp->id = req->id;
        if (fn == NULL) {
            dxb_status_set(resp, DXB_STATUS_UNIMPLEMENTED,
                           req->which_body == 0 ? "Request has no body this server knows" : "request kind not implemented by this server",
                           NULL);
        } else {
            int32_t code = fn(server->ctx, req, resp);
            if (code != DXB_STATUS_OK) {
                resp->which_result = 0; /* a failed request carries no result */
                if (!resp->has_status || resp->status.code != code) dxb_status_set(resp, code, "request failed", NULL);
            }
        }
    }
    id = resp->id;
    /* The size is needed only when encoding fails (out_cap too small): no sizing pass per call. */
    if (encode_response(resp, out, out_cap, out_len)) return DXB_OK;
    if (!pb_get_encoded_size(&need, dextbench_v1_Response_fields, resp)) need = 0;

    clear_response(resp, 0);
    resp->id = id;
    dxb_status_set(resp, DXB_STATUS_RESOURCE_EXHAUSTED, "response needs ", NULL);
    dxb_str_append_u64(resp->status.message, sizeof resp->status.message, (uint64_t)need);
    dxb_str_append(resp->status.message, sizeof resp->status.message, " bytes; limit ");
    dxb_str_append_u64(resp->status.message, sizeof resp->status.message, (uint64_t)out_cap);
    return encode_response(resp, out, out_cap, out_len) ? DXB_OK : DXB_E_SPACE;
}
