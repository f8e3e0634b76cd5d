// YAML integers past 2^53 as bigints, in every file dextbench reads (yaml.ts): the yaml package
// reads every integer as a JS number, which rounds 9007199254740993 to …992 without a word.
// Scenario values are often 64-bit (registry ids, counters in `expect: { max: … }`, channel call
// arguments), so they must arrive exact; elsewhere a field that wants a number says so.
import { visit, type Document } from 'yaml';

// YAML 1.2 core schema integers; a sign only on decimals.
const INTEGER_LITERAL = /^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$/;

/**
 * Turns integer scalars that a number cannot hold exactly into bigints, in place (keys untouched).
 * A field that wants a plain number then reports the value as not a number instead of rounding it.
 */
export function keepBigIntegersExact(doc: Document.Parsed): void {
  visit(doc, {
    Scalar(key, node) {
      if (key === 'key' || typeof node.value !== 'number' || !Number.isInteger(node.value) || Number.isSafeInteger(node.value)) return;
      if (node.source !== undefined && INTEGER_LITERAL.test(node.source)) node.value = BigInt(node.source);
    },
  });
}
