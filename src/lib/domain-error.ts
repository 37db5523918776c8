// The one kind of error a service throws for something the caller can act on: bad input the
// schemas cannot see, a thing that does not exist, a conflict, a thing that is over (gone), a part that is not running or
// not installed here. HTTP maps each kind to its status once (src/http/errors.ts); services
// never speak HTTP.
export type DomainErrorKind = 'invalid' | 'not_found' | 'conflict' | 'gone' | 'not_running' | 'not_installed';

export class DomainError extends Error {
  constructor(
    readonly kind: DomainErrorKind,
    message: string,
    /** The input field at fault, when one is. */
    readonly field?: string,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}
