/* Portable part of the bridge: stdio frames, the user-client call rule, doorbells, termination. */
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pb_decode.h>
#include <pb_encode.h>

#include "bridge.h"

/* ------------------------------------------------------------------ user-client call rule */

static uint8_t call_wire[DXB_OOL_HEADER_BYTES + DXB_MAX_MESSAGE_BYTES];
static uint8_t fetch_wire[DXB_OOL_HEADER_BYTES + DXB_MAX_MESSAGE_BYTES];

int bridge_uc_call(bridge_transport_t *t, const uint8_t *req, size_t req_len, uint8_t *resp, size_t resp_cap,
                   size_t *resp_len, int32_t *io_return) {
    uint8_t out[DXB_MAX_INLINE_BYTES];
    size_t wire_len = 0, out_len = sizeof out, spill = 0, fetch_len, msg_len = 0;
    const uint8_t *msg;
    int rc, kind;

    *io_return = 0;
    if (dxb_frame_put_call_input(req, req_len, call_wire, sizeof call_wire, &wire_len) != DXB_OK) return BRIDGE_CALL_PROTOCOL;
    rc = t->call_struct(t->ctx, DXB_SELECTOR_CALL, call_wire, wire_len, out, &out_len, io_return);
    if (rc != BRIDGE_CALL_OK) return rc;
    kind = dxb_frame_parse_call_output(out, out_len, &spill);
    if (kind == 1) {
        if (out_len > resp_cap) return BRIDGE_CALL_PROTOCOL;
        memcpy(resp, out, out_len);
        *resp_len = out_len;
        return BRIDGE_CALL_OK;
    }
    if (kind != 2) return BRIDGE_CALL_PROTOCOL;
    fetch_len = DXB_OOL_HEADER_BYTES + spill; /* > 4096: the kernel passes a descriptor */
    rc = t->call_struct(t->ctx, DXB_SELECTOR_FETCH, NULL, 0, fetch_wire, &fetch_len, io_return);
    if (rc != BRIDGE_CALL_OK) return rc;
    /* The kernel reports the whole buffer back, so only the u32 prefix tells the length. */
    if (dxb_frame_get_ool(fetch_wire, DXB_OOL_HEADER_BYTES + spill, &msg, &msg_len) != DXB_OK || msg_len > resp_cap)
        return BRIDGE_CALL_PROTOCOL;
    memcpy(resp, msg, msg_len);
    *resp_len = msg_len;
    return BRIDGE_CALL_OK;
}

/* --------------------------------------------------------------------------- output */

/* Frames for stdout are queued and written together: one write() per frame was most of the
 * bridge's cost under pipelined requests. The queue is flushed before the bridge waits for input,
 * before a stderr line (which mirrors a frame), before exiting, and before a call when a queued
 * answer has waited OUT_MAX_WAIT_NS or the call may take long (Extension runs the dext's own code;
 * the other bodies are answered by libdextbench without waiting). So an answer is held back by at
 * most OUT_MAX_WAIT_NS plus one such call, never behind an Extension call. A long run of input is
 * also answered every OUT_FLUSH_ANSWERS requests, so the harness works on those answers while the
 * bridge handles the rest (the harness writes its requests in batches of 16 for the same reason). */
#define OUT_QUEUE_BYTES 65536u
#define OUT_MAX_WAIT_NS 1000000u
#define OUT_FLUSH_ANSWERS 16u

typedef struct bridge {
    bridge_transport_t *t;
    int in_fd, out_fd, err_fd;
    uint8_t in[DXB_MAX_VARINT_BYTES + DXB_MAX_MESSAGE_BYTES + 65536];
    size_t in_len;
    uint8_t resp[DXB_MAX_MESSAGE_BYTES];
    uint8_t out[OUT_QUEUE_BYTES];
    size_t out_len;
    unsigned out_answers; /* requests handled since the last flush */
    uint64_t out_since_ns; /* when the oldest queued frame was queued */
    dextbench_v1_Response scratch; /* large: kept off the stack */
} bridge_t;

