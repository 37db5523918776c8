// The one kind of error a service throws for something the caller can act on: bad input the
// schemas cannot see, a thing that does not exist, a conflict, a part that is not running or
// not installed here, a setting that forbids it, a service relied on that failed. HTTP maps
// each kind to its status once (src/http/errors.ts); services never speak HTTP.
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
    /** The input field at fault, when one is. */
    readonly field?: string,
    /** Each of several fields at fault, with what is wrong with it (takes the place of `field`). */
    readonly fields?: Record<string, string>,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}
