/* dextbench-bridge-inproc: the bridge with an in-process stand-in for the kernel and the dext.
 * call_struct applies the IOConnectCallStructMethod rules the real path meets (inline <= 4096,
 * descriptor above, output descriptor only for caps > 4096, the reported size of an OOL output is
 * the whole buffer) and hands the bytes to libdextbench's dxb_channel over the loopback model.
 * SIGUSR1 simulates the service terminating (an unplug). `--service` entries stand in for the
 * IORegistry, so the service choice transport_iokit.c makes (bridge_pick_service) runs here too. */
#include <errno.h>
#include <fcntl.h>
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
/* The self-pipe: the handler writes a byte, so a SIGUSR1 that lands between the loop's checks and
 * its poll() still wakes the poll (an EINTR alone would be lost then, and the bridge would sleep). */
static int unplug_pipe[2] = {-1, -1};

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
    char drain[16];
    p->notes = 0;
    if (unplug_pipe[0] >= 0) while (read(unplug_pipe[0], drain, sizeof drain) > 0) {}
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
    int saved = errno;
    (void)sig;
    unplugged = 1;
    if (unplug_pipe[1] >= 0) (void)!write(unplug_pipe[1], "u", 1);
    errno = saved;
}

#define MAX_SERVICES 4
#define MAX_SERVICE_PROPS 8

/* --service ID,KEY=VALUE,KEY:int=N,...: one service in the stand-in registry, its properties as the
 * kernel would compare them (a locationID:int=… entry stands for its USB device's locationID). */
typedef struct standin_service {
    uint64_t registry_id;
    bridge_match_t props[MAX_SERVICE_PROPS];
    int n_props;
} standin_service_t;

typedef struct extra_opts {
    uint64_t rate, instance_id, start_time_ns;
    int has_instance_id, has_start_time;
    const char *driver_version;
    standin_service_t services[MAX_SERVICES];
    int n_services;
} extra_opts_t;

/* Splits the argument in place at its commas. Returns 0 when every part is well formed. */
static int parse_service(char *text, standin_service_t *svc) {
    char *part = text, *comma;
    memset(svc, 0, sizeof *svc);
    comma = strchr(part, ',');
    if (comma) *comma = '\0';
    if (bridge_parse_u64(part, &svc->registry_id) != 0) return -1;
    while (comma) {
        part = comma + 1;
        comma = strchr(part, ',');
        if (comma) *comma = '\0';
        if (svc->n_props >= MAX_SERVICE_PROPS || bridge_parse_match(part, &svc->props[svc->n_props]) != 0) return -1;
        svc->n_props++;
    }
    return 0;
}

static const bridge_match_t *service_prop(const standin_service_t *svc, const char *key, int is_number) {
    int i;
    for (i = 0; i < svc->n_props; i++)
        if (strcmp(svc->props[i].key, key) == 0 && svc->props[i].is_number == is_number) return &svc->props[i];
    return NULL;
}

/* The service the match picks among --service entries, as find_service does among the kernel's;
 * -1 after reporting OPEN_FAILED. */
static int pick_standin(const bridge_args_t *args, const extra_opts_t *o) {
    bridge_service_t found[MAX_SERVICES];
    int index[MAX_SERVICES], n = 0, i, pick;
    char message[512];
    for (i = 0; i < o->n_services; i++) {
        const standin_service_t *svc = &o->services[i];
        const bridge_match_t *loc = service_prop(svc, "locationID", 1);
        if (!bridge_props_hold(args, svc->props, svc->n_props)) continue;
        found[n].registry_id = svc->registry_id;
        found[n].has_location = loc != NULL;
        found[n].location_id = loc ? loc->number : 0;
        index[n++] = i;
    }
    pick = bridge_pick_service(args, found, n, message, sizeof message);
    if (pick < 0) {
        bridge_report_open_failed(STDOUT_FILENO, STDERR_FILENO, "inproc", 0, message, BRIDGE_EXIT_UNAVAILABLE);
        return -1;
    }
    return index[pick];
}

static int extra_option(char **argv, int argc, int i, void *ctx) {
    extra_opts_t *o = ctx;
    if (i + 1 >= argc) return 0;
    if (strcmp(argv[i], "--service") == 0) {
        if (o->n_services >= MAX_SERVICES) return -1;
        return parse_service(argv[i + 1], &o->services[o->n_services++]) == 0 ? 2 : -1;
    }
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
        "[--start-time-ns N] [--driver-version S] [--service ID,KEY=VALUE,...]";
    static extra_opts_t opts;
    bridge_args_t args;
    dxb_loopback_config_t config;
    bridge_transport_t t;
    uint64_t now = sim_monotonic_ns(NULL);
    int rc, picked = -1;
    struct sigaction sa;

    opts.rate = 64u * 1024u * 1024u;
    opts.driver_version = "1.0.0";
    rc = bridge_parse_args(argc, argv, &args, usage, extra_option, &opts);
    if (rc != 0) return rc;
    if (opts.n_services > 0 && (picked = pick_standin(&args, &opts)) < 0) return BRIDGE_EXIT_UNAVAILABLE;
    sim_transport_init(&t, &inproc, &args);
    if (picked >= 0) { /* the identity of the service picked, as IORegistryEntryGetRegistryEntryID and IOUserClass say */
        const bridge_match_t *user_class = service_prop(&opts.services[picked], "IOUserClass", 0);
        snprintf(t.registry_id, sizeof t.registry_id, "%llu", (unsigned long long)opts.services[picked].registry_id);
        if (user_class) snprintf(t.user_class, sizeof t.user_class, "%s", user_class->value);
    }
    /* A new process is a new "dext instance": both values change on every launch. */
    sim_loopback_config(&config, t.user_class, opts.driver_version,
                        opts.has_instance_id ? opts.instance_id : (now ^ ((uint64_t)getpid() << 32)) | 1u,
                        opts.has_start_time ? opts.start_time_ns : now);
    dxb_loopback_init(&inproc.model, &config);
    dxb_channel_init(&inproc.channel, &inproc.model.server);
    inproc.pace.rate_bytes_per_sec = opts.rate;
    inproc.pace.last_tick_ns = now;

    if (pipe(unplug_pipe) == 0) {
        fcntl(unplug_pipe[0], F_SETFL, O_NONBLOCK);
        fcntl(unplug_pipe[1], F_SETFL, O_NONBLOCK);
        t.wake_fd = unplug_pipe[0];
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigusr1;
    sigaction(SIGUSR1, &sa, NULL);

    t.call_struct = call_struct;
    t.take_notes = take_notes;
    t.tick = tick;
    /* SUBSCRIBE: the doorbell rings at once for the Started event. */
    dxb_events_subscribe(&inproc.model.events, on_doorbell, &inproc);
    return bridge_run(&t, STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO);
}
