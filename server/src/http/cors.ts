import type { IncomingMessage, ServerResponse } from 'node:http';

/** undefined allows any origin (development); otherwise only the listed ones. */
export function originAllowed(origin: string | undefined, allowed: string[] | undefined): boolean {
  return !origin || !allowed || allowed.includes(origin);
}

/** Sets CORS headers for an allowed origin; answers preflight requests. True when the request was answered. */
export function applyCors(req: IncomingMessage, res: ServerResponse, allowed: string[] | undefined): boolean {
  const origin = req.headers.origin;
  if (origin && originAllowed(origin, allowed)) {
    res.setHeader('access-control-allow-origin', origin);
    res.setHeader('vary', 'Origin');
    res.setHeader('access-control-allow-headers', 'authorization, content-type, trpc-accept, last-event-id');
    res.setHeader('access-control-allow-methods', 'GET, POST, OPTIONS');
    res.setHeader('access-control-max-age', '600');
  }
  if (req.method !== 'OPTIONS') return false;
  res.writeHead(origin && originAllowed(origin, allowed) ? 204 : 403);
  res.end();
  return true;
}
