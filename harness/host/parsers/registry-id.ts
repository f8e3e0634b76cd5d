/**
 * Parses an IORegistry entry id as printed by `ioreg` (`id 0x100000a45`) or in a `DK:` kernel line
 * (`-0x100000a45`), exactly. Also accepts bare hex digits (the `waiting for server %s-%llx` quirk)
 * when `bareHex` is set, and decimal digits otherwise.
 *
 * @throws Error when the text is not an id.
 */
export function parseRegistryId(text: string, options: { bareHex?: boolean } = {}): bigint {
  const trimmed = text.trim();
  if (/^0x[0-9a-f]+$/i.test(trimmed)) return BigInt(trimmed.toLowerCase());
  if (options.bareHex && /^[0-9a-f]+$/i.test(trimmed)) return BigInt(`0x${trimmed}`);
  if (/^\d+$/.test(trimmed)) return BigInt(trimmed);
  throw new Error(`not an IORegistry id: "${trimmed.slice(0, 40)}"`);
}

/** Formats a registry id the way ioreg and the kernel print it: `0x` + lowercase hex. */
export function formatRegistryId(id: bigint): string {
  return `0x${id.toString(16)}`;
}
