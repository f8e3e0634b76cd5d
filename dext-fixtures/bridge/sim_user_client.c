/* See sim_user_client.h. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bridge.h"
#include "sim_user_client.h"

#define TICK_MS 2
/* At most this much io per tick: calls wait behind a tick (1 MiB is a few ms of generate+verify,
 * where 4 MiB kept IoStatus waiting ~30 ms), and 1 MiB per 2 ms still allows ~520 MB/s. */
#define MAX_TICK_BYTES (1024u * 1024u)

int sim_user_client_call(dxb_channel_t *channel, uint32_t selector, const uint8_t *in, size_t in_len, uint8_t *out,
                         size_t *out_len, int32_t *io_return) {
    int rc;
    if (selector == DXB_SELECTOR_CALL) {
        size_t got = 0;
        if (*out_len > DXB_MAX_INLINE_BYTES) { /* CALL output is inline by contract */
            *io_return = IORETURN_BAD_ARGUMENT;
            return BRIDGE_CALL_FAILED;
        }
        rc = dxb_channel_call(channel, in, in_len, in_len > DXB_MAX_INLINE_BYTES, out, *out_len, &got);
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
        rc = dxb_channel_fetch(channel, out, *out_len);
        if (rc != DXB_OK) {
            *io_return = rc == DXB_E_STATE ? IORETURN_NOT_READY : IORETURN_BAD_ARGUMENT;
            return BRIDGE_CALL_FAILED;
        }
        return BRIDGE_CALL_OK; /* *out_len stays the buffer size, as DriverKit reports it */
    }
    *io_return = IORETURN_BAD_ARGUMENT;
    return BRIDGE_CALL_FAILED;
}

uint64_t sim_monotonic_ns(void *ctx) {
    struct timespec ts;
    (void)ctx;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void sim_loopback_config(dxb_loopback_config_t *config, const char *driver_name, const char *driver_version,
                         uint64_t instance_id, uint64_t start_time_ns) {
    memset(config, 0, sizeof *config);
    config->driver_name = driver_name;
    config->driver_version = driver_version;
    config->instance_id = instance_id;
    config->process_start_time_ns = start_time_ns;
    config->endpoints[0] = 0x01;
    config->endpoints[1] = 0x81;
    config->now = sim_monotonic_ns;
}

void sim_transport_init(struct bridge_transport *t, void *ctx, const struct bridge_args *args) {
    const char *user_class = "EchoDriver";
    int i;
    for (i = 0; i < args->n_match; i++)
        if (strcmp(args->match[i].key, "IOUserClass") == 0 && !args->match[i].is_number) user_class = args->match[i].value;
    memset(t, 0, sizeof *t);
    t->ctx = ctx;
    t->name = "inproc";
    t->wake_fd = -1;
    snprintf(t->registry_id, sizeof t->registry_id, "%llu",
             (unsigned long long)(args->has_registry_id ? args->registry_id : 4294969000ull));
    snprintf(t->user_class, sizeof t->user_class, "%s", user_class);
}

int sim_io_tick(dxb_loopback_t *model, sim_io_pace_t *pace) {
    uint64_t now = sim_monotonic_ns(NULL), budget;
    if (!dxb_loopback_busy(model)) {
        pace->last_tick_ns = now;
        return -1;
    }
    budget = (now - pace->last_tick_ns) * pace->rate_bytes_per_sec / 1000000000ull;
    if (budget > 0) {
        if (budget > MAX_TICK_BYTES) budget = MAX_TICK_BYTES;
        dxb_loopback_advance(model, budget);
        pace->last_tick_ns = now;
    }
    return TICK_MS;
}
