/* dextbench-sim-relay: a macOS tool on the simulated Mac, as a small compiled program (a Node
 * shim costs a Node start, ~110 ms, per command). The daemon installs one copy per tool in its
 * bin/ folder; the copy's file name is the tool, and bin/.sim-socket holds the daemon's socket
 * path. It speaks the shim protocol described in harness/sim/shim.js (the Node fallback), byte
 * for byte: argv as bytes, stdin and stdout binary-clean, the tool's exit code as its own.
 *   SIGTERM / SIGINT: exit 143 / 130; the socket closes with the process, so the daemon aborts
 *   the tool. A closed stdout (log stream | head): exit 141, likewise.
 *   The daemon unreachable: one line on stderr, exit 69. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#ifdef __APPLE__
#include <mach-o/dyld.h>
#endif

enum { REC_STDOUT = 1, REC_STDERR = 2, REC_EXIT = 3, REC_REQUEST = 4, REC_STDIN = 5, REC_STDIN_END = 6 };
#define HEADER 5
#define STDIN_CHUNK 65536
#define EXIT_UNAVAILABLE 69
#define EXIT_SOFTWARE 70
#define EXIT_PIPE 141

static char tool[PATH_MAX];
static char socket_path[sizeof(((struct sockaddr_un *)0)->sun_path)];

static void on_signal(int sig) {
    _exit(sig == SIGINT ? 130 : 143);
}

static void say(const char *text) {
    size_t len = strlen(text);
    while (len > 0) {
        ssize_t n = write(2, text, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        text += n;
        len -= (size_t)n;
    }
}

static void die(int code, const char *a, const char *b, const char *c) {
    say(tool[0] ? tool : "dextbench-sim-relay");
    say(": ");
    say(a);
    if (b) say(b);
    if (c) say(c);
    say("\n");
    exit(code);
}

/* 0, or the errno of the failed write. */
static int write_all(int fd, const uint8_t *p, size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static void put_u32le(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_u32le(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The tool is this file's name; the socket path is in .sim-socket beside it. */
static void locate(void) {
    char self[PATH_MAX];
#if defined(__linux__)
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n < 0) die(EXIT_SOFTWARE, "cannot find its own path: ", strerror(errno), NULL);
    self[n] = 0;
#elif defined(__APPLE__)
    uint32_t size = sizeof self;
    if (_NSGetExecutablePath(self, &size) != 0) die(EXIT_SOFTWARE, "cannot find its own path", NULL, NULL);
#else
#error "dextbench-sim-relay finds its own path on Linux and macOS only (the Node shim serves elsewhere)"
#endif
    char *slash = strrchr(self, '/');
    if (!slash) die(EXIT_SOFTWARE, "cannot find its own folder in ", self, NULL);
    snprintf(tool, sizeof tool, "%s", slash + 1);
    snprintf(slash + 1, sizeof self - (size_t)(slash + 1 - self), ".sim-socket");
    FILE *f = fopen(self, "rb");
    if (!f) die(EXIT_UNAVAILABLE, "the simulated Mac is not reachable: cannot read ", self, NULL);
    size_t len = fread(socket_path, 1, sizeof socket_path - 1, f);
    fclose(f);
    socket_path[len] = 0;
}

/* The same words as the Node shim's e.code, so both say one line alike. */
static const char *errno_name(int e) {
    switch (e) {
    case ENOENT: return "ENOENT";
    case ECONNREFUSED: return "ECONNREFUSED";
    case EACCES: return "EACCES";
    case ENOTSOCK: return "ENOTSOCK";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    default: return strerror(e);
    }
}

static int connect_daemon(void) {
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) die(EXIT_UNAVAILABLE, "cannot create a socket: ", strerror(errno), NULL);
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    memcpy(addr.sun_path, socket_path, strlen(socket_path));
    int r;
    do r = connect(fd, (struct sockaddr *)&addr, sizeof addr); while (r < 0 && errno == EINTR);
    if (r < 0) {
        char where[sizeof socket_path + 8];
        snprintf(where, sizeof where, "%s: ", socket_path);
        die(EXIT_UNAVAILABLE, "the simulated Mac is not reachable at ", where, errno_name(errno));
    }
    return fd;
}

/* REQUEST: the tool, the cwd and each argument, each ending in a NUL (no argument holds one). */
static void send_request(int fd, int argc, char **argv) {
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd)) cwd[0] = 0;
    size_t len = strlen(tool) + 1 + strlen(cwd) + 1;
    for (int i = 1; i < argc; i++) len += strlen(argv[i]) + 1;
    uint8_t *req = malloc(HEADER + len);
    if (!req) die(EXIT_SOFTWARE, "out of memory", NULL, NULL);
    req[0] = REC_REQUEST;
    put_u32le(req + 1, (uint32_t)len);
    uint8_t *p = req + HEADER;
    size_t n = strlen(tool) + 1;
    memcpy(p, tool, n); p += n;
    n = strlen(cwd) + 1;
    memcpy(p, cwd, n); p += n;
    for (int i = 1; i < argc; i++) {
        n = strlen(argv[i]) + 1;
        memcpy(p, argv[i], n); p += n;
    }
    if (write_all(fd, req, HEADER + len) != 0) die(EXIT_UNAVAILABLE, "the simulated Mac closed the connection", NULL, NULL);
    free(req);
}

