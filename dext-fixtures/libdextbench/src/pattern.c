/* Test patterns; the normative definition and test vectors are in PATTERNS.md. */
#include <string.h>

#include "dextbench.h"

/* Fibonacci LFSR x^n + x^m + 1: new bit = bit(n-1) ^ bit(m-1) of the state, shifted in at bit 0;
 * the new bit is also the output bit. */
static int prbs_taps(dextbench_v1_Pattern kind, unsigned *n, unsigned *m) {
    switch (kind) {
    case dextbench_v1_Pattern_PATTERN_PRBS7: *n = 7; *m = 6; return 1;
    case dextbench_v1_Pattern_PATTERN_PRBS15: *n = 15; *m = 14; return 1;
    case dextbench_v1_Pattern_PATTERN_PRBS31: *n = 31; *m = 28; return 1;
    default: return 0;
    }
}

int dxb_pattern_init(dxb_pattern_t *p, dextbench_v1_Pattern kind, uint64_t seed) {
    unsigned n, m;
    memset(p, 0, sizeof *p);
    p->kind = kind;
    p->seed = seed;
    if (prbs_taps(kind, &n, &m)) {
        uint32_t mask = (uint32_t)((1u << n) - 1u);
        p->state = (uint32_t)(seed & mask);
        if (p->state == 0) p->state = mask; /* an all-zero LFSR would stay zero */
        return DXB_OK;
    }
    return kind == dextbench_v1_Pattern_PATTERN_COUNTER || kind == dextbench_v1_Pattern_PATTERN_ZEROS ? DXB_OK : DXB_E_ARG;
}

/* The next output byte. With x_t = x_{t-n} ^ x_{t-m} and the state holding the last n outputs
 * (bit i = the output i steps ago), the next k outputs only need outputs at least m - k + 1 steps
 * old, so k = 8 new bits come from two shifts of the state when m >= 8 (PRBS15, PRBS31), and
 * k = 4 when m >= 4 (PRBS7): the same stream as one bit at a time, 8 or 4 times fewer steps. */
static uint8_t next_byte(dxb_pattern_t *p) {
    unsigned n, m;
    uint64_t offset = p->offset++;
    if (!prbs_taps(p->kind, &n, &m)) {
        return p->kind == dextbench_v1_Pattern_PATTERN_COUNTER ? (uint8_t)(p->seed + offset) : 0;
    }
    {
        uint32_t s = p->state, bits;
        const uint32_t mask = (uint32_t)((1u << n) - 1u);
        if (m >= 8) {
            bits = ((s >> (n - 8)) ^ (s >> (m - 8))) & 0xffu;
            s = ((s << 8) | bits) & mask;
        } else {
            uint32_t high = ((s >> (n - 4)) ^ (s >> (m - 4))) & 0xfu;
            s = ((s << 4) | high) & mask;
            bits = ((s >> (n - 4)) ^ (s >> (m - 4))) & 0xfu;
            s = ((s << 4) | bits) & mask;
            bits |= high << 4;
        }
        p->state = s;
        return (uint8_t)bits; /* first bit of the stream = MSB of the byte */
    }
}

void dxb_pattern_fill(dxb_pattern_t *p, uint8_t *out, size_t len) {
    size_t i;
    if (p->kind == dextbench_v1_Pattern_PATTERN_ZEROS) {
        memset(out, 0, len);
        p->offset += len;
        return;
    }
    for (i = 0; i < len; i++) out[i] = next_byte(p);
}

uint64_t dxb_pattern_verify(dxb_pattern_t *p, const uint8_t *data, size_t len, uint64_t *first_error) {
    uint64_t errors = 0;
    size_t i;
    for (i = 0; i < len; i++) {
        uint64_t offset = p->offset;
        if (next_byte(p) != data[i]) {
            if (errors == 0 && first_error) *first_error = offset;
            errors++;
        }
    }
    return errors;
}
