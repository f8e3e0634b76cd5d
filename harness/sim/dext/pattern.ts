// Test patterns, byte for byte as dext-fixtures/libdextbench/PATTERNS.md defines them (and
// src/pattern.c produces them).
import { Pattern } from './proto.ts';

const TAPS: Record<number, [number, number]> = { [Pattern.PRBS7]: [7, 6], [Pattern.PRBS15]: [15, 14], [Pattern.PRBS31]: [31, 28] };

export function isPattern(kind: number): boolean {
  return kind === Pattern.COUNTER || kind === Pattern.ZEROS || kind in TAPS;
}

export class PatternStream {
  private state = 0;
  private readonly n: number;
  private readonly m: number;
  private readonly mask: number;
  /** Stream offset of the next byte. */
  offset = 0n;

  constructor(readonly kind: number, readonly seed: bigint) {
    if (!isPattern(kind)) throw new Error(`unknown pattern ${kind}`);
    const [n, m] = TAPS[kind] ?? [0, 0];
    this.n = n;
    this.m = m;
    this.mask = n ? 2 ** n - 1 : 0;
    if (n) {
      this.state = Number(seed & BigInt(this.mask));
      if (this.state === 0) this.state = this.mask; // an all-zero LFSR would stay zero
    }
  }

  clone(): PatternStream {
    const c = new PatternStream(this.kind, this.seed);
    c.state = this.state;
    c.offset = this.offset;
    return c;
  }

  fill(out: Uint8Array): void {
    const len = out.length;
    if (this.kind === Pattern.ZEROS) out.fill(0);
    else if (this.kind === Pattern.COUNTER) {
      let v = Number((this.seed + this.offset) & 0xffn);
      for (let i = 0; i < len; i++) { out[i] = v; v = (v + 1) & 0xff; }
    } else if (this.m >= 8) {
      // The next 8 output bits read state bits n-1..n-8 and m-1..m-8, all already there: a byte per step.
      let s = this.state;
      const hi = this.n - 8, lo = this.m - 8, keep = this.mask >>> 8;
      for (let i = 0; i < len; i++) {
        const byte = ((s >>> hi) ^ (s >>> lo)) & 0xff;
        s = ((s & keep) << 8) | byte;
        out[i] = byte;
      }
      this.state = s;
    } else {
      let s = this.state;
      const n1 = this.n - 1, m1 = this.m - 1, mask = this.mask;
      for (let i = 0; i < len; i++) {
        let byte = 0;
        for (let b = 0; b < 8; b++) {
          const bit = ((s >>> n1) ^ (s >>> m1)) & 1;
          s = ((s << 1) | bit) & mask;
          byte = (byte << 1) | bit; // first bit of the stream = MSB of byte 0
        }
        out[i] = byte;
      }
      this.state = s;
    }
    this.offset += BigInt(len);
  }
}

/** Compares data with the next bytes of `stream`; returns mismatches and the first one's offset. */
export function verify(stream: PatternStream, data: Uint8Array, scratch: Uint8Array): { errors: bigint; first: bigint } {
  const base = stream.offset;
  const expected = scratch.subarray(0, data.length);
  stream.fill(expected);
  let errors = 0n;
  let first = 0n;
  for (let i = 0; i < data.length; i++) {
    if (expected[i] !== data[i]) {
      if (errors === 0n) first = base + BigInt(i);
      errors++;
    }
  }
  return { errors, first };
}
