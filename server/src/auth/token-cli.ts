import { parseArgs } from 'node:util';
import { ROLES, type Role } from '@slotcast/shared';
import { Tokens } from './tokens.ts';

const { values } = parseArgs({
  options: {
    sub: { type: 'string' },
    roles: { type: 'string', default: '' },
    expires: { type: 'string', default: '12h' },
  },
});
const secret = process.env.JWT_SECRET;
if (!secret || secret.length < 32) {
  console.error('JWT_SECRET must be set (at least 32 characters): without it the hub makes a random secret and prints a sample token at start.');
  process.exit(1);
}
if (!values.sub) {
  console.error('usage: npm run token -- --sub <userId> [--roles staff,admin] [--expires 12h]');
  process.exit(1);
}
const roles = values.roles.split(',').map((role) => role.trim()).filter(Boolean);
const unknown = roles.filter((role) => !(ROLES as readonly string[]).includes(role));
if (unknown.length > 0) {
  console.error(`unknown role ${unknown.join(', ')}: roles are ${ROLES.join(', ')}`);
  process.exit(1);
}
console.log(await new Tokens(secret).sign({ sub: values.sub, roles: roles as Role[] }, values.expires));
