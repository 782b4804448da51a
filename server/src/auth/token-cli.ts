import { parseArgs } from 'node:util';
import { ROLES, type Role } from '@slotcast/shared';
import { Tokens } from './tokens.ts';

const USAGE = 'usage: npm run token -- --sub <userId> [--roles staff,admin] [--expires 12h]';
const HELP = `${USAGE}

Prints a bearer token for the hub's tRPC and Socket.IO APIs, signed (HS256) with JWT_SECRET, which
must be the hub's own secret (at least 32 characters). A hub started without JWT_SECRET signs with a
random secret of its own and prints a sample admin token instead; tokens from here do not fit it.

  --sub <userId>     the user the token speaks for (its sub claim); required
  --roles <list>     comma-separated roles: ${ROLES.join(', ')} (none: a plain user)
  --expires <span>   lifetime such as 30m, 12h or 7d (default 12h)
  -h, --help         this text

Runs from the repository root or server/; from anywhere else: npm --prefix <repository> run token -- ...`;

/** A mistake in how the command was called: one line, the usage, exit 1. */
function refuse(problem: string): never {
  console.error(`${problem}; ${USAGE}`);
  process.exit(1);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      sub: { type: 'string' },
      roles: { type: 'string', default: '' },
      expires: { type: 'string', default: '12h' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }));
} catch (error) {
  // Node's argument errors (unknown option, missing value, stray argument) are for the user, not a stack.
  if (!(error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))) throw error;
  refuse(error.message);
}
if (values.help) {
  console.log(HELP);
  process.exit(0);
}
if (!values.sub?.trim()) refuse('--sub is required');
const roles = values.roles.split(',').map((role) => role.trim()).filter(Boolean);
const unknown = roles.filter((role) => !(ROLES as readonly string[]).includes(role));
if (unknown.length > 0) refuse(`unknown role ${unknown.join(', ')}: roles are ${ROLES.join(', ')}`);
const secret = process.env.JWT_SECRET;
if (!secret || secret.length < 32) {
  console.error('JWT_SECRET must be set (at least 32 characters): without it the hub makes a random secret and prints a sample token at start.');
  process.exit(1);
}

let token: string;
try {
  token = await new Tokens(secret).sign({ sub: values.sub, roles: roles as Role[] }, values.expires);
} catch (error) {
  // jose refuses a lifetime it cannot read with a TypeError naming the format.
  if (!(error instanceof TypeError && /time period/i.test(error.message))) throw error;
  refuse(`--expires must be a span such as 30m, 12h or 7d (got "${values.expires}")`);
}
console.log(token);
