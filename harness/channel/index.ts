// The channel to a driver under test: framing, the protobuf codec, the client over the bridge's
// stdio, and the IoStart test patterns.
export { encodeFrame, FrameDecoder, MAX_MESSAGE_BYTES } from './framing.ts';
export { loadChannelCodec, channelProtoDir } from './codec.ts';
export type { ChannelCodec, LoadChannelCodecOptions, PlainMessage } from './codec.ts';
export { ChannelClient, CHANNEL_PROTOCOL_VERSION } from './client.ts';
export type {
  BridgeInfo, CallOptions, ChannelEvent, ChannelEventItem, ChannelTransport, ConnectOptions, EventGap, ServerInfo,
  TerminationInfo,
} from './client.ts';
export { openBridge, bridgeTransport, bridgeArgv } from './bridge.ts';
export type { OpenBridgeOptions } from './bridge.ts';
export {
  createPatternGenerator, createPatternVerifier, fillPattern, patternName, PATTERN_NAMES,
} from './patterns.ts';
export type { PatternGenerator, PatternName, PatternVerifier, PatternVerifierResult } from './patterns.ts';
export {
  BridgeExitedError, BridgeNotFoundError, CallFailedError, CallTimeoutError, ChannelClosedError, ChannelCodecError,
  ChannelError, ConnectTimeoutError, MalformedFrameError, NoMatchingServiceError, NotPermittedError,
  ProtocolMismatchError, ServiceTerminatedError, STATUS_CODE_NAMES, statusCodeName,
} from './errors.ts';
