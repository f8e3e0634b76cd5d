// YAML → typed, validated Scenario / RigDefinition / DeviceProfile, with every problem pinned to
// file:line:col; JSON Schemas for editors from the same zod schemas.
export { extensionsOnRig, loadScenario, scenarioSchema, type Scenario, type LoadScenarioOptions } from './scenario.ts';
export { loadRig, rigSchema, type LoadRigOptions } from './rig.ts';
export { loadDeviceProfile, deviceSchema } from './device.ts';
export { detectDocumentKind, validateFiles, type DocumentKind, type ValidateOptions } from './validate.ts';
export { scenarioJsonSchema, rigJsonSchema, deviceJsonSchema } from './json-schema.ts';
export { stepCommonShape, type StepSchemas, type ScenarioStep, type SourceLocation } from './steps.ts';
export { ValidationError, formatIssue, didYouMean, editDistance, type ValidationIssue } from './issues.ts';
export { duration, parseDuration, byteSize, parseByteSize, DURATION_PATTERN } from './units.ts';
export { interpolateResults, DeferredStepArgs } from './variables.ts';
export { borrowedExtensions, rigsWithNeeds, type RigNeeds } from './device-roles.ts';
export { projectPath, relocatedYaml, resolvedRigYaml, resolvedScenarioYaml } from './resolved.ts';