int main(int argc, char **argv) {
    signal(SIGPIPE, SIG_IGN); /* a closed stdout or socket is an EPIPE to handle, not a death */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    locate();
    int sock = connect_daemon();
    send_request(sock, argc, argv);

    static uint8_t chunk[HEADER + STDIN_CHUNK];
    int stdin_open = 1;
    if (isatty(0)) { /* a person at a terminal: the tools take no typed input */
        uint8_t end[HEADER] = { REC_STDIN_END, 0, 0, 0, 0 };
        write_all(sock, end, HEADER); /* a failure shows as the connection closing, below */
        stdin_open = 0;
    }
    size_t cap = 1 << 16, have = 0;
    uint8_t *in = malloc(cap);
    if (!in) die(EXIT_SOFTWARE, "out of memory", NULL, NULL);

    for (;;) {
        struct pollfd fds[2] = { { sock, POLLIN, 0 }, { 0, POLLIN, 0 } };
        if (poll(fds, stdin_open ? 2 : 1, -1) < 0) {
            if (errno == EINTR) continue;
            die(EXIT_SOFTWARE, "poll: ", strerror(errno), NULL);
        }
        if (stdin_open && fds[1].revents) {
            ssize_t n = read(0, chunk + HEADER, STDIN_CHUNK);
            if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
            /* A read error is the end of stdin too: there is nothing more to pass on. */
            chunk[0] = n > 0 ? REC_STDIN : REC_STDIN_END;
            put_u32le(chunk + 1, n > 0 ? (uint32_t)n : 0);
            if (n <= 0) stdin_open = 0;
            /* The daemon may have answered and gone already; its exit record is still to read. */
            if (write_all(sock, chunk, HEADER + (n > 0 ? (size_t)n : 0)) != 0) stdin_open = 0;
        }
        if (!fds[0].revents) continue;
        if (have == cap) {
            cap *= 2;
            uint8_t *grown = realloc(in, cap);
            if (!grown) die(EXIT_SOFTWARE, "out of memory", NULL, NULL);
            in = grown;
        }
        ssize_t n = read(sock, in + have, cap - have);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) die(EXIT_UNAVAILABLE, "the simulated Mac closed the connection", NULL, NULL);
        have += (size_t)n;
        size_t pos = 0;
        while (have - pos >= HEADER) {
            uint32_t len = get_u32le(in + pos + 1);
            if (have - pos - HEADER < len) {
                if ((size_t)len + HEADER > cap) { /* grow for one large record */
                    while ((size_t)len + HEADER > cap) cap *= 2;
                    uint8_t *grown = realloc(in, cap);
                    if (!grown) die(EXIT_SOFTWARE, "out of memory", NULL, NULL);
                    in = grown;
                }
                break;
            }
            const uint8_t *body = in + pos + HEADER;
            switch (in[pos]) {
            case REC_STDOUT:
                if (write_all(1, body, len) != 0) exit(EXIT_PIPE);
                break;
            case REC_STDERR:
                write_all(2, body, len);
                break;
            case REC_EXIT:
                if (len != 4) die(EXIT_SOFTWARE, "malformed exit record from the simulated Mac", NULL, NULL);
                exit((int)(int32_t)get_u32le(body));
            default:
                die(EXIT_SOFTWARE, "unknown record from the simulated Mac", NULL, NULL);
            }
            pos += HEADER + len;
        }
        memmove(in, in + pos, have - pos);
        have -= pos;
    }
}
