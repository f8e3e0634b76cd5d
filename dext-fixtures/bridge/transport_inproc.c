/* dextbench-bridge-inproc: the bridge with an in-process stand-in for the kernel and the dext.
 * call_struct applies the IOConnectCallStructMethod rules the real path meets (inline <= 4096,
 * descriptor above, output descriptor only for caps > 4096, the reported size of an OOL output is
 * the whole buffer) and hands the bytes to libdextbench's dxb_channel over the loopback model.
 * SIGUSR1 simulates the service terminating (an unplug). */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bridge.h"

/* IOReturn values (xnu iokit/IOKit/IOReturn.h) the stand-in reports. */
#define IORETURN_BAD_ARGUMENT ((int32_t)0xe00002c2)
#define IORETURN_NOT_READY ((int32_t)0xe00002d8)
#define IORETURN_ABORTED ((int32_t)0xe00002eb)
#define IORETURN_IPC_ERROR ((int32_t)0xe00002bf)

typedef struct inproc {
    dxb_loopback_t model;
    dxb_channel_t channel;
    uint64_t rate_bytes_per_sec;
    uint64_t last_tick_ns;
    unsigned notes;
    int dead;
} inproc_t;

static inproc_t inproc;
static volatile sig_atomic_t unplugged;

static uint64_t monotonic_ns(void *ctx) {
    struct timespec ts;
    (void)ctx;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void on_doorbell(void *ctx, const uint64_t *args, uint32_t n_args) {
    inproc_t *p = ctx;
    (void)args;
    (void)n_args;
    p->notes |= BRIDGE_NOTE_DOORBELL;
}

static int call_struct(void *ctx, uint32_t selector, const uint8_t *in, size_t in_len, uint8_t *out, size_t *out_len,
                       int32_t *io_return) {
    inproc_t *p = ctx;
    int rc;
    if (p->dead) {
        *io_return = IORETURN_ABORTED;
        return BRIDGE_CALL_TERMINATED;
    }
    if (selector == DXB_SELECTOR_CALL) {
        size_t got = 0;
        if (*out_len > DXB_MAX_INLINE_BYTES) { /* CALL output is inline by contract */
            *io_return = IORETURN_BAD_ARGUMENT;
            return BRIDGE_CALL_FAILED;
        }
        rc = dxb_channel_call(&p->channel, in, in_len, in_len > DXB_MAX_INLINE_BYTES, out, *out_len, &got);
        if (p->model.crashed) { /* the dext died handling this call: no answer, connection gone */
            p->dead = 1;
            *io_return = IORETURN_ABORTED;
            return BRIDGE_CALL_TERMINATED;
        }
        if (rc != DXB_OK) {
            *io_return = IORETURN_BAD_ARGUMENT;
            return BRIDGE_CALL_FAILED;
        }
        *out_len = got;
        return BRIDGE_CALL_OK;
    }
    if (selector == DXB_SELECTOR_FETCH) {
        if (in_len != 0 || *out_len <= DXB_MAX_INLINE_BYTES) { /* an OOL output <= 4096 is an IPC error */
            *io_return = IORETURN_IPC_ERROR;
            return BRIDGE_CALL_FAILED;
        }
        rc = dxb_channel_fetch(&p->channel, out, *out_len);
        if (rc != DXB_OK) {
            *io_return = rc == DXB_E_STATE ? IORETURN_NOT_READY : IORETURN_BAD_ARGUMENT;
            return BRIDGE_CALL_FAILED;
        }
        return BRIDGE_CALL_OK; /* *out_len stays the buffer size, as DriverKit reports it */
    }
    *io_return = IORETURN_BAD_ARGUMENT;
    return BRIDGE_CALL_FAILED;
}

static unsigned take_notes(void *ctx, int32_t *io_return) {
    inproc_t *p = ctx;
    unsigned notes = p->notes;
    p->notes = 0;
    if (unplugged && !p->dead) {
        p->dead = 1;
        dxb_loopback_stop(&p->model);
        notes |= BRIDGE_NOTE_TERMINATED;
        *io_return = 0;
    }
    return notes;
}

/* Moves io traffic at the configured rate while an io runs. */
static int tick(void *ctx) {
    inproc_t *p = ctx;
    uint64_t now = monotonic_ns(NULL), budget;
    if (!dxb_loopback_busy(&p->model)) {
        p->last_tick_ns = now;
        return -1;
    }
    budget = (now - p->last_tick_ns) * p->rate_bytes_per_sec / 1000000000ull;
    if (budget > 0) {
        if (budget > 4u * 1024u * 1024u) budget = 4u * 1024u * 1024u;
        dxb_loopback_advance(&p->model, budget);
        p->last_tick_ns = now;
    }
    return 2;
}

static void on_sigusr1(int sig) {
    (void)sig;
    unplugged = 1;
}

typedef struct extra_opts {
    uint64_t rate, instance_id, start_time_ns;
    int has_instance_id, has_start_time;
    const char *driver_version;
} extra_opts_t;

static int extra_option(char **argv, int argc, int i, void *ctx) {
    extra_opts_t *o = ctx;
    if (i + 1 >= argc) return 0;
    if (strcmp(argv[i], "--rate") == 0) return bridge_parse_u64(argv[i + 1], &o->rate) == 0 && o->rate > 0 ? 2 : -1;
    if (strcmp(argv[i], "--instance-id") == 0) {
        o->has_instance_id = 1;
        return bridge_parse_u64(argv[i + 1], &o->instance_id) == 0 ? 2 : -1;
    }
    /* A simulated Mac passes its dext process's identity: start time and bundle version. */
    if (strcmp(argv[i], "--start-time-ns") == 0) {
        o->has_start_time = 1;
        return bridge_parse_u64(argv[i + 1], &o->start_time_ns) == 0 ? 2 : -1;
    }
    if (strcmp(argv[i], "--driver-version") == 0) {
        o->driver_version = argv[i + 1];
        return argv[i + 1][0] != '\0' && strlen(argv[i + 1]) < 32 ? 2 : -1;
    }
    return 0;
}

int main(int argc, char **argv) {
    static const char usage[] =
        "dextbench-bridge-inproc --match KEY=VALUE... [--registry-id N] [--type N] [--rate BYTES_PER_SEC] [--instance-id N] "
        "[--start-time-ns N] [--driver-version S]";
    bridge_args_t args;
    extra_opts_t opts = {64u * 1024u * 1024u, 0, 0, 0, 0, "1.0.0"};
    dxb_loopback_config_t config;
    bridge_transport_t t;
    uint64_t now = monotonic_ns(NULL);
    const char *user_class = "EchoDriver";
    int i, rc;
    struct sigaction sa;

    rc = bridge_parse_args(argc, argv, &args, usage, extra_option, &opts);
    if (rc != 0) return rc;
    for (i = 0; i < args.n_match; i++)
        if (strcmp(args.match[i].key, "IOUserClass") == 0) user_class = args.match[i].value;

    memset(&config, 0, sizeof config);
    config.driver_name = user_class;
    config.driver_version = opts.driver_version;
    /* A new process is a new "dext instance": both values change on every launch. */
    config.instance_id = opts.has_instance_id ? opts.instance_id : (now ^ ((uint64_t)getpid() << 32)) | 1u;
    config.process_start_time_ns = opts.has_start_time ? opts.start_time_ns : now;
    config.endpoints[0] = 0x01;
    config.endpoints[1] = 0x81;
    config.now = monotonic_ns;
    dxb_loopback_init(&inproc.model, &config);
    dxb_channel_init(&inproc.channel, &inproc.model.server);
    inproc.rate_bytes_per_sec = opts.rate;
    inproc.last_tick_ns = now;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigusr1;
    sigaction(SIGUSR1, &sa, NULL); /* no SA_RESTART: poll() wakes with EINTR */

    memset(&t, 0, sizeof t);
    t.ctx = &inproc;
    t.name = "inproc";
    snprintf(t.registry_id, sizeof t.registry_id, "%llu",
             (unsigned long long)(args.has_registry_id ? args.registry_id : 4294969000ull));
    snprintf(t.user_class, sizeof t.user_class, "%s", user_class);
    t.call_struct = call_struct;
    t.wake_fd = -1;
    t.take_notes = take_notes;
    t.tick = tick;
    /* SUBSCRIBE: the doorbell rings at once for the Started event. */
    dxb_events_subscribe(&inproc.model.events, on_doorbell, &inproc);
    return bridge_run(&t, STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO);
}