static bridge_t bridge_state;

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int bridge_write_all(int fd, const uint8_t *buf, size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static int flush_output(bridge_t *b) {
    int rc = bridge_write_all(b->out_fd, b->out, b->out_len);
    b->out_len = 0;
    b->out_answers = 0;
    return rc;
}

/* Queues one frame for stdout (flushing first if it would not fit). */
static int write_frame(bridge_t *b, const uint8_t *msg, size_t len) {
    size_t h;
    if (len == 0) { /* an all-default Response encodes to nothing; frames are never empty */
        static const uint8_t empty_response[] = {0x08, 0x00}; /* id 0 written explicitly */
        msg = empty_response;
        len = sizeof empty_response;
    }
    if (len > DXB_MAX_MESSAGE_BYTES) return -1;
    if (b->out_len + DXB_MAX_VARINT_BYTES + len > sizeof b->out && flush_output(b) != 0) return -1;
    if (b->out_len == 0) b->out_since_ns = now_ns();
    h = dxb_frame_put_header(b->out + b->out_len, len);
    if (h == 0) return -1;
    memcpy(b->out + b->out_len + h, msg, len);
    b->out_len += h + len;
    return 0;
}

/* Before a user-client call: sends queued frames out if the call may be slow or they waited long. */
static int flush_before_call(bridge_t *b, int may_be_slow) {
    if (b->out_len == 0 || (!may_be_slow && now_ns() - b->out_since_ns < OUT_MAX_WAIT_NS)) return 0;
    return flush_output(b);
}

static void json_string(char *dst, size_t cap, const char *s) {
    size_t n = strlen(dst);
    if (n + 2 >= cap) return;
    dst[n++] = '"';
    for (; *s && n + 8 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            dst[n++] = '\\';
            dst[n++] = (char)c;
        } else if (c < 0x20) {
            n += (size_t)snprintf(dst + n, cap - n, "\\u%04x", c);
        } else {
            dst[n++] = (char)c;
        }
    }
    dst[n++] = '"';
    dst[n] = '\0';
}

/* One JSON object per line on stderr, mirroring the status frames (for humans and logs). */
static void log_json(int err_fd, const char *event, const char *const *kv) {
    char line[1024] = "{\"event\":";
    json_string(line, sizeof line, event);
    for (; kv && kv[0]; kv += 2) {
        strncat(line, ",", sizeof line - strlen(line) - 1);
        json_string(line, sizeof line, kv[0]);
        strncat(line, ":", sizeof line - strlen(line) - 1);
        json_string(line, sizeof line, kv[1]);
    }
    strncat(line, "}\n", sizeof line - strlen(line) - 1);
    (void)bridge_write_all(err_fd, (const uint8_t *)line, strlen(line)); /* stderr gone: nobody to tell */
}

/* A stderr line mirrors a frame: the frame goes out first. */
static void log_event(bridge_t *b, const char *event, const char *const *kv) {
    (void)flush_output(b); /* a failure shows at the next write */
    log_json(b->err_fd, event, kv);
}

static int encode_and_write(bridge_t *b, const dextbench_v1_Response *r) {
    uint8_t buf[1024];
    pb_ostream_t os = pb_ostream_from_buffer(buf, sizeof buf);
    if (!pb_encode(&os, dextbench_v1_Response_fields, r)) return -1;
    return write_frame(b, buf, os.bytes_written);
}

static int write_error(bridge_t *b, uint64_t id, int32_t code, const char *message) {
    dextbench_v1_Response *r = &b->scratch;
    memset(r, 0, sizeof *r);
    r->id = id;
    dxb_status_set(r, code, message, NULL);
    return encode_and_write(b, r);
}

static int write_status(bridge_t *b, const bridge_transport_t *t, const char *transport, dextbench_v1_BridgeState state,
                        int32_t io_return, const char *message) {
    dextbench_v1_Response *r = &b->scratch;
    dextbench_v1_BridgeStatus *s = &r->result.bridge_status;
    memset(r, 0, sizeof *r);
    r->which_result = dextbench_v1_Response_bridge_status_tag;
    s->state = state;
    s->io_return = io_return;
    dxb_str_append(s->transport, sizeof s->transport, transport);
    if (t) {
        dxb_str_append(s->registry_id, sizeof s->registry_id, t->registry_id);
        dxb_str_append(s->user_class, sizeof s->user_class, t->user_class);
    }
    dxb_str_append(s->message, sizeof s->message, message);
    return encode_and_write(b, r);
}

