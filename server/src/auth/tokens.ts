import { randomBytes } from 'node:crypto';
import { SignJWT, jwtVerify, errors } from 'jose';
import { ROLES, tokenClaimsSchema, type Role } from '@slotcast/shared';

/** Who a verified token speaks for. */
export interface Principal {
  userId: string;
  roles: ReadonlySet<Role>;
  /** Seconds since the epoch; undefined for tokens without `exp`. */
  expiresAt?: number;
}

export class AuthError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AuthError';
  }
}

/** Tokens are parsed only to this size; a longer header is refused before any crypto. */
const MAX_TOKEN_LENGTH = 4096;

/** HS256 bearer tokens: verifies (only HS256, so `alg: none` and RS/ES confusion are refused) and signs. */
export class Tokens {
  private readonly key: Uint8Array;

  constructor(secret: string) {
    this.key = new TextEncoder().encode(secret);
  }

  static randomSecret(): string {
    return randomBytes(32).toString('base64url');
  }

  async verify(token: string): Promise<Principal> {
    if (token.length > MAX_TOKEN_LENGTH) throw new AuthError('token is too long');
    try {
      const { payload } = await jwtVerify(token, this.key, { algorithms: ['HS256'] });
      const claims = tokenClaimsSchema.safeParse(payload);
      if (!claims.success) throw new AuthError('token claims are invalid (need sub and roles)');
      // Unknown roles grant nothing; they are dropped rather than refused.
      const roles = new Set(claims.data.roles.filter((role): role is Role => (ROLES as readonly string[]).includes(role)));
      return { userId: claims.data.sub, roles, expiresAt: payload.exp };
    } catch (error) {
      if (error instanceof AuthError) throw error;
      const reason = error instanceof errors.JWTExpired ? 'token has expired' : 'token is invalid';
      throw new AuthError(reason, { cause: error });
    }
  }

  async sign(claims: { sub: string; roles?: Role[] }, expiresIn: string | number = '12h'): Promise<string> {
    return new SignJWT({ roles: claims.roles ?? [] })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(claims.sub)
      .setIssuedAt()
      .setExpirationTime(expiresIn)
      .sign(this.key);
  }
}

/** The token in `Authorization: Bearer …`, or undefined when there is none. */
export function bearerToken(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  const match = value ? /^Bearer\s+(\S+)\s*$/i.exec(value) : null;
  return match?.[1];
}

export const hasRole = (principal: Principal | null, ...roles: Role[]): boolean =>
  principal !== null && roles.some((role) => principal.roles.has(role));
