import type { AnyTRPCProcedure, TRPCBuiltRouter, TRPCMutationProcedure, TRPCQueryProcedure, TRPCSubscriptionProcedure } from '@trpc/server';
import type { AppRouter as HubRouter } from '@slotcast/server';

/*
 * The hub's router as a client sees it: every procedure with its input, output and error shape,
 * and none of the hub's request context (its services, mongoose models, Redis). Inside the
 * workspace this is computed from the server's own router type. For the published package, the
 * declaration emit of this file (client/dist/router.d.ts) writes the result out in full, so the
 * package ships the router's type without the server: its only imports are @trpc/server and
 * @slotcast/shared (scripts/build-packages.ts checks that).
 *
 * Every alias below is a conditional type that resolves at once: the declaration printer then
 * writes its result rather than its name. `D` is inferred, so the printer cannot reuse the
 * written type nodes (which name server types) and prints the types themselves.
 */
type Expand<T> = T extends infer O ? { [K in keyof O]: O[K] } : never;

type ClientProcedure<P> =
  P extends TRPCQueryProcedure<infer D>
    ? TRPCQueryProcedure<{ input: D['input']; output: D['output']; meta: D['meta']; errorShape: Expand<D['errorShape']> }>
    : P extends TRPCMutationProcedure<infer D>
      ? TRPCMutationProcedure<{ input: D['input']; output: D['output']; meta: D['meta']; errorShape: Expand<D['errorShape']> }>
      : P extends TRPCSubscriptionProcedure<infer D>
        ? TRPCSubscriptionProcedure<{ input: D['input']; output: D['output']; meta: D['meta']; errorShape: Expand<D['errorShape']> }>
        : never;

type ClientRecord<R> = R extends infer O ? { [K in keyof O]: O[K] extends AnyTRPCProcedure ? ClientProcedure<O[K]> : ClientRecord<O[K]> } : never;

type Root<R extends HubRouter> = R['_def']['_config']['$types'];

declare function clientView<R extends HubRouter>(
  router: R,
): TRPCBuiltRouter<
  { ctx: object; meta: Root<R>['meta']; errorShape: Expand<Root<R>['errorShape']>; transformer: Root<R>['transformer'] },
  ClientRecord<R['_def']['record']>
>;
declare const hubRouter: HubRouter;

// Never called; only its inferred return type is used (and written out by the declaration emit).
const _view = () => clientView(hubRouter);

/** The hub's tRPC router type, for `createTRPCClient<AppRouter>` and tRPC's inference helpers. */
export type AppRouter = ReturnType<typeof _view>;
