/** Raised by the engine for ids or keys that do not exist; the API turns it into NOT_FOUND. */
export class NotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}
