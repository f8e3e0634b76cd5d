/* What a simulated Mac puts between a bridge and libdextbench's loopback model: the kernel's
 * IOConnectCallStructMethod rules for the channel's selectors, and io paced at a byte rate.
 * Shared by dextbench-bridge-inproc (model in the bridge) and dextbench-sim-dext (model in its
 * own process, one per simulated dext process, shared by every user-client connection). */
#ifndef DEXTBENCH_SIM_USER_CLIENT_H
#define DEXTBENCH_SIM_USER_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "dextbench.h"

/* IOReturn values (xnu iokit/IOKit/IOReturn.h) the stand-in reports. */
#define IORETURN_BAD_ARGUMENT ((int32_t)0xe00002c2)
#define IORETURN_NOT_READY ((int32_t)0xe00002d8)
#define IORETURN_ABORTED ((int32_t)0xe00002eb)
#define IORETURN_IPC_ERROR ((int32_t)0xe00002bf)

/* One IOConnectCallStructMethod on the connection whose spill slot is `channel`: CALL output is
 * inline by contract, FETCH needs an out-of-line output (> 4096) and reports the whole buffer as
 * its size. Returns a BRIDGE_CALL_* value (bridge.h); the caller checks the model's `crashed` after. */
int sim_user_client_call(dxb_channel_t *channel, uint32_t selector, const uint8_t *in, size_t in_len, uint8_t *out,
                         size_t *out_len, int32_t *io_return);

/* The "kernel hop" between dextbench-bridge-simdext and dextbench-sim-dext: one unix stream socket
 * per user-client connection, little-endian messages:
 *   bridge -> dext  CALL       u8 1, u32 selector, u32 in_len, u32 out_cap, then in_len bytes
 *                   SUBSCRIBE  u8 2   (IOConnectCallAsyncStructMethod(SUBSCRIBE): take the doorbell)
 *   dext -> bridge  REPLY      u8 1, i32 io_return, u32 out_len, then out_len bytes (<= out_cap)
 *                   DOORBELL   u8 2   (the async completion; its values are not needed here)
 * The dext closing the socket is the service terminating (unplug, crash, the dext stopping). */
#define SIM_MSG_CALL 1u
#define SIM_MSG_SUBSCRIBE 2u
#define SIM_MSG_REPLY 1u
#define SIM_MSG_DOORBELL 2u
#define SIM_CALL_HEADER 13u
#define SIM_REPLY_HEADER 9u
#define SIM_MAX_CALL_OUT (DXB_OOL_HEADER_BYTES + DXB_MAX_MESSAGE_BYTES)
#define SIM_MAX_CALL_IN (DXB_OOL_HEADER_BYTES + DXB_MAX_MESSAGE_BYTES)

static inline void sim_put_u32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static inline uint32_t sim_get_u32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

typedef struct sim_io_pace {
    uint64_t rate_bytes_per_sec;
    uint64_t last_tick_ns;
} sim_io_pace_t;

uint64_t sim_monotonic_ns(void *ctx);
/* The simulated loopback device: bulk OUT 0x01 and bulk IN 0x81, the monotonic clock. */
void sim_loopback_config(dxb_loopback_config_t *config, const char *driver_name, const char *driver_version,
                         uint64_t instance_id, uint64_t start_time_ns);

struct bridge_transport;
struct bridge_args;
/* A stand-in transport's identity: "inproc", the --registry-id (or a fixed one), the user class of
 * a string IOUserClass match (or EchoDriver); the caller sets the callbacks. */
void sim_transport_init(struct bridge_transport *t, void *ctx, const struct bridge_args *args);
/* Moves io at the pace's rate while an io runs; returns the poll timeout in ms (-1: idle). */
int sim_io_tick(dxb_loopback_t *model, sim_io_pace_t *pace);

#endif
