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
/* One IOPropertyMatch entry: `KEY=VALUE` is always a string (digits too: IOKit compares a string
 * only with a string); `KEY:int=N` (decimal or 0x) is a number. */
typedef struct bridge_match {
    char key[64];
    const char *value; /* as written after '=' */
    int is_number;
    uint64_t number;
} bridge_match_t;
typedef struct bridge_args {
    bridge_match_t match[BRIDGE_MAX_MATCH]; /* --match */
    int n_match;
    uint64_t registry_id;
    int has_registry_id;
    uint32_t connect_type;
} bridge_args_t;

/* extra(argv, i, ctx) handles a binary-specific option at argv[i]: returns how many arguments it
 * consumed, 0 if unknown, -1 if malformed. Returns 0 or BRIDGE_EXIT_USAGE (after printing usage);
 * --help prints usage on stdout and exits 0. */
int bridge_parse_args(int argc, char **argv, bridge_args_t *args, const char *usage,
                      int (*extra)(char **argv, int argc, int i, void *ctx), void *ctx);
/* Parses `KEY=VALUE` or `KEY:int=N` into *out (value points into text); returns 0 on success. */
int bridge_parse_match(const char *text, bridge_match_t *out);
/* Whether every match entry holds among props: same key, same type, equal value (IOKit's
 * isEqualTo); stand-ins keep their services' properties as bridge_match_t entries. */
int bridge_props_hold(const bridge_args_t *args, const bridge_match_t *props, int n_props);
/* The match as written, then "registry id N": for messages. */
void bridge_describe_match(const bridge_args_t *args, char *out, size_t cap);

/* A service the match found: its registry id and the locationID of the USB device it sits on
 * (searched up its providers), so a refusal can say which is which. */
typedef struct bridge_service {
    uint64_t registry_id;
    uint64_t location_id;
    int has_location;
} bridge_service_t;
/* Picks the one service among those the match found, keeping only --registry-id when given.
 * Returns its index, or -1 with the reason in message: "no service matches …", or "N services
 * match …; pass --registry-id with one of: ID (locationID 0x…), …". */
int bridge_pick_service(const bridge_args_t *args, const bridge_service_t *found, int n_found, char *message,
                        size_t cap);

/* write() until all of buf is out (EINTR retried); -1 on failure. */
int bridge_write_all(int fd, const uint8_t *buf, size_t len);
/* Parses a decimal or 0x-hex u64 (never octal: 0123 is 123); returns 0 on success. */
int bridge_parse_u64(const char *s, uint64_t *out);

#endif
