import type { ClientInfo, Provider } from "oidc-provider";
import { newId } from "../crypto/tokens.js";
import type { AppContext } from "../server/context.js";
import {
  claimDueBackchannelLogouts,
  deleteBackchannelLogout,
  enqueueBackchannelLogout,
  rescheduleBackchannelLogout,
} from "../store/application-sign-ins.js";
import type { OpenIdProvider } from "./provider.js";

const POLL_MS = 2_000;
const BATCH = 20;
/** Long enough for one delivery (oidc-provider's outbound timeout is 2.5 s) on a slow instance. */
const LEASE_MS = 60_000;
/** About two days of retries: 5 s doubling to an hour, then hourly. */
const MAX_ATTEMPTS = 60;

export function retryDelayMs(attempts: number): number {
  return Math.min(5_000 * 2 ** Math.max(0, attempts - 1), 60 * 60 * 1000);
}

/** oidc-provider's own sender of logout tokens, per provider's Client class. */
const senders = new WeakMap<object, ClientInfo["backchannelLogout"]>();

/**
 * When an application's RP-initiated logout ends oidc-provider's session, oidc-provider POSTs
 * the logout tokens itself: once, from the request, lost if the application is down. Gatehouse's
 * sign-out that follows queues one for the same sign-ins, so every application got two. Its
 * calls go to the outbox instead, which marks the sign-in: each application gets one logout
 * token per ended sign-in, retried from any instance until delivered, whatever ended it first.
 */
export function queueProviderLogouts(app: AppContext, provider: Provider): void {
  const prototype = provider.Client.prototype;
  senders.set(provider.Client, prototype.backchannelLogout);
  prototype.backchannelLogout = async function queueLogout(this: ClientInfo, sub: string, sid: string) {
    await enqueueBackchannelLogout(app.store.db, { clientId: this.clientId, sub, sid }, app.now(), newId);
  };
}

/**
 * Back-Channel Logout 1.0 delivery from the outbox: oidc-provider signs each logout token
 * (`sub`, `sid`, the back-channel event) with the provider's current key and POSTs it to the
 * application; a failure is retried with backoff, so a restart or an application that is down
 * loses none.
 */
export async function deliverDueLogouts(
  app: AppContext,
  op: OpenIdProvider,
): Promise<{ delivered: number; failed: number }> {
  const claimed = await claimDueBackchannelLogouts(app.store.db, app.now(), BATCH, LEASE_MS);
  let delivered = 0;
  let failed = 0;
  for (const logout of claimed) {
    const client = await op.provider.Client.find(logout.clientId);
    if (!client?.backchannelLogoutUri) {
      await deleteBackchannelLogout(app.store.db, logout.id);
      continue;
    }
    try {
      const send = senders.get(op.provider.Client) ?? client.backchannelLogout;
      await send.call(client, logout.sub, logout.sid);
      await deleteBackchannelLogout(app.store.db, logout.id);
      delivered++;
    } catch (error) {
      failed++;
      const attempts = logout.attempts + 1;
      const reason = error instanceof Error ? error.message : String(error);
      if (attempts >= MAX_ATTEMPTS) {
        app.log.warn({ clientId: logout.clientId, attempts, reason }, "back-channel logout abandoned");
        await deleteBackchannelLogout(app.store.db, logout.id);
        continue;
      }
      app.log.info({ clientId: logout.clientId, attempts, reason }, "back-channel logout failed; will retry");
      await rescheduleBackchannelLogout(
        app.store.db,
        logout.id,
        attempts,
        app.now() + retryDelayMs(attempts),
        reason,
      );
    }
  }
  return { delivered, failed };
}

/** Polls the outbox until the returned function is called. */
export function startBackchannelDelivery(app: AppContext, op: OpenIdProvider): () => void {
  let running = false;
  const tick = () => {
    if (running) return;
    running = true;
    deliverDueLogouts(app, op)
      .catch((error: unknown) => app.log.warn({ err: error }, "back-channel logout delivery failed"))
      .finally(() => {
        running = false;
      });
  };
  const timer = setInterval(tick, POLL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
