// The IoStart test patterns exactly as dext-fixtures/libdextbench/PATTERNS.md defines them
// (PRBS7/15/31 Fibonacci LFSRs packed MSB first, COUNTER, ZEROS), generated and verified a 32-bit
// word at a time.
//
// Why whole words work: a PRBS stream satisfies b[k] = b[k-n] ^ b[k-m] (polynomial x^n + x^m + 1)
// and therefore every recurrence whose polynomial is a multiple of it. Over GF(2),
// p(x)^32 = x^32n + x^32m + 1, so b[k] = b[k-32n] ^ b[k-32m]: with lags that are whole 32-bit words,
// byte order and bit packing no longer matter and one word is one XOR of two earlier words
// (PRBS31: W[j] = W[j-31] ^ W[j-28]). COUNTER repeats every 256 bytes (W[j] = W[j-64]).
//
// Chunks at any offset: a generator keeps the last L expected bytes (L = 4n for PRBS, 256 for
// COUNTER) as its state. To start at stream offset `o` it jumps the LFSR to bit 8(o - L) (mod the
// period; the state transition is a linear map, so M^P is applied by square-and-multiply with
// precomputed M^(2^k), O(n^2 log P)) and runs it bit by bit for those L bytes. So
// fillPattern(..., offset) costs the same for offset 0 and offset 2^40, and a verifier checks a
// stream arriving in chunks of any size without re-seeding.
//
// In common/ because two layers push these patterns: the channel (the dext generates and verifies)
// and usb/ (the harness drives a device's endpoints itself).

/** A pattern name, seed or offset that does not exist. */
export class PatternError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PatternError';
  }
}

export type PatternName = 'PRBS7' | 'PRBS15' | 'PRBS31' | 'COUNTER' | 'ZEROS';
export const PATTERN_NAMES: readonly PatternName[] = ['PRBS7', 'PRBS15', 'PRBS31', 'COUNTER', 'ZEROS'];

const LFSR: Record<'PRBS7' | 'PRBS15' | 'PRBS31', { n: number; m: number }> = {
  PRBS7: { n: 7, m: 6 }, PRBS15: { n: 15, m: 14 }, PRBS31: { n: 31, m: 28 },
};

/** 'prbs31', 'PRBS31', 'PATTERN_PRBS31' or the Pattern enum number (3) → 'PRBS31'. */
export function patternName(pattern: string | number): PatternName {
  if (typeof pattern === 'number' && Number.isInteger(pattern) && pattern >= 1 && pattern <= PATTERN_NAMES.length) {
    return PATTERN_NAMES[pattern - 1]!;
  }
  const name = String(pattern).trim().toUpperCase().replace(/^PATTERN_/, '');
  if ((PATTERN_NAMES as readonly string[]).includes(name)) return name as PatternName;
  throw new PatternError(`unknown test pattern '${pattern}'; one of ${PATTERN_NAMES.join(', ')}`);
}

export interface PatternGenerator {
  /** Writes the next target.length bytes of the stream. */
  fill(target: Uint8Array): void;
  /** Stream offset of the next byte. */
  readonly offset: number;
}

export interface PatternVerifierResult {
  bytes: number;
  /** Mismatched bytes. */
  errors: number;
  /** Stream offset of the first mismatched byte, null when errors is 0. */
  firstErrorOffset: number | null;
}

export interface PatternVerifier {
  push(chunk: Uint8Array): void;
  result(): PatternVerifierResult;
}

const BLOCK_BYTES = 64 * 1024; // scratch stays in L2 cache

/** Writes bytes [offset, offset + target.length) of the stream into target. */
export function fillPattern(pattern: string | number, seed: number | bigint, target: Uint8Array, offset: number | bigint = 0): void {
  createPatternGenerator(pattern, seed, offset).fill(target);
}

export function createPatternGenerator(pattern: string | number, seed: number | bigint, offset: number | bigint = 0): PatternGenerator {
  return new WordStream(patternName(pattern), checkSeed(seed), checkOffset(offset));
}

/** Checks every byte of a stream that arrives in chunks against the pattern (from `offset`). */
export function createPatternVerifier(pattern: string | number, seed: number | bigint, offset: number | bigint = 0): PatternVerifier {
  const stream = new WordStream(patternName(pattern), checkSeed(seed), checkOffset(offset));
  const start = stream.offset;
  let errors = 0;
  let firstErrorOffset: number | null = null;
  return {
    push(chunk) {
      for (let pos = 0; pos < chunk.length; pos += BLOCK_BYTES) {
        const received = chunk.subarray(pos, Math.min(pos + BLOCK_BYTES, chunk.length));
        const at = stream.offset;
        const expected = stream.nextBlock(received.length);
        if (Buffer.compare(expected, received) === 0) continue; // memcmp: the common, fast case
        for (let i = 0; i < received.length; i++) {
          if (received[i] !== expected[i]) {
            if (firstErrorOffset === null) firstErrorOffset = at + i;
            errors++;
          }
        }
      }
    },
    result: () => ({ bytes: stream.offset - start, errors, firstErrorOffset }),
  };
}

function checkSeed(seed: number | bigint): bigint {
  const value = typeof seed === 'bigint' ? seed : Number.isSafeInteger(seed) ? BigInt(seed) : -1n;
  if (value < 0n || value >= 1n << 64n) throw new PatternError(`pattern seed ${seed} is not a uint64`);
  return value;
}