static void hex32(char *out, size_t cap, int32_t v) { snprintf(out, cap, "0x%08x", (unsigned)v); }

int bridge_report_open_failed(int out_fd, int err_fd, const char *transport, int32_t io_return, const char *message,
                              int exit_code) {
    bridge_t *b = &bridge_state;
    char ior[16];
    const char *kv[] = {"transport", transport, "ioReturn", ior, "message", message, NULL};
    hex32(ior, sizeof ior, io_return);
    b->out_fd = out_fd;
    b->err_fd = err_fd;
    b->out_len = 0;
    write_status(b, NULL, transport, dextbench_v1_BridgeState_BRIDGE_STATE_OPEN_FAILED, io_return, message);
    log_event(b, "openFailed", kv);
    return exit_code;
}

/* ------------------------------------------------------------------------------ loop */

static int terminated(bridge_t *b, int32_t io_return) {
    char ior[16];
    const char *kv[] = {"registryId", b->t->registry_id, "ioReturn", ior, NULL};
    hex32(ior, sizeof ior, io_return);
    write_status(b, b->t, b->t->name, dextbench_v1_BridgeState_BRIDGE_STATE_TERMINATED, io_return, "service terminated");
    log_event(b, "terminated", kv);
    return BRIDGE_EXIT_TERMINATED;
}

/* Reads the top-level id and body member of a Request without decoding it all. Returns 0 when
 * the bytes are not a well-formed message (the dext then answers INVALID_ARGUMENT itself). */
static int peek_request(const uint8_t *msg, size_t len, uint64_t *id, uint32_t *body_tag) {
    pb_istream_t is = pb_istream_from_buffer(msg, len);
    *id = 0;
    *body_tag = 0;
    while (is.bytes_left > 0) {
        pb_wire_type_t wt;
        uint32_t tag;
        bool eof;
        if (!pb_decode_tag(&is, &wt, &tag, &eof)) return 0;
        if (tag == dextbench_v1_Request_id_tag && wt == PB_WT_VARINT) {
            if (!pb_decode_varint(&is, id)) return 0;
        } else {
            *body_tag = tag;
            if (!pb_skip_field(&is, wt)) return 0;
        }
    }
    return 1;
}

/* Answers a doorbell: PollEvents (id 0) until the dext says no more, forwarding the batches. */
static int drain_events(bridge_t *b, int *exit_code) {
    dextbench_v1_Request poll;
    uint8_t req[16];
    size_t resp_len = 0;
    int32_t io_return = 0;
    int round;
    pb_ostream_t os = pb_ostream_from_buffer(req, sizeof req);
    memset(&poll, 0, sizeof poll);
    poll.which_body = dextbench_v1_Request_poll_events_tag;
    poll.body.poll_events.max_events = DXB_EVENT_BATCH_MAX;
    if (!pb_encode(&os, dextbench_v1_Request_fields, &poll)) return -1;
    for (round = 0; round < 64; round++) { /* bounded, so stdin stays served under an event storm */
        pb_istream_t is;
        int rc;
        if (flush_before_call(b, 0) != 0) {
            *exit_code = BRIDGE_EXIT_IO;
            return 1;
        }
        rc = bridge_uc_call(b->t, req, os.bytes_written, b->resp, sizeof b->resp, &resp_len, &io_return);
        if (rc == BRIDGE_CALL_TERMINATED) {
            *exit_code = terminated(b, io_return);
            return 1;
        }
        if (rc != BRIDGE_CALL_OK) return 0; /* events stay queued; the harness may poll itself */
        is = pb_istream_from_buffer(b->resp, resp_len);
        memset(&b->scratch, 0, sizeof b->scratch);
        if (!pb_decode(&is, dextbench_v1_Response_fields, &b->scratch) ||
            b->scratch.which_result != dextbench_v1_Response_event_batch_tag)
            return 0;
        if (b->scratch.result.event_batch.events_count > 0 && write_frame(b, b->resp, resp_len) != 0) {
            *exit_code = BRIDGE_EXIT_IO;
            return 1;
        }
        if (!b->scratch.result.event_batch.more) return 0;
    }
    return 0;
}

