import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One registry per hub, so two hubs in one process (as in tests) keep their own figures. */
export function createMetrics(instanceId: string) {
  const registry = new Registry();
  registry.setDefaultLabels({ instance: instanceId });
  collectDefaultMetrics({ register: registry, prefix: 'slotcast_process_' });
  return {
    registry,
    httpRequests: new Counter({
      name: 'slotcast_http_requests_total',
      help: 'HTTP requests by route and status code',
      labelNames: ['route', 'code'] as const,
      registers: [registry],
    }),
    fastQueries: new Counter({
      name: 'slotcast_trpc_fast_queries_total',
      help: 'tRPC GET queries answered by the fast path (the rest go through the standard adapter)',
      registers: [registry],
    }),
    trpcCalls: new Counter({
      name: 'slotcast_trpc_calls_total',
      help: 'tRPC procedures that ran (on either path), by procedure path and outcome (OK or the error code)',
      labelNames: ['path', 'code'] as const,
      registers: [registry],
    }),
    trpcRefusals: new Counter({
      name: 'slotcast_trpc_refusals_total',
      help: 'tRPC requests refused before any procedure ran, by limit (requests, subscriptions, batch, days)',
      labelNames: ['limit'] as const,
      registers: [registry],
    }),
    ready: new Gauge({
      name: 'slotcast_ready',
      help: '1 when MongoDB and (if configured) Redis answer',
      registers: [registry],
    }),
    recomputeSeconds: new Histogram({
      name: 'slotcast_recompute_seconds',
      help: 'Time to recompute availability, by scope',
      labelNames: ['scope'] as const,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
    feedRecomputes: new Counter({
      name: 'slotcast_feed_recomputes_total',
      help: 'Keys recomputed because of change-feed events, by reason',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    feedResyncs: new Counter({
      name: 'slotcast_feed_resyncs_total',
      help: 'Recomputes of the whole horizon (after taking the lease, lost history, Redis recovery)',
      registers: [registry],
    }),
    feedStalledSeconds: new Gauge({
      name: 'slotcast_feed_stalled_seconds',
      help: 'On the leader: seconds its change feed has gone without progress while it had work outstanding (events not yet published, or a stream that has not answered); 0 on other instances',
      registers: [registry],
    }),
    feedLagSeconds: new Gauge({
      name: 'slotcast_feed_lag_seconds',
      help: "On the leader: age, by MongoDB's clusterTime, of the oldest change event received but not yet published; 0 when none is waiting",
      registers: [registry],
    }),
    feedGiveUps: new Counter({
      name: 'slotcast_feed_lease_give_ups_total',
      help: 'Times this instance gave up the change-feed lease because its feed was stalled',
      registers: [registry],
    }),
    leader: new Gauge({
      name: 'slotcast_leader',
      help: '1 while this instance holds the change-feed lease',
      registers: [registry],
    }),
    sockets: new Gauge({
      name: 'slotcast_sockets',
      help: 'Connected Socket.IO clients on this instance',
      registers: [registry],
    }),
    slowSocketDrops: new Counter({
      name: 'slotcast_slow_socket_drops_total',
      help: 'Sockets disconnected because more than SOCKET_MAX_QUEUED_BYTES waited for them (a client that stopped reading)',
      registers: [registry],
    }),
    largestSocketQueue: new Gauge({
      name: 'slotcast_socket_queue_max_bytes',
      help: 'The most bytes queued for one socket of this instance at the last check',
      registers: [registry],
    }),
    emits: new Counter({
      name: 'slotcast_emits_total',
      help: 'Events emitted to Socket.IO rooms, by event',
      labelNames: ['event'] as const,
      registers: [registry],
    }),
    subscribeRefusals: new Counter({
      name: 'slotcast_subscribe_refusals_total',
      help: 'Refused subscribe requests, by code',
      labelNames: ['code'] as const,
      registers: [registry],
    }),
    misfitDocuments: new Counter({
      name: 'slotcast_misfit_documents_total',
      help: 'Documents that do not fit the schema in force (SCHEMA_FILE or the default names), counted once each by collection and reason; they count in no availability',
      labelNames: ['collection', 'reason'] as const,
      registers: [registry],
    }),
    cacheLookups: new Counter({
      name: 'slotcast_cache_lookups_total',
      help: 'Availability cache lookups by result',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
