// A value in the samples' `key=value` log tokens, as ExecGuard's Policy.swift and FlowGate's
// FlowRules.swift both write it: `-` when empty, `%` as %25, a space as %20, other whitespace and
// control characters as their UTF-8 bytes in %XX (the harness decodes it back as UTF-8).
export function logValue(text: string | null | undefined): string {
  if (!text) return '-';
  return [...text].map((ch) => {
    if (ch === '%') return '%25';
    if (ch === ' ') return '%20';
    if (/\s/u.test(ch) || ch.charCodeAt(0) < 0x20) return [...Buffer.from(ch, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
    return ch;
  }).join('');
}
