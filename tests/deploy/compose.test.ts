import { existsSync, readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../server/src/config/env.ts';

/**
 * The deployment files, checked by reading them (there is no Docker engine in CI): the wiring
 * that docker-compose.yml, deploy/nginx.conf and the Dockerfile promise an operator.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string): string => readFileSync(`${ROOT}${path}`, 'utf8');

// ---------------------------------------------------------------------------------------------
// docker-compose.yml

interface Healthcheck {
  test?: string | string[];
  interval?: string;
  timeout?: string;
  retries?: number;
}
interface Service {
  restart?: string;
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: Healthcheck;
  ports?: (string | number | { target?: number | string; published?: number | string })[];
  volumes?: (string | { type?: string; source?: string; target?: string })[];
  stop_grace_period?: string;
}
interface Compose {
  services: Record<string, Service>;
}

// Compose files use YAML merge keys (`<<: *hub`); the yaml package applies them only when asked.
const compose = parse(read('docker-compose.yml'), { merge: true }) as Compose;
const services = compose.services ?? {};

const text = (value: string | string[] | undefined): string => (Array.isArray(value) ? value.join(' ') : (value ?? ''));

function environmentOf(service: Service | undefined): Record<string, string> {
  const env = service?.environment;
  if (!env) return {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((line) => {
        const at = line.indexOf('=');
        return at < 0 ? [line, ''] : [line.slice(0, at), line.slice(at + 1)];
      }),
    );
  }
  return Object.fromEntries(Object.entries(env).map(([key, value]) => [key, value === null ? '' : String(value)]));
}

function dependsOn(service: Service | undefined): Record<string, string | undefined> {
  const deps = service?.depends_on;
  if (!deps) return {};
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((name) => [name, undefined]));
  return Object.fromEntries(Object.entries(deps).map(([name, spec]) => [name, spec?.condition]));
}

/** Services whose image is `name` or `name:tag`. */
const byImage = (name: string) => Object.entries(services).filter(([, s]) => s.image === name || s.image?.startsWith(`${name}:`));

/** The services built from this repository (the hubs). */
const built = Object.entries(services).filter(([, s]) => s.build !== undefined);
const hubs = built.map(([name]) => name).sort();
const hubEnv = (name: string) => environmentOf(services[name]);

/** Go/compose and nginx durations: `20s`, `1m30s`, `500ms`, `1h`; a bare number is seconds (nginx). */
function durationMs(value: string | number | undefined): number {
  if (value === undefined) return NaN;
  const source = String(value).trim();
  if (/^\d+$/.test(source)) return Number(source) * 1000;
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  const parts = [...source.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== source) return NaN;
  return parts.reduce((sum, [, n, unit]) => sum + Number(n) * units[unit!]!, 0);
}

/**
 * Compose interpolation: `${VAR:?msg}` / `${VAR?msg}` need a value (taken from `given`, else the
 * test fails), `${VAR:-default}` / `${VAR-default}` use the default, `${VAR}` / `$VAR` use `given`.
 */
function interpolate(value: string, given: Record<string, string>): string {
  return value.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[?-])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (whole, braced?: string, op?: string, arg?: string, bare?: string) => {
    if (whole === '$$') return '$';
    const name = (braced ?? bare)!;
    if (op?.endsWith('-')) return given[name] ?? arg ?? '';
    if (given[name] === undefined) throw new Error(`no test value for \${${name}}`);
    return given[name]!;
  });
}

/** `mongodb://[user@]host[:port][,host...]/database?options` */
function parseMongoUri(uri: string): { hosts: string[]; database: string; params: URLSearchParams } | undefined {
  const match = /^mongodb:\/\/(?:[^@/]*@)?([^/?]+)\/([^?]*)(?:\?(.*))?$/.exec(uri);
  if (!match) return undefined;
  return { hosts: match[1]!.split(','), database: match[2]!, params: new URLSearchParams(match[3] ?? '') };
}

