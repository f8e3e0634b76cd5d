/* dextbench-sim-dext: one simulated dext process of a simulated Mac. It hosts libdextbench's
 * loopback model, moves its io at --rate whether or not anyone is connected, and serves any
 * number of user-client connections (dextbench-bridge-simdext) on a unix socket, each with its
 * own spill slot, all on the one model: stats, io and the event queue belong to the dext, as on a
 * Mac. The last connection to SUBSCRIBE owns the doorbell (one subscriber, as in the echo dext).
 *   "ready" on stdout once listening; stdin closing (the daemon gone) ends the process.
 *   SIGTERM: the dext stops (Stopping event, running io aborted); every connection closes; exit 0.
 *   InjectFault CRASH: exit 3 at once, with no answer to the call, as a crash would. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "bridge.h"
#include "sim_user_client.h"

#define MAX_CONNECTIONS 16
#define EXIT_CRASHED 3
#define EXIT_USAGE 64
#define EXIT_SOFTWARE 70

typedef struct connection {
    int fd; /* -1: free */
    dxb_channel_t channel;
    uint8_t in[SIM_CALL_HEADER + SIM_MAX_CALL_IN];
    size_t in_len;
} connection_t;

static dxb_loopback_t model;
static sim_io_pace_t pace;
static connection_t connections[MAX_CONNECTIONS];
static connection_t *subscriber;
static uint8_t reply[SIM_REPLY_HEADER + SIM_MAX_CALL_OUT];
static volatile sig_atomic_t stop_requested;
/* The self-pipe: a SIGTERM landing between the loop's check and its poll() still wakes the poll. */
static int stop_pipe[2] = {-1, -1};

static void on_sigterm(int sig) {
    int saved = errno;
    (void)sig;
    stop_requested = 1;
    if (stop_pipe[1] >= 0) (void)!write(stop_pipe[1], "s", 1);
    errno = saved;
}

static void drop(connection_t *c) {
    if (c->fd < 0) return;
    if (subscriber == c) {
        dxb_events_unsubscribe(&model.events);
        subscriber = NULL;
    }
    close(c->fd);
    c->fd = -1;
    c->in_len = 0;
}

static void on_doorbell(void *ctx, const uint64_t *args, uint32_t n_args) {
    connection_t *c = ctx;
    static const uint8_t ring = SIM_MSG_DOORBELL;
    (void)args;
    (void)n_args;
    if (c->fd >= 0 && bridge_write_all(c->fd, &ring, 1) != 0) drop(c);
}

/* Handles the complete messages in c->in; returns -1 when the connection must go (or went: a
 * doorbell it could not take drops it mid-way). */
static int serve(connection_t *c) {
    size_t pos = 0;
    while (c->fd >= 0 && pos < c->in_len) {
        const uint8_t *m = c->in + pos;
        if (m[0] == SIM_MSG_SUBSCRIBE) {
            subscriber = c;
            dxb_events_subscribe(&model.events, on_doorbell, c); /* rings at once if events wait */
            pos += 1;
            continue;
        }
        if (m[0] != SIM_MSG_CALL) return -1;
        if (c->in_len - pos < SIM_CALL_HEADER) break;
        {
            uint32_t selector = sim_get_u32(m + 1), in_len = sim_get_u32(m + 5), out_cap = sim_get_u32(m + 9);
            size_t out_len = out_cap;
            int32_t io_return = 0;
            int rc;
            if (in_len > SIM_MAX_CALL_IN) return -1;
            if (c->in_len - pos < SIM_CALL_HEADER + in_len) break;
            if (out_cap > SIM_MAX_CALL_OUT) {
                rc = BRIDGE_CALL_FAILED;
                io_return = IORETURN_IPC_ERROR;
                out_len = 0;
            } else {
                rc = sim_user_client_call(&c->channel, selector, m + SIM_CALL_HEADER, in_len, reply + SIM_REPLY_HEADER,
                                          &out_len, &io_return);
            }
            if (model.crashed) _exit(EXIT_CRASHED); /* the dext died in the call */
            if (c->fd < 0) return -1;
            if (rc != BRIDGE_CALL_OK) out_len = 0;
            else io_return = 0;
            reply[0] = SIM_MSG_REPLY;
            sim_put_u32(reply + 1, (uint32_t)io_return);
            sim_put_u32(reply + 5, (uint32_t)out_len);
            if (bridge_write_all(c->fd, reply, SIM_REPLY_HEADER + out_len) != 0) return -1;
            pos += SIM_CALL_HEADER + in_len;
        }
    }
    if (c->fd < 0) return -1;
    memmove(c->in, c->in + pos, c->in_len - pos);
    c->in_len -= pos;
    return 0;
}

