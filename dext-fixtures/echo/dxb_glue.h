/*
 * The seam between the echo dext and libdextbench (dext-fixtures/libdextbench, portable C on
 * nanopb, include/dextbench.h). libdextbench provides the channel server (dxb_server_init /
 * dxb_server_handle, reached through dxb_loopback_init and the dxb_channel_* helpers), the event
 * queue with its doorbell (dxb_events_*), and the loopback io model (dxb_loopback_*). The dext
 * provides the transport (EchoUserClient: selectors CALL 0, FETCH 1, SUBSCRIBE 2 as in
 * proto/dextbench/v1/channel.proto section B), a clock, a lock, and the USB pipes.
 *
 * What the dext calls, all with EchoDriver's lock held:
 *   dxb_loopback_init, dxb_loopback_busy, dxb_loopback_stop,
 *   dxb_loopback_chunk_begin / _fill / _verify / _end (one USB round trip per chunk),
 *   dxb_channel_init, dxb_channel_call, dxb_channel_fetch,
 *   dxb_events_subscribe, dxb_events_unsubscribe, dxb_events_push_log.
 *
 * The io runs over the wire: each chunk the model hands out is filled with the io's stream, sent
 * on bulk OUT, read back on bulk IN and verified, and counted only then (a failed transfer ends
 * the io FAILED), so the io counters and endpoint stats are the wire's. (dxb_loopback_advance,
 * the same loop with memcpy for the wire, serves the simulated dext and the tests.)
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