/* Handles notes from the transport; returns 1 with *exit_code set when the bridge must stop. */
static int handle_notes(bridge_t *b, int *exit_code) {
    int32_t io_return = 0;
    unsigned notes = b->t->take_notes(b->t->ctx, &io_return);
    if (notes & BRIDGE_NOTE_TERMINATED) {
        *exit_code = terminated(b, io_return);
        return 1;
    }
    if (notes & BRIDGE_NOTE_DOORBELL) return drain_events(b, exit_code);
    return 0;
}

static int handle_request(bridge_t *b, const uint8_t *msg, size_t len, int *exit_code) {
    uint64_t id = 0;
    uint32_t body_tag = 0;
    size_t resp_len = 0;
    int32_t io_return = 0;
    int rc;
    char text[96];

    if (peek_request(msg, len, &id, &body_tag) && id == 0) {
        if (write_error(b, 0, DXB_STATUS_INVALID_ARGUMENT, "Request.id must be >= 1 (0 is reserved for the bridge)") != 0)
            goto io_error;
        return 0;
    }
    if (flush_before_call(b, body_tag == dextbench_v1_Request_extension_tag) != 0) goto io_error;
    rc = bridge_uc_call(b->t, msg, len, b->resp, sizeof b->resp, &resp_len, &io_return);
    switch (rc) {
    case BRIDGE_CALL_OK:
        if (write_frame(b, b->resp, resp_len) != 0) goto io_error;
        return 0;
    case BRIDGE_CALL_TERMINATED:
        if (write_error(b, id, DXB_STATUS_UNAVAILABLE, "service terminated during the call") != 0) goto io_error;
        *exit_code = terminated(b, io_return);
        return 1;
    case BRIDGE_CALL_FAILED:
        snprintf(text, sizeof text, "IOConnectCallStructMethod failed: 0x%08x", (unsigned)io_return);
        if (write_error(b, id, DXB_STATUS_INTERNAL, text) != 0) goto io_error;
        return 0;
    default:
        if (write_error(b, id, DXB_STATUS_INTERNAL, "the dext answered outside the channel contract") != 0) goto io_error;
        return 0;
    }
io_error:
    *exit_code = BRIDGE_EXIT_IO;
    return 1;
}

static int malformed(bridge_t *b, const char *why) {
    const char *kv[] = {"message", why, NULL};
    write_error(b, 0, DXB_STATUS_INVALID_ARGUMENT, why);
    log_event(b, "malformedFrame", kv);
    return BRIDGE_EXIT_MALFORMED;
}

/* Handles every complete frame in the input buffer; returns 1 with *exit_code to stop. */
static int consume_frames(bridge_t *b, int *exit_code) {
    size_t pos = 0;
    int stop = 0;
    while (!stop && pos < b->in_len) {
        size_t hl = 0, ml = 0;
        int rc = dxb_frame_get_header(b->in + pos, b->in_len - pos, &hl, &ml);
        if (rc == DXB_E_INCOMPLETE) break;
        if (rc != DXB_OK) {
            *exit_code = malformed(b, "malformed frame: length must be 1..16384 in a varint of at most 3 bytes");
            return 1;
        }
        if (b->in_len - pos < hl + ml) break;
        stop = handle_request(b, b->in + pos + hl, ml, exit_code);
        pos += hl + ml;
        if (!stop && ++b->out_answers >= OUT_FLUSH_ANSWERS && flush_output(b) != 0) {
            *exit_code = BRIDGE_EXIT_IO;
            return 1;
        }
        if (!stop) stop = handle_notes(b, exit_code); /* e.g. the call above crashed the dext */
    }
    memmove(b->in, b->in + pos, b->in_len - pos);
    b->in_len -= pos;
    return stop;
}

