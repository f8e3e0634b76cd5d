import { z } from 'zod';
import { StepFailure } from './context.ts';
import { defineStep } from './step.ts';

// A value may come from an earlier result (`${res.durationMs}`), which arrives as a string.
const numeric = z.union([z.number(), z.string().regex(/^-?\d+(\.\d+)?(e-?\d+)?$/i, 'expected a number')]).transform(Number);

export default defineStep({
  kind: 'measure',
  summary: 'Record a named measurement (shown in the JUnit properties and the HTML report); fail outside min/max.',
  schema: z.strictObject({
    name: z.string().regex(/^[A-Za-z][\w.-]*$/, 'a name of letters, digits, _ . -'),
    value: numeric,
    unit: z.string().optional(),
    min: z.number().optional(),
    max: z.number().optional(),
  }),
  async run(args, ctx) {
    ctx.measure(args);
    const unit = args.unit ? ` ${args.unit}` : '';
    if (args.min !== undefined && args.value < args.min) throw new StepFailure(`${args.name} = ${args.value}${unit}, below min ${args.min}${unit}`);
    if (args.max !== undefined && args.value > args.max) throw new StepFailure(`${args.name} = ${args.value}${unit}, above max ${args.max}${unit}`);
    return { name: args.name, value: args.value, unit: args.unit };
  },
});
