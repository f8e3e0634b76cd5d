/* dextbench-bridge-inproc: the bridge with an in-process stand-in for the kernel and the dext.
 * call_struct applies the IOConnectCallStructMethod rules the real path meets (inline <= 4096,
 * descriptor above, output descriptor only for caps > 4096, the reported size of an OOL output is
 * the whole buffer) and hands the bytes to libdextbench's dxb_channel over the loopback model.
 * SIGUSR1 simulates the service terminating (an unplug). */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bridge.h"
#include "sim_user_client.h"

typedef struct inproc {
    dxb_loopback_t model;
    dxb_channel_t channel;
    sim_io_pace_t pace;
    unsigned notes;
    int dead;
} inproc_t;

static inproc_t inproc;
static volatile sig_atomic_t unplugged;

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
    rc = sim_user_client_call(&p->channel, selector, in, in_len, out, out_len, io_return);
    if (p->model.crashed) { /* the dext died handling this call: no answer, connection gone */
        p->dead = 1;
        *io_return = IORETURN_ABORTED;
        return BRIDGE_CALL_TERMINATED;
    }
    return rc;
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

static int tick(void *ctx) {
    inproc_t *p = ctx;
    return sim_io_tick(&p->model, &p->pace);
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
    uint64_t now = sim_monotonic_ns(NULL);
    int rc;
    struct sigaction sa;

    rc = bridge_parse_args(argc, argv, &args, usage, extra_option, &opts);
    if (rc != 0) return rc;
    sim_transport_init(&t, &inproc, &args);
    /* A new process is a new "dext instance": both values change on every launch. */
    sim_loopback_config(&config, t.user_class, opts.driver_version,
                        opts.has_instance_id ? opts.instance_id : (now ^ ((uint64_t)getpid() << 32)) | 1u,
                        opts.has_start_time ? opts.start_time_ns : now);
    dxb_loopback_init(&inproc.model, &config);
    dxb_channel_init(&inproc.channel, &inproc.model.server);
    inproc.pace.rate_bytes_per_sec = opts.rate;
    inproc.pace.last_tick_ns = now;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigusr1;
    sigaction(SIGUSR1, &sa, NULL); /* no SA_RESTART: poll() wakes with EINTR */

    t.call_struct = call_struct;
    t.take_notes = take_notes;
    t.tick = tick;
    /* SUBSCRIBE: the doorbell rings at once for the Started event. */
    dxb_events_subscribe(&inproc.model.events, on_doorbell, &inproc);
    return bridge_run(&t, STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO);
}
