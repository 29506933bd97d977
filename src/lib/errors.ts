// Typed errors. Each carries enough context to be counted by kind and exporter without parsing messages.

export class FlowbridgeError extends Error {
  /** Whether retrying the same operation later may succeed (network, server down). */
  readonly retriable: boolean;
  constructor(message: string, retriable = false) {
    super(message);
    this.name = new.target.name;
    this.retriable = retriable;
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

/** Stable names used as the `kind` label of decode-error counters. */
export type DecodeErrorKind =
  | 'truncated'
  | 'bad_length'
  | 'bad_count'
  | 'unknown_version'
  | 'template_missing'
  | 'bad_template'
  | 'unsupported_field_length'
  | 'unsupported_format';

export class DecodeError extends FlowbridgeError {
  readonly kind: DecodeErrorKind;
  exporter = '';
  version = 0;
  domain = -1;
  templateId = -1;
  constructor(kind: DecodeErrorKind, message: string) {
    // No stack: a decode error is about the wire, not the code, and capturing one costs ~20 µs, which a
    // flood of garbage would pay per datagram (10 % of the collector's time in the hostile drill).
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
    this.kind = kind;
  }
  /** Fills in context the low-level thrower did not know; returns this for `throw e.at(...)`. */
  at(exporter: string, version: number, domain = -1, templateId = -1): this {
    if (!this.exporter) this.exporter = exporter;
    if (!this.version) this.version = version;
    if (this.domain < 0) this.domain = domain;
    if (this.templateId < 0) this.templateId = templateId;
    return this;
  }
}

export class TruncatedError extends DecodeError {
  constructor(readonly offset: number, readonly needed: number, readonly left: number) {
    super('truncated', `truncated: need ${needed} byte(s) at offset ${offset}, ${left} left`);
  }
}

export class TemplateMissingError extends DecodeError {
  constructor(version: number, domain: number, templateId: number) {
    super('template_missing', `no template ${templateId} (version ${version}, domain ${domain})`);
    this.version = version;
    this.domain = domain;
    this.templateId = templateId;
  }
}

/** A bad configuration value: names the key, the value and the expected form. Exit status 2. */
export class ConfigError extends FlowbridgeError {
  constructor(readonly key: string, message: string) {
    super(message);
  }
}
