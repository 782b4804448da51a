import { inject } from 'vitest';
import { clearOplog } from '../../server/src/devservices/oplog.ts';
import { testServerUri } from '../support/database.ts';

// Every change-stream pull on the wire server scans its whole oplog: each file starts from an
// empty one. Safe because a worker runs one file at a time and this worker's server is its own.
if (inject('mongoIsOurs')) await clearOplog(testServerUri());
