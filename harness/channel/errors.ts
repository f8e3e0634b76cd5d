// Channel errors: each is one line a person can act on. `ChannelError` is the common base so a
// caller can tell channel trouble from its own bugs.

export class ChannelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bytes on the stream break FRAMING A (varint > 3 bytes, length 0 or > 16384, stream ends inside a frame). */
export class MalformedFrameError extends ChannelError {}

/** The bridge command is not there (exit 127, or the local spawn failed with ENOENT/EACCES). */
export class BridgeNotFoundError extends ChannelError {}

/** The bridge found no unique service to open (OPEN_FAILED frame or exit 69). */
export class NoMatchingServiceError extends ChannelError {}

/** IOServiceOpen said kIOReturnNotPermitted (exit 77): the userclient-access entitlement is missing. */
export class NotPermittedError extends ChannelError {}

/** The bridge exited for a reason none of the classes above names (usage error, I/O error, crash). */
export class BridgeExitedError extends ChannelError {
  constructor(message: string, readonly exitCode: number | null, readonly signal: string | null) {
    super(message);
  }
}

/** The server's Hello answer is missing, refused, or too old for this client. */
export class ProtocolMismatchError extends ChannelError {}

/** The service terminated (dext crash, unplug): TERMINATED frame or bridge exit 2. */
export class ServiceTerminatedError extends ChannelError {}

/** A call got no answer before its deadline. */
export class CallTimeoutError extends ChannelError {
  constructor(readonly method: string, readonly id: bigint, readonly timeoutMs: number) {
    super(`channel call ${method} (id ${id}) got no answer within ${timeoutMs} ms`);
  }
}

/** The server answered a call with a non-OK status. */
export class CallFailedError extends ChannelError {
  constructor(readonly method: string, readonly code: number, readonly codeName: string, readonly detail: string) {
    super(`channel call ${method} failed: ${codeName} (${code})${detail ? `: ${detail}` : ''}`);
  }
}

/** The client was closed (by close(), or the bridge ended the session normally). */
export class ChannelClosedError extends ChannelError {}

/** Status codes from channel.proto (Status.code). */
export const STATUS_CODE_NAMES: readonly string[] = [
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS',
  'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE',
  'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE',
];

/** A newer server may send a code this table does not know: it still gets a readable name. */
export function statusCodeName(code: number): string {
  return STATUS_CODE_NAMES[code] ?? `STATUS_${code}`;
}

/** Bad input to the codec (unknown field, value out of range, unknown message type) or an undecodable message. */
export class ChannelCodecError extends ChannelError {}

/** The bridge did not report OPENED, or Hello got no answer, before the connect deadline. */
export class ConnectTimeoutError extends ChannelError {}
