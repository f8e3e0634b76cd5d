// A small step registry for the scenario loader's tests (the real one lives in harness/steps).
import { z } from 'zod';
import { duration, type StepSchemas } from '../../../harness/scenario/index.ts';

const device = z.union([
  z.string().min(1),
  z.strictObject({ device: z.string().min(1), within: duration.optional(), userClass: z.string().min(1).optional() }),
]).transform((v) => (typeof v === 'string' ? { device: v } : v));

export const testSteps: StepSchemas = new Map<string, { schema: z.ZodType; summary: string }>([
  ['plug', { schema: device, summary: 'Power the device\'s hub port on.' }],
  ['unplug', { schema: device, summary: 'Power the device\'s hub port off.' }],
  ['wait', { schema: duration, summary: 'Pause for a duration.' }],
  ['expect.matched', { schema: device, summary: 'Wait until the driver matched.' }],
  ['measure', {
    schema: z.strictObject({
      name: z.string().min(1),
      value: z.union([z.number(), z.string().regex(/^-?\d+(\.\d+)?$/, 'expected a number')]).transform(Number),
    }),
    summary: 'Record a measurement.',
  }],
  ['note', { schema: z.string(), summary: 'Write a note on the timeline.' }],
]);