static int run_loop(bridge_t *b) {
    bridge_transport_t *t = b->t;
    int exit_code = BRIDGE_EXIT_CLOSED;
    const char *kv[] = {"registryId", t->registry_id, "userClass", t->user_class, "transport", t->name, NULL};

    if (write_status(b, t, t->name, dextbench_v1_BridgeState_BRIDGE_STATE_OPENED, 0, "opened") != 0 ||
        flush_output(b) != 0)
        return BRIDGE_EXIT_IO;
    log_json(b->err_fd, "opened", kv);

    for (;;) {
        struct pollfd fds[2];
        int timeout = t->tick ? t->tick(t->ctx) : -1, n;
        if (handle_notes(b, &exit_code)) return exit_code;
        if (flush_output(b) != 0) return BRIDGE_EXIT_IO; /* everything answered so far, before waiting */
        fds[0].fd = b->in_fd;
        fds[0].events = POLLIN;
        fds[1].fd = t->wake_fd;
        fds[1].events = POLLIN;
        n = poll(fds, t->wake_fd >= 0 ? 2 : 1, timeout);
        if (n < 0) {
            if (errno == EINTR) continue;
            return BRIDGE_EXIT_SOFTWARE;
        }
        if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t got = read(b->in_fd, b->in + b->in_len, sizeof b->in - b->in_len);
            if (got < 0) {
                if (errno == EINTR || errno == EAGAIN) continue;
                return BRIDGE_EXIT_IO;
            }
            if (got == 0) {
                const char *closed[] = {"registryId", t->registry_id, NULL};
                if (b->in_len > 0) return malformed(b, "malformed frame: input ended inside a frame");
                log_event(b, "closed", closed);
                return BRIDGE_EXIT_CLOSED;
            }
            b->in_len += (size_t)got;
            if (consume_frames(b, &exit_code)) return exit_code;
        }
    }
}

int bridge_run(bridge_transport_t *t, int in_fd, int out_fd, int err_fd) {
    bridge_t *b = &bridge_state;
    int exit_code;

    signal(SIGPIPE, SIG_IGN);
    b->t = t;
    b->in_fd = in_fd;
    b->out_fd = out_fd;
    b->err_fd = err_fd;
    b->in_len = 0;
    b->out_len = 0;
    exit_code = run_loop(b);
    (void)flush_output(b); /* the last frames (e.g. TERMINATED); a failure cannot be reported any more */
    return exit_code;
}

/* ------------------------------------------------------------------------ command line */

int bridge_parse_u64(const char *s, uint64_t *out) {
    const char *digits = s, *c;
    int base = 10;
    char *end = NULL;
    unsigned long long v;
    if (s == NULL) return -1;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        digits = s + 2;
    }
    if (*digits == '\0') return -1;
    /* Only digits of the base: strtoull alone would take spaces, a sign, a second 0x, or octal. */
    for (c = digits; *c; c++)
        if (!(base == 16 ? isxdigit((unsigned char)*c) : isdigit((unsigned char)*c))) return -1;
    errno = 0;
    v = strtoull(digits, &end, base);
    if (errno != 0 || *end != '\0') return -1;
    *out = (uint64_t)v;
    return 0;
}

#define INT_SUFFIX ":int"

int bridge_parse_match(const char *text, bridge_match_t *out) {
    const char *eq = text ? strchr(text, '=') : NULL;
    size_t key_len = eq ? (size_t)(eq - text) : 0, suffix = strlen(INT_SUFFIX);
    memset(out, 0, sizeof *out);
    if (key_len == 0 || key_len >= sizeof out->key) return -1;
    out->value = eq + 1;
    if (key_len >= suffix && memcmp(eq - suffix, INT_SUFFIX, suffix) == 0) {
        if (key_len == suffix || bridge_parse_u64(out->value, &out->number) != 0) return -1;
        out->is_number = 1;
        key_len -= suffix;
    }
    memcpy(out->key, text, key_len);
    return 0;
}

