// One error for what a service refuses, by kind; src/http/errors.ts maps each kind to a status
// once, so routes throw nothing of their own and a service never names an HTTP status.
// `field` names the request field at fault, when one is; `fields`, each of several.

export type DomainErrorKind =
  | 'invalid'
  | 'not_found'
  | 'conflict'
  | 'not_running'
  | 'not_installed'
  /** Refused by a setting (a feature turned off), or a credential the action needs is missing. */
  | 'forbidden'
  /** A service token-api relies on (Obsidian's plugin) did not answer, or answered wrongly. */
  | 'bad_gateway';

export class DomainError extends Error {
  constructor(
    readonly kind: DomainErrorKind,
    message: string,
    readonly field?: string,
    readonly fields?: Record<string, string>,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}
