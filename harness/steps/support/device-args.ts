// `plug: echo` or `plug: { device: echo, within: 5s }`: device steps accept both forms.
import { z } from 'zod';
import { duration } from '../../scenario/index.ts';

export function deviceArgs<Extra extends z.ZodRawShape>(extra: Extra) {
  return z.union([
    z.string().min(1),
    z.strictObject({ device: z.string().min(1), within: duration.optional(), ...extra }),
  ]).transform((v) => (typeof v === 'string' ? { device: v } : v) as { device: string; within?: number } & z.output<z.ZodObject<Extra>>);
}