/** Published host port and container port of `ports` entries such as "8080:80" or { target, published }. */
function portsOf(service: Service | undefined): { published: string; target: string }[] {
  return (service?.ports ?? []).flatMap((entry) => {
    if (typeof entry === 'object') return entry.published === undefined ? [] : [{ published: String(entry.published), target: String(entry.target) }];
    const parts = String(entry).split('/')[0]!.split(':');
    if (parts.length < 2) return [];
    return [{ published: parts.at(-2)!, target: parts.at(-1)! }];
  });
}

const [mongoName, mongo] = byImage('mongo')[0] ?? [];
const [redisName, redis] = byImage('redis')[0] ?? [];
const [nginxName, nginx] = byImage('nginx')[0] ?? [];

describe('docker-compose.yml', () => {
  it('runs MongoDB as a one-node replica set that the hubs connect to by name', () => {
    expect(byImage('mongo')).toHaveLength(1);
    const command = text(mongo?.command);
    const replSet = /--replSet[ =](\S+)/.exec(command)?.[1];
    expect(replSet, 'mongod needs --replSet for change streams').toBeTruthy();

    // The healthcheck initiates the set (on first start) with this service as its only member.
    const probe = text(mongo?.healthcheck?.test);
    expect(probe).toMatch(/rs\.initiate\(/);
    expect(probe).toContain(`_id: '${replSet}'`);
    expect(probe).toContain(`host: '${mongoName}:27017'`);

    expect(hubs.length).toBeGreaterThan(0);
    for (const hub of hubs) {
      const uri = parseMongoUri(hubEnv(hub).MONGODB_URI ?? '');
      expect(uri, `${hub} MONGODB_URI`).toBeDefined();
      expect(uri!.hosts).toContain(`${mongoName}:27017`);
      expect(uri!.params.get('replicaSet'), `${hub} MONGODB_URI replicaSet=`).toBe(replSet);
      expect(uri!.database, `${hub} MONGODB_URI names a database`).toMatch(/^[A-Za-z0-9_-]+$/);
    }
  });

  it('reports MongoDB healthy only once the node is primary (mongosh exits 0 unless told otherwise)', () => {
    const probe = text(mongo?.healthcheck?.test);
    expect(probe).toMatch(/\b(quit|exit)\(\s*[^;]*isWritablePrimary/);
  });

  it('runs Redis with a healthcheck, and the hubs use it', () => {
    expect(byImage('redis')).toHaveLength(1);
    const probe = text(redis?.healthcheck?.test);
    expect(probe).toMatch(/redis-cli/);
    expect(probe).toMatch(/\bping\b/i);
    for (const hub of hubs) {
      const url = new URL(hubEnv(hub).REDIS_URL ?? 'invalid:');
      expect(url.protocol).toBe('redis:');
      expect(url.hostname, `${hub} REDIS_URL`).toBe(redisName);
    }
  });

  it("has exactly two hub services, both built from the repository's Dockerfile", () => {
    expect(hubs).toEqual(['hub-a', 'hub-b']);
    for (const hub of hubs) {
      const build = services[hub]!.build!;
      const context = typeof build === 'string' ? build : (build.context ?? '.');
      const dockerfile = typeof build === 'string' ? 'Dockerfile' : (build.dockerfile ?? 'Dockerfile');
      expect(posix.normalize(context), `${hub} build context`).toBe('.');
      expect(dockerfile).toBe('Dockerfile');
      expect(existsSync(`${ROOT}${dockerfile}`)).toBe(true);
    }
  });

  it('gives the hubs distinct INSTANCE_IDs and the same Redis and MongoDB', () => {
    const envs = hubs.map(hubEnv);
    expect(envs).toHaveLength(2);
    const ids = envs.map((env) => env.INSTANCE_ID);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9._:-]{1,64}$/);
    expect(new Set(ids).size).toBe(envs.length);
    expect(new Set(envs.map((env) => env.REDIS_URL)).size).toBe(1);
    expect(new Set(envs.map((env) => env.MONGODB_URI)).size).toBe(1);
    // Several deployments may share one Redis only through the prefix; the hubs must agree on it.
    expect(new Set(envs.map((env) => env.REDIS_KEY_PREFIX)).size).toBe(1);
  });

  it('requires JWT_SECRET from the environment rather than shipping one', () => {
    for (const hub of hubs) {
      expect(hubEnv(hub).JWT_SECRET, hub).toMatch(/^\$\{JWT_SECRET:\?[^}]+\}$/);
    }
  });

  it('starts the hubs only after MongoDB and Redis are healthy', () => {
    for (const hub of hubs) {
      const deps = dependsOn(services[hub]);
      expect(deps[mongoName!], `${hub} -> ${mongoName}`).toBe('service_healthy');
      expect(deps[redisName!], `${hub} -> ${redisName}`).toBe('service_healthy');
    }
  });

  it("checks each hub's health through /readyz on its own port, with a program the image has", () => {
    for (const hub of hubs) {
      const test = services[hub]!.healthcheck?.test;
      expect(Array.isArray(test), `${hub} healthcheck in exec form`).toBe(true);
      // node:*-slim has no curl or wget; node itself can fetch.
      expect((test as string[]).slice(0, 2)).toEqual(['CMD', 'node']);
      const target = /https?:\/\/(?:127\.0\.0\.1|localhost):(\d+)\/readyz\b/.exec(text(test));
      expect(target, `${hub} healthcheck URL`).not.toBeNull();
      expect(target![1]).toBe(String(loadConfig({ PORT: hubEnv(hub).PORT }).PORT));
    }
  });

  it('gives the hubs a stop grace period longer than their own shutdown deadline', () => {
    for (const hub of hubs) {
      // main.ts exits by force after 15 s; the hub drains for up to 3 s. Compose's default is 10 s.
      expect(durationMs(services[hub]!.stop_grace_period), hub).toBeGreaterThanOrEqual(15_000);
    }
  });

  it('restarts a hub that exits unexpectedly', () => {
    for (const hub of hubs) expect(services[hub]!.restart, hub).toMatch(/^(unless-stopped|always|on-failure)/);
  });

  it('publishes nginx on a port, with deploy/nginx.conf mounted, in front of both hubs', () => {
    expect(byImage('nginx')).toHaveLength(1);
    expect(portsOf(nginx).length).toBeGreaterThan(0);
    const mounts = (nginx?.volumes ?? []).map((volume) =>
      typeof volume === 'string' ? { source: volume.split(':')[0]!, target: volume.split(':')[1] ?? '' } : { source: volume.source ?? '', target: volume.target ?? '' },
    );
    const conf = mounts.find((mount) => posix.normalize(mount.source) === 'deploy/nginx.conf');
    expect(conf, 'deploy/nginx.conf is mounted').toBeDefined();
    expect(conf!.target).toMatch(/^\/etc\/nginx\/(conf\.d\/[^/]+\.conf|nginx\.conf)$/);
    const deps = dependsOn(nginx);
    for (const hub of hubs) expect(Object.keys(deps), `${nginxName} -> ${hub}`).toContain(hub);
  });

  it("allows the nginx address as a browser origin when CORS_ORIGINS is left at the compose default", () => {
    const published = portsOf(nginx)[0]?.published;
    for (const hub of hubs) {
      const origins = loadConfig({ CORS_ORIGINS: interpolate(hubEnv(hub).CORS_ORIGINS ?? '', {}) }).CORS_ORIGINS;
      // Unset allows any origin; a list must include the address the compose file tells users to open.
      if (origins !== undefined) expect(origins, hub).toContain(`http://localhost:${published}`);
    }
  });

  it('sets only environment variables that the hub reads, with values it accepts', () => {
    const given = { JWT_SECRET: 'x'.repeat(48) };
    for (const hub of hubs) {
      const raw = hubEnv(hub);
      const env = Object.fromEntries(Object.entries(raw).map(([key, value]) => [key, interpolate(value, given)]));
      expect(Object.keys(env).length).toBeGreaterThan(0);
      const config = loadConfig(env);
      // loadConfig reads only the keys it knows, so a variable it ignores is missing from its result.
      for (const name of Object.keys(env)) expect(Object.keys(config), `${hub}: ${name} is not read by server/src/config/env.ts`).toContain(name);
      expect(config.INSTANCE_ID).toBe(env.INSTANCE_ID);
      expect(config.MONGODB_URI).toBe(env.MONGODB_URI);
      expect(config.REDIS_URL).toBe(env.REDIS_URL);
      expect(config.JWT_SECRET).toBe(given.JWT_SECRET);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// deploy/nginx.conf

interface Directive {
  name: string;
  args: string[];
  block?: Directive[];
}

/** A small nginx config parser: directives with arguments, nested blocks; quotes and comments handled. */
function parseNginx(source: string): Directive[] {
  const tokens = source.match(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|#[^\n]*|[{};]|[^\s{};"'#]+/g) ?? [];
  const words = tokens.filter((token) => !token.startsWith('#'));
  let i = 0;
  const unquote = (token: string) => (/^(["']).*\1$/s.test(token) ? token.slice(1, -1) : token);
  const block = (depth: number): Directive[] => {
    const out: Directive[] = [];
    while (i < words.length) {
      if (words[i] === '}') {
        if (depth === 0) throw new Error('nginx.conf: unbalanced }');
        i += 1;
        return out;
      }
      const parts: string[] = [];
      while (i < words.length && !['{', '}', ';'].includes(words[i]!)) parts.push(unquote(words[i++]!));
      const end = words[i++];
      if (parts.length === 0 || (end !== '{' && end !== ';')) throw new Error(`nginx.conf: bad directive near "${parts.join(' ')}"`);
      const [name, ...args] = parts as [string, ...string[]];
      out.push(end === '{' ? { name, args, block: block(depth + 1) } : { name, args });
    }
    if (depth > 0) throw new Error('nginx.conf: missing }');
    return out;
  };
  return block(0);
}

const conf = parseNginx(read('deploy/nginx.conf'));
const all = (name: string, scope: Directive[] = conf) => scope.filter((d) => d.name === name);
const upstreams = all('upstream');
const servers = all('server');
const server = servers[0];
const locations = all('location', server?.block ?? []);
/** A prefix location by its path (with or without the trailing slash). */
const location = (path: string) => locations.find((l) => [path, `${path}/`, path.replace(/\/$/, '')].includes(l.args.at(-1)!) && l.args.length <= 2);
/** A directive's value as nginx applies it in a location: the location's own, else the server's, else the top level. */
const effective = (name: string, loc: Directive | undefined) =>
  [loc?.block ?? [], server?.block ?? [], conf].map((scope) => all(name, scope)).find((found) => found.length > 0);
const headers = (loc: Directive | undefined) =>
  Object.fromEntries((effective('proxy_set_header', loc) ?? []).map((d) => [d.args[0]!.toLowerCase(), d.args.slice(1).join(' ')]));
/** The upstream a location's proxy_pass sends to. */
const upstreamOf = (loc: Directive | undefined) => {
  const target = effective('proxy_pass', loc)?.[0]?.args[0] ?? '';
  const name = /^https?:\/\/([^/:]+)/.exec(target)?.[1];
  return upstreams.find((u) => u.args[0] === name);
};
/** nginx's defaults apply where a timeout is not set. */
const readTimeoutMs = (loc: Directive | undefined) => durationMs(effective('proxy_read_timeout', loc)?.[0]?.args[0] ?? '60s');

describe('deploy/nginx.conf', () => {
  it('keeps /metrics off the public port', () => {
    const metrics = locations.find((l) => l.args.join(' ') === '= /metrics');
    expect(all('deny', metrics?.block ?? []).map((d) => d.args[0])).toContain('all');
  });

  it('balances over an upstream of both hubs with sticky routing for long-polling', () => {
    expect(upstreams).toHaveLength(1);
    const upstream = upstreams[0]!;
    const members = all('server', upstream.block).map((d) => d.args[0]);
    const port = loadConfig({ PORT: hubEnv('hub-a').PORT }).PORT;
    expect(members.sort()).toEqual(hubs.map((hub) => `${hub}:${port}`));
    expect(members).toEqual(['hub-a:3000', 'hub-b:3000']);
    // Socket.IO's HTTP long-polling sends each session's requests separately: they must reach one hub.
    const sticky = all('ip_hash', upstream.block).length > 0 || all('hash', upstream.block).some((d) => d.args.length > 0);
    expect(sticky, 'ip_hash or hash in the upstream').toBe(true);
  });

  it('listens on the container port that compose publishes', () => {
    const listens = all('listen', server?.block).map((d) => d.args[0]!.split(':').at(-1));
    expect(servers).toHaveLength(1);
    expect(listens).toContain(portsOf(nginx)[0]?.target);
  });

  it('proxies every path the hub serves to the hubs', () => {
    for (const path of ['/', '/socket.io/', '/trpc']) {
      const loc = location(path);
      expect(loc, `location ${path}`).toBeDefined();
      expect(upstreamOf(loc), `location ${path} proxy_pass`).toBe(upstreams[0]);
    }
  });

  it('upgrades /socket.io/ to WebSocket and keeps idle sockets open past the ping interval', () => {
    const loc = location('/socket.io/');
    expect(loc?.args.at(-1)).toBe('/socket.io/');
    expect(effective('proxy_http_version', loc)?.[0]?.args).toEqual(['1.1']);
    const set = headers(loc);
    expect(set.upgrade).toBe('$http_upgrade');
    // Either the literal "upgrade" or a variable mapped from $http_upgrade whose default is "upgrade".
    const connection = set.connection ?? '';
    if (connection.startsWith('$')) {
      const map = all('map').find((d) => d.args[0] === '$http_upgrade' && d.args[1] === connection);
      expect(map, `map $http_upgrade ${connection}`).toBeDefined();
      expect(all('default', map!.block).map((d) => d.args[0])).toEqual(['upgrade']);
    } else {
      expect(connection.toLowerCase()).toBe('upgrade');
    }
    // Socket.IO pings every 25 s; a shorter read timeout would cut idle WebSockets and long-polls.
    expect(readTimeoutMs(loc)).toBeGreaterThan(25_000);
  });

  it('appends the client address to X-Forwarded-For, the one proxy the hubs trust for rate limits', () => {
    const loc = location('/trpc');
    expect(headers(loc)['x-forwarded-for']).toBe('$proxy_add_x_forwarded_for');
    for (const hub of hubs) expect(loadConfig({ TRUST_PROXY: hubEnv(hub).TRUST_PROXY }).TRUST_PROXY, hub).toBe(1);
  });

  it('streams /trpc unbuffered (SSE subscriptions) with a long read timeout', () => {
    const loc = location('/trpc');
    expect(effective('proxy_buffering', loc)?.[0]?.args).toEqual(['off']);
    // Set on purpose for the stream (not nginx's 60 s default); tRPC pings every 15 s.
    expect(all('proxy_read_timeout', loc?.block)).toHaveLength(1);
    expect(readTimeoutMs(loc)).toBeGreaterThanOrEqual(60_000);
  });
});

// ---------------------------------------------------------------------------------------------
// Dockerfile and .dockerignore

interface Instruction {
  op: string;
  value: string;
}

const instructions: Instruction[] = read('Dockerfile')
  .replace(/\\\r?\n/g, ' ')
  .split(/\r?\n/)
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith('#'))
  .map((line) => {
    const [op, ...rest] = line.split(/\s+/);
    return { op: op!.toUpperCase(), value: rest.join(' ') };
  });

/** Exec form (JSON array) or shell form, as a list of words. */
const argv = (value: string): string[] => (value.startsWith('[') ? (JSON.parse(value) as string[]) : value.split(/\s+/));

describe('Dockerfile', () => {
  const workdir = instructions.filter((i) => i.op === 'WORKDIR').at(-1)?.value ?? '/';
  const copies = instructions
    .filter((i) => i.op === 'COPY')
    .map((i) => argv(i.value).filter((word) => !word.startsWith('--')))
    .map((words) => ({ sources: words.slice(0, -1).map((s) => posix.normalize(s).replace(/\/$/, '')), dest: posix.resolve(workdir, words.at(-1)!) }));

  it('starts server/src/main.ts with a loader that a production install has', () => {
    const cmds = instructions.filter((i) => i.op === 'CMD');
    expect(cmds).toHaveLength(1);
    const command = argv(cmds[0]!.value);
    expect(command[0]).toBe('node');
    expect(command.at(-1)).toBe('server/src/main.ts');
    // The image installs with --omit=dev, so a loader given to --import must be a runtime dependency.
    const loaders = command.flatMap((word, i) => (word === '--import' ? [command[i + 1]!] : []));
    const server = JSON.parse(read('server/package.json')) as { dependencies?: Record<string, string> };
    for (const loader of loaders) expect(Object.keys(server.dependencies ?? {}), `--import ${loader}`).toContain(loader);
    expect(instructions.find((i) => i.op === 'RUN' && /\bnpm ci\b/.test(i.value))?.value).toMatch(/--omit=dev/);
  });

  it('copies shared/, server/ and client/ (and the lockfile npm ci needs, and tsconfig.json) to where CMD runs', () => {
    for (const dir of ['shared', 'server', 'client']) {
      const copy = copies.find((c) => c.sources.includes(dir));
      expect(copy, `COPY ${dir}`).toBeDefined();
      expect(copy!.dest).toBe(posix.join(workdir, dir));
    }
    const lock = copies.find((c) => c.sources.includes('package-lock.json'));
    expect(lock?.dest).toBe(posix.resolve(workdir));
    // Its "paths" are how tsx and esbuild find the workspace packages' sources (their exports point at dist/).
    const tsconfig = copies.find((c) => c.sources.includes('tsconfig.json'));
    expect(tsconfig?.dest).toBe(posix.resolve(workdir));
  });

  it('does not have .dockerignore leave out what the image needs', () => {
    const patterns = read('.dockerignore')
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#') && !line.startsWith('!'));
    const toRegExp = (pattern: string) =>
      new RegExp(
        `^${posix
          .normalize(pattern.replace(/^\//, ''))
          .replace(/\/$/, '')
          .replace(/[.+^${}()|[\]\\]/g, '\\$&')
          .replace(/\*\*\/?/g, '%GLOBSTAR%')
          .replace(/\*/g, '[^/]*')
          .replace(/\?/g, '[^/]')
          .replace(/%GLOBSTAR%/g, '(?:.*/)?')}$`,
      );
    const needed = ['package.json', 'package-lock.json', 'tsconfig.json', 'shared/src/index.ts', 'server/src/main.ts', 'server/src/http/page/index.html', 'client/src/index.ts'];
    for (const path of needed) {
      const prefixes = path.split('/').map((_, i, parts) => parts.slice(0, i + 1).join('/'));
      for (const pattern of patterns) {
        for (const prefix of prefixes) expect(toRegExp(pattern).test(prefix), `.dockerignore "${pattern}" drops ${path}`).toBe(false);
      }
    }
    // node_modules from the host must not overwrite the image's install.
    expect(patterns.some((pattern) => toRegExp(pattern).test('node_modules'))).toBe(true);
  });
});
