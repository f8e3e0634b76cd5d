// Network Extension actions and observations on the Mac: connection attempts (curl / nc / dig)
// classified into outcomes, and a content filter's verdicts from its unified log lines.
export { curlUrl, digLookup, ncConnect, type AttemptResult, type LookupResult } from './attempts.ts';
export { classifyCurl, classifyDig, classifyNc, digAddresses, FLOW_OUTCOMES, type Classified, type FlowOutcome, type ToolExit } from './outcome.ts';
export {
  describeVerdict, FLOWGATE_BUNDLE, FLOWGATE_CATEGORY, parseFlowGateMessage, verdictMismatches, verdictPredicate,
  type DnsVerdict, type FlowGateLine, type FlowGateStarted, type FlowVerdict, type Verdict, type VerdictMatch,
} from './flowgate-log.ts';
export { VerdictStream, type VerdictLine } from './verdict-stream.ts';
