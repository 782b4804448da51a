import { describe, expect, it } from 'vitest';
import { mongo } from 'mongoose';
import { classifyStreamError } from '../../server/src/feed/change-stream.ts';

/** A server's error reply, as the driver turns it into an error (the driver's own class, as it reaches the watcher). */
const serverError = (reply: { code?: number; codeName?: string; errmsg: string; errorLabels?: string[] }) => new mongo.MongoServerError(reply);
const resumedUnanswered = { resumed: true, answered: false };
const running = { resumed: true, answered: true };

describe('classifyStreamError', () => {
  it('reads lost history and unusable tokens from the server codes and the NonResumableChangeStreamError label', () => {
    expect(classifyStreamError(serverError({ code: 286, codeName: 'ChangeStreamHistoryLost', errmsg: 'PlanExecutor error' }), running)).toBe('token-unusable');
    expect(classifyStreamError(serverError({ code: 260, codeName: 'InvalidResumeToken', errmsg: 'x' }), running)).toBe('token-unusable');
    expect(classifyStreamError(serverError({ code: 280, codeName: 'ChangeStreamFatalError', errmsg: 'x' }), running)).toBe('token-unusable');
    expect(classifyStreamError(serverError({ code: 2, errmsg: 'x', errorLabels: ['NonResumableChangeStreamError'] }), running)).toBe('token-unusable');
  });

  it('says so when the deployment has no change streams', () => {
    expect(classifyStreamError(serverError({ code: 40573, errmsg: 'The $changeStream stage is only supported on replica sets' }), running)).toBe('unsupported');
    expect(classifyStreamError(serverError({ code: 40324, errmsg: "Unrecognized pipeline stage name: '$changeStream'" }), running)).toBe('unsupported');
  });

  it('never decides by the message: a resumable error that mentions resuming is reopened from the stored token', () => {
    const hostUnreachable = serverError({ code: 6, errmsg: 'cannot resume: host unreachable', errorLabels: ['ResumableChangeStreamError'] });
    expect(classifyStreamError(hostUnreachable, running)).toBe('transient');
    expect(classifyStreamError(serverError({ code: 11601, errmsg: 'resume token was not found' }), running)).toBe('transient');
  });

  it('treats errors that are no server answer (network, the pull watchdog) as transient', () => {
    expect(classifyStreamError(new mongo.MongoNetworkError('connection 3 to 127.0.0.1:27017 closed'), resumedUnanswered)).toBe('transient');
    expect(classifyStreamError(new mongo.MongoNetworkTimeoutError('connection timed out'), resumedUnanswered)).toBe('transient');
    expect(classifyStreamError(new Error('no answer from the change stream in 15000 ms'), resumedUnanswered)).toBe('transient');
  });

  it("takes mongo-java-server's codeless refusal of a resumed stream's first pull as an unusable token, and only that", () => {
    const codeless = serverError({ errmsg: 'Unknown error: For input string: "8263F1A2B3" under radix 16' });
    expect(classifyStreamError(codeless, resumedUnanswered)).toBe('token-unusable');
    expect(classifyStreamError(codeless, running)).toBe('transient');
    expect(classifyStreamError(codeless, { resumed: false, answered: false })).toBe('transient');
  });
});
