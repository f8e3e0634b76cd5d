/* dextbench-bridge-simdext: the bridge over the "kernel hop" to a dextbench-sim-dext process
 * (sim_user_client.h), which is how a simulated Mac's dextbench-bridge reaches a dext process that
 * outlives any one connection. call_struct is one CALL and its REPLY; a DOORBELL that arrives
 * meanwhile, or while the bridge waits (the socket is its wake fd), becomes a note; the socket
 * closing is the service terminating. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "bridge.h"
#include "sim_user_client.h"

typedef struct simdext {
    int fd;
    uint8_t in[SIM_REPLY_HEADER + SIM_MAX_CALL_OUT];
    size_t in_len;
    unsigned notes;
    int dead;
} simdext_t;

static simdext_t simdext;

/* Reads what the dext sent (waiting for it if `wait`); returns -1 once the socket is gone. */
static int receive(simdext_t *s, int wait) {
    for (;;) {
        ssize_t n = recv(s->fd, s->in + s->in_len, sizeof s->in - s->in_len, wait ? 0 : MSG_DONTWAIT);
        if (n > 0) {
            s->in_len += (size_t)n;
            return 0;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && !wait && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
        s->dead = 1;
        return -1;
    }
}

/* Turns leading DOORBELLs into a note; returns 1 when a whole REPLY is next, -1 on garbage. */
static int next_reply(simdext_t *s) {
    size_t pos = 0;
    while (pos < s->in_len && s->in[pos] == SIM_MSG_DOORBELL) {
        s->notes |= BRIDGE_NOTE_DOORBELL;
        pos++;
    }
    memmove(s->in, s->in + pos, s->in_len - pos);
    s->in_len -= pos;
    if (s->in_len == 0) return 0;
    if (s->in[0] != SIM_MSG_REPLY) return -1;
    return s->in_len >= SIM_REPLY_HEADER && s->in_len - SIM_REPLY_HEADER >= sim_get_u32(s->in + 5) ? 1 : 0;
}

static int call_struct(void *ctx, uint32_t selector, const uint8_t *in, size_t in_len, uint8_t *out, size_t *out_len,
                       int32_t *io_return) {
    simdext_t *s = ctx;
    uint8_t header[SIM_CALL_HEADER];
    uint32_t got;
    int ready;
    if (s->dead) {
        *io_return = IORETURN_ABORTED;
        return BRIDGE_CALL_TERMINATED;
    }
    header[0] = SIM_MSG_CALL;
    sim_put_u32(header + 1, selector);
    sim_put_u32(header + 5, (uint32_t)in_len);
    sim_put_u32(header + 9, (uint32_t)*out_len);
    if (bridge_write_all(s->fd, header, sizeof header) != 0 || (in_len > 0 && bridge_write_all(s->fd, in, in_len) != 0)) s->dead = 1;
    while (!s->dead && (ready = next_reply(s)) == 0) (void)receive(s, 1);
    if (s->dead) { /* the dext went away (crash, unplug) before answering */
        *io_return = IORETURN_ABORTED;
        return BRIDGE_CALL_TERMINATED;
    }
    if (ready < 0) return BRIDGE_CALL_PROTOCOL;
    *io_return = (int32_t)sim_get_u32(s->in + 1);
    got = sim_get_u32(s->in + 5);
    if (got > *out_len) return BRIDGE_CALL_PROTOCOL;
    memcpy(out, s->in + SIM_REPLY_HEADER, got);
    memmove(s->in, s->in + SIM_REPLY_HEADER + got, s->in_len - SIM_REPLY_HEADER - got);
    s->in_len -= SIM_REPLY_HEADER + got;
    if (*io_return != 0) return BRIDGE_CALL_FAILED;
    *out_len = got;
    return BRIDGE_CALL_OK;
}

static unsigned take_notes(void *ctx, int32_t *io_return) {
    simdext_t *s = ctx;
    unsigned notes;
    if (!s->dead) (void)receive(s, 0);
    (void)next_reply(s); /* between calls only doorbells can come */
    notes = s->notes;
    s->notes = 0;
    if (s->dead) {
        notes |= BRIDGE_NOTE_TERMINATED;
        *io_return = 0;
    }
    return notes;
}

typedef struct extra_opts {
    const char *socket_path;
} extra_opts_t;

static int extra_option(char **argv, int argc, int i, void *ctx) {
    extra_opts_t *o = ctx;
    if (i + 1 >= argc || strcmp(argv[i], "--socket") != 0) return 0;
    o->socket_path = argv[i + 1];
    return 2;
}

int main(int argc, char **argv) {
    static const char usage[] =
        "dextbench-bridge-simdext --socket PATH --match KEY=VALUE... [--registry-id N] [--type N]";
    static const uint8_t subscribe = SIM_MSG_SUBSCRIBE;
    bridge_args_t args;
    extra_opts_t opts = {NULL};
    bridge_transport_t t;
    struct sockaddr_un addr;
    char message[160];
    int rc;

    rc = bridge_parse_args(argc, argv, &args, usage, extra_option, &opts);
    if (rc != 0) return rc;
    if (opts.socket_path == NULL || strlen(opts.socket_path) >= sizeof addr.sun_path) {
        fprintf(stderr, "usage: %s\n", usage);
        return BRIDGE_EXIT_USAGE;
    }
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    memcpy(addr.sun_path, opts.socket_path, strlen(opts.socket_path) + 1);
    simdext.fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (simdext.fd < 0 || connect(simdext.fd, (struct sockaddr *)&addr, sizeof addr) != 0 ||
        bridge_write_all(simdext.fd, &subscribe, 1) != 0) {
        snprintf(message, sizeof message, "IOServiceOpen failed: the dext process is not serving (%s)", strerror(errno));
        return bridge_report_open_failed(STDOUT_FILENO, STDERR_FILENO, "inproc", IORETURN_NOT_READY, message,
                                         BRIDGE_EXIT_UNAVAILABLE);
    }

    sim_transport_init(&t, &simdext, &args);
    t.call_struct = call_struct;
    t.wake_fd = simdext.fd;
    t.take_notes = take_notes;
    return bridge_run(&t, STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO);
}
