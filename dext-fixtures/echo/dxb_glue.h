/*
 * The seam between the echo dext and libdextbench (dext-fixtures/libdextbench, portable C on
 * nanopb, include/dextbench.h). libdextbench provides the channel server (dxb_server_init /
 * dxb_server_handle, reached through dxb_loopback_init and the dxb_channel_* helpers), the event
 * queue with its doorbell (dxb_events_*), and the loopback io model (dxb_loopback_*). The dext
 * provides the transport (EchoUserClient: selectors CALL 0, FETCH 1, SUBSCRIBE 2 as in
 * proto/dextbench/v1/channel.proto section B), a clock, a lock, and the USB pipes.
 *
 * What the dext calls, all with EchoDriver's lock held:
 *   dxb_loopback_init, dxb_loopback_advance, dxb_loopback_busy, dxb_loopback_stop,
 *   dxb_channel_init, dxb_channel_call, dxb_channel_fetch,
 *   dxb_events_subscribe, dxb_events_unsubscribe, dxb_events_push_log.
 *
 * libdextbench has no hook for a hardware data path: its io model generates, loops back and
 * verifies in memory. EchoDriver paces that model with real USB round trips (each chunk the
 * model moves is sent on bulk OUT and read back on bulk IN) and reports a wire mismatch or a
 * USB error as an ERROR log event; the io counters remain the model's.
 */
#ifndef DXB_GLUE_H
#define DXB_GLUE_H

#include "dextbench.h"

/* libdextbench result codes as IOReturn values for ExternalMethod. */
#define DXB_IORETURN(result) \
    ((result) == DXB_OK ? kIOReturnSuccess \
     : (result) == DXB_E_SPACE ? kIOReturnNoSpace \
     : (result) == DXB_E_STATE ? kIOReturnNotReady \
     : kIOReturnBadArgument)

#endif /* DXB_GLUE_H */
