// The four classes of a scenario's failure (shared/reference/nightly-ops.md §1). In common/ so that
// every layer can name one: a step that knows its failure's class, the rig's health, the history.
// The engine decides the class of an error: engine/failure-class.ts.
export const FAILURE_CLASSES = ['infrastructure', 'configuration', 'product', 'harness'] as const;

/**
 * - infrastructure: the rig failed (unreachable, hub or port, sim or bridge died, lease lost, the Mac needs approval);
 * - configuration: a bad rig or scenario;
 * - product: the driver or extension did something wrong (an expect failed, a crash, a wrong value, an io error);
 * - harness: dextbench's own bug.
 */
export type FailureClass = typeof FAILURE_CLASSES[number];

export function isFailureClass(value: unknown): value is FailureClass {
  return typeof value === 'string' && (FAILURE_CLASSES as readonly string[]).includes(value);
}