function checkOffset(offset: number | bigint): number {
  const value = Number(offset);
  if (!Number.isSafeInteger(value) || value < 0) throw new PatternError(`pattern offset ${offset} is not a byte offset`);
  return value;
}

/** The stream from some offset on, produced in blocks into an aligned scratch buffer. */
class WordStream implements PatternGenerator {
  offset: number;
  /** Bytes [0, historyBytes) hold the last historyBytes expected bytes; blocks are generated after them. */
  private readonly scratch8: Uint8Array;
  private readonly scratch32: Uint32Array;
  private readonly historyBytes: number;
  private readonly lagA: number; // in words
  private readonly lagB: number; // in words; 0 = no second term

  constructor(private readonly pattern: PatternName, seed: bigint, offset: number) {
    this.offset = offset;
    if (pattern === 'ZEROS') [this.historyBytes, this.lagA, this.lagB] = [0, 0, 0];
    else if (pattern === 'COUNTER') [this.historyBytes, this.lagA, this.lagB] = [256, 64, 0];
    else {
      const { n, m } = LFSR[pattern];
      [this.historyBytes, this.lagA, this.lagB] = [4 * n, n, m];
    }
    const buffer = new ArrayBuffer(this.historyBytes + BLOCK_BYTES);
    this.scratch8 = new Uint8Array(buffer);
    this.scratch32 = new Uint32Array(buffer);
    if (pattern === 'COUNTER') {
      const base = Number(seed & 0xffn) + offset - this.historyBytes;
      for (let i = 0; i < this.historyBytes; i++) this.scratch8[i] = (((base + i) % 256) + 256) % 256;
    } else if (pattern !== 'ZEROS') {
      const { n, m } = LFSR[pattern];
      const period = (1n << BigInt(n)) - 1n;
      const startBit = (((BigInt(offset) - BigInt(this.historyBytes)) * 8n) % period + period) % period;
      let state = lfsrJump(pattern, seedState(seed, n), startBit);
      for (let i = 0; i < this.historyBytes; i++) {
        let byte = 0;
        for (let b = 0; b < 8; b++) {
          const bit = ((state >>> (n - 1)) ^ (state >>> (m - 1))) & 1;
          state = ((state << 1) | bit) & (2 ** n - 1);
          byte = (byte << 1) | bit;
        }
        this.scratch8[i] = byte;
      }
    }
  }

  fill(target: Uint8Array): void {
    for (let pos = 0; pos < target.length; pos += BLOCK_BYTES) {
      const length = Math.min(BLOCK_BYTES, target.length - pos);
      target.set(this.nextBlock(length), pos);
    }
  }

  /** The next `length` (<= BLOCK_BYTES) bytes, as a view valid until the next call. */
  nextBlock(length: number): Uint8Array {
    const h = this.historyBytes;
    const s8 = this.scratch8;
    if (this.pattern === 'ZEROS') {
      s8.fill(0, 0, length);
    } else {
      const s32 = this.scratch32;
      const first = h >>> 2;
      const end = first + (length >>> 2);
      const a = this.lagA;
      const b = this.lagB;
      if (b === 0) for (let j = first; j < end; j++) s32[j] = s32[j - a]!;
      else for (let j = first; j < end; j++) s32[j] = s32[j - a]! ^ s32[j - b]!;
      // A length that is not a whole number of words: the same recurrence on bytes.
      const a8 = 4 * a;
      const b8 = 4 * b;
      for (let k = h + (length & ~3); k < h + length; k++) s8[k] = b === 0 ? s8[k - a8]! : s8[k - a8]! ^ s8[k - b8]!;
    }
    this.offset += length;
    const block = s8.subarray(h, h + length);
    // The new history is the last h bytes produced (memmove semantics when length < h).
    if (h > 0) s8.copyWithin(0, length, length + h);
    return block;
  }
}

function seedState(seed: bigint, n: number): number {
  const state = Number(seed & ((1n << BigInt(n)) - 1n));
  return state === 0 ? 2 ** n - 1 : state; // an all-zero LFSR stays zero: PATTERNS.md's seed rule
}

/** powers[k] = columns of M^(2^k), M the one-step state transition (a linear map over GF(2)). */
const jumpTables = new Map<string, number[][]>();

function lfsrJump(pattern: 'PRBS7' | 'PRBS15' | 'PRBS31', state: number, steps: bigint): number {
  const { n, m } = LFSR[pattern];
  let powers = jumpTables.get(pattern);
  if (!powers) {
    const mask = 2 ** n - 1;
    const step: number[] = [];
    for (let i = 0; i < n; i++) {
      const s = 1 << i;
      const bit = ((s >>> (n - 1)) ^ (s >>> (m - 1))) & 1;
      step.push(((s << 1) | bit) & mask);
    }
    powers = [step];
    for (let k = 1; k < n; k++) {
      const prev = powers[k - 1]!;
      powers.push(prev.map((column) => applyMatrix(prev, column)));
    }
    jumpTables.set(pattern, powers);
  }
  for (let k = 0; steps > 0n; k++, steps >>= 1n) {
    if (steps & 1n) state = applyMatrix(powers[k]!, state);
  }
  return state;
}

function applyMatrix(columns: number[], vector: number): number {
  let out = 0;
  for (let i = 0; vector !== 0; i++, vector >>>= 1) if (vector & 1) out ^= columns[i]!;
  return out;
}
