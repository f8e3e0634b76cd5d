// Checks a Request's wire bytes the way nanopb's decoder (the C server) would reject them, so the
// TypeScript server answers malformed input with the same status message ("malformed Request: …").
// protobufjs is laxer in places and throws other texts; this walk decides first.

export interface WireCheck { id: bigint; error?: string }

const SUBMESSAGE_FIELDS = new Set([2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);

class Cursor {
  constructor(readonly buf: Uint8Array, public pos: number, readonly end: number) {}
  varint(): bigint {
    let v = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new Error('end-of-stream');
      const b = this.buf[this.pos++]!;
      v |= BigInt(b & 0x7f) << BigInt(7 * i);
      if ((b & 0x80) === 0) return v & 0xffffffffffffffffn;
    }
    throw new Error('varint overflow');
  }
  skip(n: number): void {
    if (this.end - this.pos < n) throw new Error('end-of-stream');
    this.pos += n;
  }
}

function walk(c: Cursor, top: boolean, found: { id: bigint }): void {
  while (c.pos < c.end) {
    const tag = c.varint();
    const num = Number(tag >> 3n);
    const wt = Number(tag & 7n);
    if (num === 0) throw new Error('zero tag');
    if (wt === 0) {
      const v = c.varint();
      if (top && num === 1) found.id = v;
    } else if (wt === 1) c.skip(8);
    else if (wt === 5) c.skip(4);
    else if (wt === 2) {
      const len = c.varint();
      if (len > BigInt(c.end - c.pos)) throw new Error('parent stream too short');
      const start = c.pos;
      c.pos += Number(len);
      if (top && SUBMESSAGE_FIELDS.has(num)) walk(new Cursor(c.buf, start, c.pos), false, found);
    } else throw new Error('invalid wire_type');
  }
}

export function checkRequestWire(bytes: Uint8Array): WireCheck {
  const found = { id: 0n };
  try {
    walk(new Cursor(bytes, 0, bytes.length), true, found);
    return found;
  } catch (e) {
    return { id: found.id, error: (e as Error).message };
  }
}
