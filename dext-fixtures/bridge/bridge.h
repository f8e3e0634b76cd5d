/* dextbench-bridge: relays channel frames between stdio and a dext's user client.
 * Stdio protocol and exit codes: README.md here and channel.proto (FRAMING A, BridgeStatus). */
#ifndef DEXTBENCH_BRIDGE_H
#define DEXTBENCH_BRIDGE_H

#include <stddef.h>
#include <stdint.h>

#include "dextbench.h"

/* Exit codes (sysexits-style where one fits). */
#define BRIDGE_EXIT_CLOSED 0        /* stdin ended at a frame boundary */
#define BRIDGE_EXIT_TERMINATED 2    /* the service terminated (dext crash, unplug) */
#define BRIDGE_EXIT_USAGE 64
#define BRIDGE_EXIT_MALFORMED 65    /* malformed frame on stdin */
#define BRIDGE_EXIT_UNAVAILABLE 69  /* no (unique) matching service, or IOServiceOpen failed */
#define BRIDGE_EXIT_SOFTWARE 70
#define BRIDGE_EXIT_IO 74           /* stdout/stdin failed */
#define BRIDGE_EXIT_NOPERM 77       /* IOServiceOpen: kIOReturnNotPermitted (entitlements) */

/* Results of one user-client call. */
enum bridge_call_result {
    BRIDGE_CALL_OK = 0,
    BRIDGE_CALL_TERMINATED = 1, /* the connection is dead */
    BRIDGE_CALL_FAILED = 2,     /* the call failed; *io_return says why */
    BRIDGE_CALL_PROTOCOL = 3,   /* the dext answered something the contract does not allow */
};

/* Notes a transport hands the core (bit flags). */
#define BRIDGE_NOTE_DOORBELL 1u
#define BRIDGE_NOTE_TERMINATED 2u

typedef struct bridge_transport {
    void *ctx;
    const char *name;      /* "iokit" | "inproc" */
    char registry_id[24];  /* decimal */
    char user_class[64];
    /* One IOConnectCallStructMethod(selector, in, in_len, out, out_len). *out_len is the capacity
     * on entry and what the kernel reported on return. */
    int (*call_struct)(void *ctx, uint32_t selector, const uint8_t *in, size_t in_len, uint8_t *out, size_t *out_len,
                       int32_t *io_return);
    /* Readable when notes may be waiting (-1: none); take_notes drains it and returns the flags. */
    int wake_fd;
    unsigned (*take_notes)(void *ctx, int32_t *io_return);
    /* Optional: called every loop turn; returns the poll timeout in ms (-1 = wait for input). */
    int (*tick)(void *ctx);
} bridge_transport_t;

/* One Request in, one Response out over the user client: inline or out of line, with the spill
 * fetch (channel.proto FRAMING B). */
int bridge_uc_call(bridge_transport_t *t, const uint8_t *req, size_t req_len, uint8_t *resp, size_t resp_cap,
                   size_t *resp_len, int32_t *io_return);

/* Runs the stdio loop on an opened transport; returns the process exit code. */
int bridge_run(bridge_transport_t *t, int in_fd, int out_fd, int err_fd);

/* Reports an open failure (frame + stderr line); returns exit_code. */
int bridge_report_open_failed(int out_fd, int err_fd, const char *transport, int32_t io_return, const char *message,
                              int exit_code);

/* Command line shared by both binaries. */
#define BRIDGE_MAX_MATCH 8
typedef struct bridge_args {
    struct { char key[64]; const char *value; } match[BRIDGE_MAX_MATCH]; /* --match KEY=VALUE */
    int n_match;
    uint64_t registry_id;
    int has_registry_id;
    uint32_t connect_type;
} bridge_args_t;

/* extra(argv, i, ctx) handles a binary-specific option at argv[i]: returns how many arguments it
 * consumed, 0 if unknown, -1 if malformed. Returns 0 or BRIDGE_EXIT_USAGE (after printing usage). */
int bridge_parse_args(int argc, char **argv, bridge_args_t *args, const char *usage,
                      int (*extra)(char **argv, int argc, int i, void *ctx), void *ctx);
/* write() until all of buf is out (EINTR retried); -1 on failure. */
int bridge_write_all(int fd, const uint8_t *buf, size_t len);
/* Parses a decimal or 0x-hex u64; returns 0 on success. */
int bridge_parse_u64(const char *s, uint64_t *out);

#endif
