// Stdio frames (channel.proto FRAMING A): varint(length) || message, length 1..16384.
import { MAX_MESSAGE_BYTES } from './proto.ts';

export function frameHeader(len: number): Buffer {
  const out: number[] = [];
  let v = len;
  while (v >= 0x80) { out.push((v & 0x7f) | 0x80); v >>>= 7; }
  out.push(v);
  return Buffer.from(out);
}

export function frame(msg: Uint8Array): Buffer {
  return Buffer.concat([frameHeader(msg.length), msg]);
}

export type FrameParse =
  | { kind: 'frame'; headerLen: number; msgLen: number }
  | { kind: 'incomplete' }
  | { kind: 'malformed' };

/** The C rule (dxb_frame_get_header): at most 3 varint bytes, length 1..16384. */
export function parseFrameHeader(buf: Buffer, pos: number): FrameParse {
  let len = 0;
  for (let i = 0; i < 3; i++) {
    if (pos + i >= buf.length) return { kind: 'incomplete' };
    const b = buf[pos + i]!;
    len |= (b & 0x7f) << (7 * i);
    if ((b & 0x80) === 0) {
      if (len === 0 || len > MAX_MESSAGE_BYTES) return { kind: 'malformed' };
      return { kind: 'frame', headerLen: i + 1, msgLen: len };
    }
  }
  return { kind: 'malformed' };
}