static int listen_on(const char *path) {
    struct sockaddr_un addr;
    int fd;
    if (strlen(path) >= sizeof addr.sun_path) return -1;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    memcpy(addr.sun_path, path, strlen(path) + 1);
    unlink(path);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(fd, MAX_CONNECTIONS) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void accept_one(int listen_fd) {
    int fd = accept(listen_fd, NULL, NULL), i;
    if (fd < 0) return;
    for (i = 0; i < MAX_CONNECTIONS; i++) {
        if (connections[i].fd < 0) {
            connections[i].fd = fd;
            connections[i].in_len = 0;
            dxb_channel_init(&connections[i].channel, &model.server);
            return;
        }
    }
    close(fd); /* the bridge sees the service gone: as good an answer as IOServiceOpen failing */
}

typedef struct options {
    const char *socket_path, *driver_name, *driver_version;
    uint64_t rate, instance_id, start_time_ns;
} options_t;

static int parse(int argc, char **argv, options_t *o) {
    int i;
    for (i = 1; i + 1 < argc; i += 2) {
        const char *a = argv[i], *v = argv[i + 1];
        if (strcmp(a, "--socket") == 0) o->socket_path = v;
        else if (strcmp(a, "--driver-name") == 0 && v[0] != '\0' && strlen(v) < 64) o->driver_name = v;
        else if (strcmp(a, "--driver-version") == 0 && v[0] != '\0' && strlen(v) < 32) o->driver_version = v;
        else if (strcmp(a, "--rate") == 0 && bridge_parse_u64(v, &o->rate) == 0 && o->rate > 0) continue;
        else if (strcmp(a, "--instance-id") == 0 && bridge_parse_u64(v, &o->instance_id) == 0) continue;
        else if (strcmp(a, "--start-time-ns") == 0 && bridge_parse_u64(v, &o->start_time_ns) == 0) continue;
        else return -1;
    }
    return i == argc && o->socket_path != NULL && o->instance_id != 0 ? 0 : -1;
}

int main(int argc, char **argv) {
    options_t opts = {NULL, "EchoDriver", "1.0.0", 64u * 1024u * 1024u, 0, 0};
    dxb_loopback_config_t config;
    struct sigaction sa;
    int listen_fd, i;

    if (parse(argc, argv, &opts) != 0) {
        fprintf(stderr, "usage: dextbench-sim-dext --socket PATH --instance-id N [--start-time-ns N] "
                        "[--driver-name S] [--driver-version S] [--rate BYTES_PER_SEC]\n");
        return EXIT_USAGE;
    }
    signal(SIGPIPE, SIG_IGN);
    memset(&sa, 0, sizeof sa);
    if (pipe(stop_pipe) == 0) fcntl(stop_pipe[1], F_SETFL, O_NONBLOCK);
    sa.sa_handler = on_sigterm;
    sigaction(SIGTERM, &sa, NULL);

    sim_loopback_config(&config, opts.driver_name, opts.driver_version, opts.instance_id, opts.start_time_ns);
    dxb_loopback_init(&model, &config); /* queues Started for the first subscriber */
    pace.rate_bytes_per_sec = opts.rate;
    pace.last_tick_ns = sim_monotonic_ns(NULL);
    for (i = 0; i < MAX_CONNECTIONS; i++) connections[i].fd = -1;

    listen_fd = listen_on(opts.socket_path);
    if (listen_fd < 0) {
        fprintf(stderr, "dextbench-sim-dext: cannot listen on %s: %s\n", opts.socket_path, strerror(errno));
        return EXIT_SOFTWARE;
    }
    printf("ready\n");
    fflush(stdout);

    while (!stop_requested) {
        struct pollfd fds[3 + MAX_CONNECTIONS];
        int n = 0, timeout = sim_io_tick(&model, &pace);
        fds[n].fd = STDIN_FILENO;
        fds[n++].events = POLLIN;
        fds[n].fd = listen_fd;
        fds[n++].events = POLLIN;
        for (i = 0; i < MAX_CONNECTIONS; i++) {
            fds[n].fd = connections[i].fd; /* poll ignores negative fds */
            fds[n++].events = POLLIN;
        }
        fds[n].fd = stop_pipe[0]; /* last, so the connections keep their indexes */
        fds[n++].events = POLLIN;
        if (poll(fds, (nfds_t)n, timeout) < 0) {
            if (errno == EINTR) continue;
            return EXIT_SOFTWARE;
        }
        if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            char drain[64];
            if (read(STDIN_FILENO, drain, sizeof drain) <= 0) break; /* the daemon is gone */
        }
        if (fds[1].revents & POLLIN) accept_one(listen_fd);
        for (i = 0; i < MAX_CONNECTIONS; i++) {
            connection_t *c = &connections[i];
            ssize_t got;
            if (c->fd < 0 || !(fds[2 + i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            got = read(c->fd, c->in + c->in_len, sizeof c->in - c->in_len);
            if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
            if (got <= 0 || (c->in_len += (size_t)got, serve(c) != 0)) drop(c);
        }
    }
    dxb_loopback_stop(&model);
    for (i = 0; i < MAX_CONNECTIONS; i++) drop(&connections[i]);
    close(listen_fd);
    unlink(opts.socket_path);
    return 0;
}
