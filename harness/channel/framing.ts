// FRAMING A of channel.proto: each frame on the harness <-> bridge stdio stream is
// varint(length) || message, length 1..16384, the varint at most 3 bytes.
import { MalformedFrameError } from './errors.ts';

export const MAX_MESSAGE_BYTES = 16384;
const MAX_VARINT_BYTES = 3;

/** One message as a frame. Throws MalformedFrameError for an empty or oversized message (the peer would reject it). */
export function encodeFrame(message: Uint8Array): Buffer {
  const length = message.length;
  if (length < 1 || length > MAX_MESSAGE_BYTES) {
    throw new MalformedFrameError(`cannot frame a ${length}-byte message: length must be 1..${MAX_MESSAGE_BYTES}`);
  }
  const header = length < 0x80 ? 1 : length < 0x4000 ? 2 : 3;
  const frame = Buffer.allocUnsafe(header + length);
  let v = length;
  for (let i = 0; i < header; i++) {
    frame[i] = (v & 0x7f) | (i < header - 1 ? 0x80 : 0);
    v >>>= 7;
  }
  frame.set(message, header);
  return frame;
}

const NOTHING = new Uint8Array(0); // shared: an empty array cannot be changed

/**
 * Splits a byte stream into messages. Chunks may cut frames anywhere: a partial frame is kept until
 * the rest arrives. Returned messages are views of the pushed chunks (not copies); stream chunks
 * are never reused by Node, so that is safe.
 */
export class FrameDecoder {
  private pending: Uint8Array = NOTHING;
  private failed: MalformedFrameError | undefined;

  /** Complete messages in `chunk` (plus what was pending). Throws MalformedFrameError on a bad header. */
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.failed) throw this.failed;
    let buf: Uint8Array;
    if (this.pending.length === 0) buf = chunk;
    else {
      buf = new Uint8Array(this.pending.length + chunk.length);
      buf.set(this.pending, 0);
      buf.set(chunk, this.pending.length);
    }
    const messages: Uint8Array[] = [];
    let pos = 0;
    while (pos < buf.length) {
      let length = 0;
      let headerBytes = 0;
      let complete = false;
      while (pos + headerBytes < buf.length) {
        const byte = buf[pos + headerBytes]!;
        length |= (byte & 0x7f) << (7 * headerBytes);
        headerBytes++;
        if ((byte & 0x80) === 0) { complete = true; break; }
        if (headerBytes === MAX_VARINT_BYTES) break;
      }
      if (!complete) {
        if (headerBytes === MAX_VARINT_BYTES) throw this.fail(`malformed frame: length varint longer than ${MAX_VARINT_BYTES} bytes`);
        break; // header cut by the chunk boundary
      }
      if (length < 1 || length > MAX_MESSAGE_BYTES) {
        throw this.fail(`malformed frame: length ${length}, must be 1..${MAX_MESSAGE_BYTES}`);
      }
      if (pos + headerBytes + length > buf.length) break;
      messages.push(buf.subarray(pos + headerBytes, pos + headerBytes + length));
      pos += headerBytes + length;
    }
    // Copy the remainder: the caller may keep `chunk`, we must not hold a view that grows stale.
    this.pending = pos === buf.length ? NOTHING : buf.slice(pos);
    return messages;
  }

  /** Bytes held waiting for the rest of a frame. */
  get buffered(): number {
    return this.pending.length;
  }

  /** The stream ended: throws MalformedFrameError if it ended inside a frame. */
  end(): void {
    if (this.failed) throw this.failed;
    if (this.pending.length > 0) {
      throw this.fail(`malformed frame: stream ended inside a frame (${this.pending.length} bytes of it received)`);
    }
  }

  private fail(message: string): MalformedFrameError {
    this.failed = new MalformedFrameError(message);
    return this.failed;
  }
}
