/**
 * jaga's error hierarchy (CONVENTIONS.md rule 6). Every error has a stable `code` and may wrap a
 * `cause`. Parse failures are values (`ParseFailure`), not errors.
 */
export class JagaError extends Error {
  constructor(
    /** stable machine-readable code, e.g. `E_CONFIG` */
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad operator input: a config value, a CLI option, an unreadable file. Lists every problem. */
export class ConfigError extends JagaError {
  constructor(
    message: string,
    /** every problem found, each naming its file/field path */
    readonly problems: string[] = [message],
    options?: { cause?: unknown },
  ) {
    super('E_CONFIG', message, options);
  }
}

/** A rule file that failed to load: names the file, rule id and field path. */
export class RuleLoadError extends JagaError {
  constructor(
    message: string,
    readonly problems: string[] = [message],
    options?: { cause?: unknown },
  ) {
    super('E_RULE_LOAD', message, options);
  }
}

/** A store operation failed; `transient` says whether a retry may succeed (from the SQLSTATE class). */
export class StoreError extends JagaError {
  constructor(
    message: string,
    readonly transient: boolean,
    readonly sqlstate: string | null = null,
    options?: { cause?: unknown },
  ) {
    super('E_STORE', message, options);
  }
}

/** A notification delivery attempt failed; `retryAfterMs` when the receiver said when to retry. */
export class DeliveryError extends JagaError {
  constructor(
    message: string,
    readonly transient: boolean,
    readonly retryAfterMs: number | null = null,
    options?: { cause?: unknown },
  ) {
    super('E_DELIVERY', message, options);
  }
}
