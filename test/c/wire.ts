// Minimal protobuf wire reader/writer for the C-side tests (the harness codec is separate).
// Values stay exact: varints are bigint.

export type Field = { num: number; wire: number; varint?: bigint; bytes?: Buffer };

export function varint(v: bigint | number): Buffer {
  let x = BigInt(v);
  const out: number[] = [];
  do {
    let b = Number(x & 0x7fn);
    x >>= 7n;
    if (x > 0n) b |= 0x80;
    out.push(b);
  } while (x > 0n);
  return Buffer.from(out);
}

export function fieldVarint(num: number, v: bigint | number): Buffer {
  return Buffer.concat([varint((num << 3) | 0), varint(v)]);
}

export function fieldBytes(num: number, v: Buffer | string): Buffer {
  const b = typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
  return Buffer.concat([varint((num << 3) | 2), varint(b.length), b]);
}

export function message(...fields: Buffer[]): Buffer {
  return Buffer.concat(fields);
}

/** Request { id = 1; body member `bodyField` = body }. */
export function request(id: bigint | number, bodyField: number, body: Buffer): Buffer {
  return message(fieldVarint(1, id), fieldBytes(bodyField, body));
}

export function frame(msg: Buffer): Buffer {
  return Buffer.concat([varint(msg.length), msg]);
}

function readVarint(buf: Buffer, pos: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    if (pos >= buf.length) throw new Error('truncated varint');
    const b = buf[pos++]!;
    result |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return [result, pos];
    shift += 7n;
  }
}

export function decode(buf: Buffer): Field[] {
  const fields: Field[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const [key, p1] = readVarint(buf, pos);
    const num = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (wire === 0) {
      const [v, p2] = readVarint(buf, p1);
      fields.push({ num, wire, varint: v });
      pos = p2;
    } else if (wire === 2) {
      const [len, p2] = readVarint(buf, p1);
      const end = p2 + Number(len);
      if (end > buf.length) throw new Error('truncated bytes field');
      fields.push({ num, wire, bytes: buf.subarray(p2, end) });
      pos = end;
    } else {
      throw new Error(`unsupported wire type ${wire}`);
    }
  }
  return fields;
}

/** Last value of a varint field (proto3 default 0n when absent). */
export function u64(fields: Field[], num: number): bigint {
  const f = fields.filter((x) => x.num === num).pop();
  return f?.varint ?? 0n;
}

export function sub(fields: Field[], num: number): Field[] | undefined {
  const f = fields.filter((x) => x.num === num).pop();
  return f?.bytes ? decode(f.bytes) : undefined;
}

export function str(fields: Field[], num: number): string {
  const f = fields.filter((x) => x.num === num).pop();
  return f?.bytes ? f.bytes.toString('utf8') : '';
}

export function bytesOf(fields: Field[], num: number): Buffer {
  const f = fields.filter((x) => x.num === num).pop();
  return f?.bytes ?? Buffer.alloc(0);
}

export function all(fields: Field[], num: number): Field[][] {
  return fields.filter((x) => x.num === num && x.bytes).map((x) => decode(x.bytes!));
}

/** Splits a byte stream into varint-length-delimited frames; returns [frames, rest]. */
export function splitFrames(buf: Buffer): [Buffer[], Buffer] {
  const frames: Buffer[] = [];
  let pos = 0;
  for (;;) {
    let len: bigint;
    let p: number;
    try {
      [len, p] = readVarint(buf, pos);
    } catch {
      break;
    }
    const end = p + Number(len);
    if (end > buf.length) break;
    frames.push(buf.subarray(p, end));
    pos = end;
  }
  return [frames, buf.subarray(pos)];
}
