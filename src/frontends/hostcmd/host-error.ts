// A host-command fault found by the front end itself (framing, field syntax, an unsupported option),
// carrying the two-digit payShield error code to answer. The boundary's HsmError codes are mapped
// separately (error-codes.ts); `detail` is for the operator's log, never sent on the wire.

export class HostError extends Error {
  override readonly name = 'HostError';
  constructor(
    readonly code: string,
    readonly detail?: string,
  ) {
    super(detail ? `host command error ${code}: ${detail}` : `host command error ${code}`);
  }
}