int bridge_props_hold(const bridge_args_t *args, const bridge_match_t *props, int n_props) {
    int i, j;
    for (i = 0; i < args->n_match; i++) {
        const bridge_match_t *m = &args->match[i];
        int held = 0;
        for (j = 0; j < n_props && !held; j++) {
            const bridge_match_t *p = &props[j];
            held = strcmp(p->key, m->key) == 0 && p->is_number == m->is_number &&
                   (m->is_number ? p->number == m->number : strcmp(p->value, m->value) == 0);
        }
        if (!held) return 0;
    }
    return 1;
}

/* snprintf appended at the end of out, never past cap. */
static void append(char *out, size_t cap, const char *fmt, ...) {
    size_t len = strlen(out);
    va_list ap;
    if (len + 1 >= cap) return;
    va_start(ap, fmt);
    vsnprintf(out + len, cap - len, fmt, ap);
    va_end(ap);
}

void bridge_describe_match(const bridge_args_t *args, char *out, size_t cap) {
    int i;
    if (cap == 0) return;
    out[0] = '\0';
    for (i = 0; i < args->n_match; i++)
        append(out, cap, "%s%s%s=%s", i ? " " : "", args->match[i].key, args->match[i].is_number ? INT_SUFFIX : "",
               args->match[i].value);
    if (args->has_registry_id)
        append(out, cap, "%sregistry id %llu", args->n_match ? " " : "", (unsigned long long)args->registry_id);
}

int bridge_pick_service(const bridge_args_t *args, const bridge_service_t *found, int n_found, char *message,
                        size_t cap) {
    char match[256];
    int i, count = 0, picked = -1;
    for (i = 0; i < n_found; i++) {
        if (args->has_registry_id && found[i].registry_id != args->registry_id) continue;
        count++;
        if (picked < 0) picked = i;
    }
    if (count == 1) return picked;
    bridge_describe_match(args, match, sizeof match);
    message[0] = '\0';
    if (count == 0) {
        append(message, cap, "no service matches %s", match);
        return -1;
    }
    append(message, cap, "%d services match %s; pass --registry-id with one of:", count, match);
    for (i = 0, count = 0; i < n_found; i++) {
        if (args->has_registry_id && found[i].registry_id != args->registry_id) continue;
        append(message, cap, "%s %llu", count++ ? "," : "", (unsigned long long)found[i].registry_id);
        if (found[i].has_location) append(message, cap, " (locationID 0x%08llx)", (unsigned long long)found[i].location_id);
    }
    return -1;
}

int bridge_parse_args(int argc, char **argv, bridge_args_t *args, const char *usage,
                      int (*extra)(char **argv, int argc, int i, void *ctx), void *ctx) {
    int i;
    memset(args, 0, sizeof *args);
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int used;
        if (strcmp(a, "--help") == 0) { /* the "is it installed and does it run" probe: usage on stdout, exit 0 */
            printf("usage: %s\n", usage);
            exit(fflush(stdout) == 0 ? 0 : BRIDGE_EXIT_IO);
        } else if (strcmp(a, "--match") == 0 && v && args->n_match < BRIDGE_MAX_MATCH &&
            bridge_parse_match(v, &args->match[args->n_match]) == 0) {
            args->n_match++;
            i++;
        } else if (strcmp(a, "--registry-id") == 0 && bridge_parse_u64(v, &args->registry_id) == 0) {
            args->has_registry_id = 1;
            i++;
        } else if (strcmp(a, "--type") == 0 && v) {
            uint64_t t;
            if (bridge_parse_u64(v, &t) != 0 || t > 0xffffffffu) goto bad;
            args->connect_type = (uint32_t)t;
            i++;
        } else if (extra && (used = extra(argv, argc, i, ctx)) > 0) {
            i += used - 1;
        } else {
            goto bad;
        }
    }
    if (args->n_match == 0 && !args->has_registry_id) goto bad;
    return 0;
bad:
    fprintf(stderr, "usage: %s\n", usage);
    return BRIDGE_EXIT_USAGE;
}
