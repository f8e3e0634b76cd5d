/* Framing rules of channel.proto (FRAMING A and B). */
#include <string.h>

#include "dextbench.h"

size_t dxb_frame_put_header(uint8_t *out, size_t len) {
    size_t n = 0;
    if (len == 0 || len > DXB_MAX_MESSAGE_BYTES) return 0;
    while (len >= 0x80) {
        out[n++] = (uint8_t)(len | 0x80);
        len >>= 7;
    }
    out[n++] = (uint8_t)len;
    return n;
}

int dxb_frame_get_header(const uint8_t *buf, size_t buf_len, size_t *header_len, size_t *msg_len) {
    size_t value = 0;
    size_t i;
    for (i = 0; i < DXB_MAX_VARINT_BYTES; i++) {
        if (i >= buf_len) return DXB_E_INCOMPLETE;
        value |= (size_t)(buf[i] & 0x7f) << (7 * i);
        if ((buf[i] & 0x80) == 0) {
            if (value == 0 || value > DXB_MAX_MESSAGE_BYTES) return DXB_E_ARG;
            *header_len = i + 1;
            *msg_len = value;
            return DXB_OK;
        }
    }
    return DXB_E_ARG; /* a fourth varint byte would mean a length > 16384 */
}

static void put_u32le(uint8_t *out, uint32_t v) {
    out[0] = (uint8_t)v;
    out[1] = (uint8_t)(v >> 8);
    out[2] = (uint8_t)(v >> 16);
    out[3] = (uint8_t)(v >> 24);
}

static uint32_t get_u32le(const uint8_t *in) {
    return (uint32_t)in[0] | (uint32_t)in[1] << 8 | (uint32_t)in[2] << 16 | (uint32_t)in[3] << 24;
}

size_t dxb_frame_call_input_size(size_t msg_len) {
    return msg_len <= DXB_MAX_INLINE_BYTES ? msg_len : DXB_OOL_HEADER_BYTES + msg_len;
}

int dxb_frame_put_ool(const uint8_t *msg, size_t msg_len, uint8_t *out, size_t out_cap) {
    if (msg_len > DXB_MAX_MESSAGE_BYTES) return DXB_E_ARG;
    if (out_cap < DXB_OOL_HEADER_BYTES + msg_len) return DXB_E_SPACE;
    put_u32le(out, (uint32_t)msg_len);
    if (msg_len) memcpy(out + DXB_OOL_HEADER_BYTES, msg, msg_len);
    return DXB_OK;
}

int dxb_frame_get_ool(const uint8_t *buf, size_t buf_len, const uint8_t **msg, size_t *msg_len) {
    uint32_t len;
    if (buf_len < DXB_OOL_HEADER_BYTES) return DXB_E_ARG;
    len = get_u32le(buf);
    if (len > DXB_MAX_MESSAGE_BYTES || len > buf_len - DXB_OOL_HEADER_BYTES) return DXB_E_ARG;
    *msg = buf + DXB_OOL_HEADER_BYTES;
    *msg_len = len;
    return DXB_OK;
}

int dxb_frame_put_call_input(const uint8_t *msg, size_t msg_len, uint8_t *out, size_t out_cap, size_t *out_len) {
    int rc;
    if (msg_len > DXB_MAX_MESSAGE_BYTES) return DXB_E_ARG;
    if (msg_len <= DXB_MAX_INLINE_BYTES) {
        if (out_cap < msg_len) return DXB_E_SPACE;
        if (msg_len) memcpy(out, msg, msg_len);
        *out_len = msg_len;
        return DXB_OK;
    }
    rc = dxb_frame_put_ool(msg, msg_len, out, out_cap);
    if (rc == DXB_OK) *out_len = DXB_OOL_HEADER_BYTES + msg_len;
    return rc;
}

void dxb_frame_put_spill_notice(uint8_t out[DXB_SPILL_NOTICE_BYTES], uint32_t msg_len) {
    out[0] = 0x00;
    out[1] = 'S';
    out[2] = 'P';
    out[3] = 'L';
    put_u32le(out + 4, msg_len);
}

int dxb_frame_parse_call_output(const uint8_t *out, size_t out_len, size_t *spill_len) {
    if (out_len == 0) return 1; /* an empty Response: every field at its default */
    if (out[0] != 0x00) return 1;
    if (out_len == DXB_SPILL_NOTICE_BYTES && out[1] == 'S' && out[2] == 'P' && out[3] == 'L') {
        uint32_t len = get_u32le(out + 4);
        if (len <= DXB_MAX_INLINE_BYTES || len > DXB_MAX_MESSAGE_BYTES) return DXB_E_ARG;
        *spill_len = len;
        return 2;
    }
    return DXB_E_ARG;
}

void dxb_channel_init(dxb_channel_t *ch, dxb_server_t *server) {
    memset(ch, 0, sizeof *ch);
    ch->server = server;
}

int dxb_channel_call(dxb_channel_t *ch, const uint8_t *in, size_t in_len, bool in_is_ool, uint8_t *out,
                     size_t out_cap, size_t *out_len) {
    const uint8_t *msg = in;
    size_t msg_len = in_len;
    size_t resp_len = 0;
    int rc;
    if (in_is_ool) {
        rc = dxb_frame_get_ool(in, in_len, &msg, &msg_len);
        if (rc != DXB_OK) return rc;
    } else if (in_len > DXB_MAX_INLINE_BYTES) {
        return DXB_E_ARG;
    }
    /* A new call discards an unfetched spill: the client gave up on it. */
    ch->spill_pending = false;
    rc = dxb_server_handle(ch->server, msg, msg_len, ch->spill, sizeof ch->spill, &resp_len);
    if (rc != DXB_OK) return rc;
    if (resp_len <= out_cap && resp_len <= DXB_MAX_INLINE_BYTES) {
        if (resp_len) memcpy(out, ch->spill, resp_len);
        *out_len = resp_len;
        return DXB_OK;
    }
    if (out_cap < DXB_SPILL_NOTICE_BYTES) return DXB_E_SPACE;
    ch->spill_len = resp_len;
    ch->spill_pending = true;
    dxb_frame_put_spill_notice(out, (uint32_t)resp_len);
    *out_len = DXB_SPILL_NOTICE_BYTES;
    return DXB_OK;
}

int dxb_channel_fetch(dxb_channel_t *ch, uint8_t *out, size_t out_cap) {
    int rc;
    if (!ch->spill_pending) return DXB_E_STATE;
    rc = dxb_frame_put_ool(ch->spill, ch->spill_len, out, out_cap);
    if (rc == DXB_OK) ch->spill_pending = false;
    return rc;
}
