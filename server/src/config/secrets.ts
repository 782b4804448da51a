// Secrets must never reach a terminal or a log: configuration errors and start-up lines pass through here.

/** `user:password@` of a URL-like value, up to its last `@` (an unescaped `@` in a password included). */
const USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)?.*@/i;

/** The URI with its credentials replaced by `***`, for messages: hosts and options stay readable. */
export function maskCredentials(uri: string): string {
  return uri.replace(USERINFO, (_, scheme: string | undefined) => `${scheme ?? ''}***@`);
}

/** The secret parts of a URI's credentials (the whole userinfo, the password as written and decoded). */
export function credentialsOf(uri: string | undefined): string[] {
  const found = uri === undefined ? null : USERINFO.exec(uri);
  if (!found) return [];
  const userinfo = found[0].slice((found[1] ?? '').length, -1);
  const password = userinfo.includes(':') ? userinfo.slice(userinfo.indexOf(':') + 1) : '';
  let decoded = password;
  try {
    decoded = decodeURIComponent(password);
  } catch (error) {
    // A malformed escape is shown masked as written; the decoded form does not exist.
    if (!(error instanceof URIError)) throw error;
  }
  return [userinfo, password, decoded].filter((secret) => secret !== '');
}

/** `text` with every occurrence of each secret replaced by `***`, longest first so no part of one survives. */
export function redact(text: string, secrets: readonly string[]): string {
  return [...secrets].sort((a, b) => b.length - a.length).reduce((result, secret) => result.split(secret).join('***'), text);
}

/** Every secret a configuration holds: the JWT secret and the credentials in its URLs. */
export function secretsOf(config: { JWT_SECRET?: string; MONGODB_URI?: string; REDIS_URL?: string }): string[] {
  return [...(config.JWT_SECRET ? [config.JWT_SECRET] : []), ...credentialsOf(config.MONGODB_URI), ...credentialsOf(config.REDIS_URL)];
}
