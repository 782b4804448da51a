import { z } from 'zod';

export const ROLES = ['staff', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Claims slotcast reads from a bearer token. */
export const tokenClaimsSchema = z.object({
  sub: z.string().min(1).max(128),
  roles: z.array(z.string()).max(16).default([]),
});
export type TokenClaims = z.infer<typeof tokenClaimsSchema>;
