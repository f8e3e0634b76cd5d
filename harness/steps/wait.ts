import { duration } from '../scenario/index.ts';
import { defineStep } from './step.ts';
import { sleep } from '../common/time.ts';

export default defineStep({
  kind: 'wait',
  summary: 'Pause for a duration, e.g. `wait: 300ms`.',
  schema: duration,
  async run(ms) {
    await sleep(ms);
    return { waitedMs: ms };
  },
});
