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

    memset(req, 0, sizeof *req);
    memset(resp, 0, sizeof *resp);
    if (!pb_decode(&is, dextbench_v1_Request_fields, req)) {
        /* The id may not have been read; report what we have (0 when unknown). */
        resp->id = req->id;
        dxb_status_set(resp, DXB_STATUS_INVALID_ARGUMENT, "malformed Request: ", PB_GET_ERROR(&is));
    } else {
        dxb_handler_fn fn = handler_for(&server->handlers, req->which_body);
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
    if (pb_get_encoded_size(&need, dextbench_v1_Response_fields, resp) && need <= out_cap &&
        encode_response(resp, out, out_cap, out_len))
        return DXB_OK;

    memset(resp, 0, sizeof *resp);
    resp->id = id;
    dxb_status_set(resp, DXB_STATUS_RESOURCE_EXHAUSTED, "response needs ", NULL);
    dxb_str_append_u64(resp->status.message, sizeof resp->status.message, (uint64_t)need);
    dxb_str_append(resp->status.message, sizeof resp->status.message, " bytes; limit ");
    dxb_str_append_u64(resp->status.message, sizeof resp->status.message, (uint64_t)out_cap);
    return encode_response(resp, out, out_cap, out_len) ? DXB_OK : DXB_E_SPACE;
}
