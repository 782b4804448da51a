import { mongo } from 'mongoose';

/**
 * Which backing service an error says is away, if any: the API answers such errors with a typed,
 * retryable SERVICE_UNAVAILABLE (503) naming it, never a 500 with a driver's text.
 */
export function unavailableService(error: unknown): 'Redis' | 'MongoDB' | undefined {
  if (!(error instanceof Error)) return undefined;
  if (
    error instanceof mongo.MongoServerSelectionError ||
    error instanceof mongo.MongoNetworkError ||
    error instanceof mongo.MongoTopologyClosedError ||
    error instanceof mongo.MongoNotConnectedError
  ) {
    return 'MongoDB';
  }
  // ioredis fails a command it could not send (Redis away) with these; they are not exported as classes.
  if (error.name === 'MaxRetriesPerRequestError' || error.message === 'Connection is closed.' || /Stream isn't writeable/.test(error.message)) return 'Redis';
  return undefined;
}
