import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { isUuid } from "../../domain/ids.js";
import { displayDomain } from "../../domain/organization-domains.js";
import { addDomain, type DomainActor } from "../../domains/add.js";
import { removeDomain } from "../../domains/remove.js";
import { verifyDomain } from "../../domains/verify.js";
import { toDomainView } from "../../domains/view.js";
import { GatehouseError, isGatehouseError } from "../../errors.js";
import type { AppContext } from "../../server/context.js";
import { listAuditEvents } from "../../store/audit.js";
import { listConnections } from "../../store/connections.js";
import { findDomain, listDomains } from "../../store/domains.js";
import { textField } from "../../web/form.js";
import { adminPaths, sendHtml } from "../components.js";
import { adminSession, requireAdmin } from "../guard.js";
import { removeDomainPage } from "./domain-remove.js";
import { type DomainsPageModel, domainsPage } from "./domains-page.js";

/** Domain ids are UUIDs; anything else cannot name one, so it is simply not found. */
function domainIdParam(params: unknown): string {
  const id = (params as { id?: unknown }).id;
  if (!isUuid(id)) throw new GatehouseError("DOMAIN_NOT_FOUND", "No such domain in this organization.");
  return id.toLowerCase();
}

/** Refusals the Add form explains beside its field rather than on an error page. */
const ADD_REFUSALS = new Set(["DOMAIN_NOT_ALLOWED", "CONFLICT", "DOMAIN_VERIFIED_ELSEWHERE"]);

/**
 * Administration > Enterprise Authentication > Domains: add a domain, publish its record, verify
 * it, remove it. The work is done by `src/domains/*`, which audits every step.
 */
export function registerDomainAdminRoutes(app: FastifyInstance, ctx: AppContext): void {
  const admin = requireAdmin(ctx);
  const protectedForm = { preHandler: [admin, app.csrfProtection] };

  const actorOf = (request: FastifyRequest): DomainActor => {
    const session = adminSession(request);
    return {
      organizationId: session.organizationId,
      actorUserId: session.userId,
      actorSessionHash: session.idHash,
      ip: request.ip,
    };
  };

  async function render(
    request: FastifyRequest,
    reply: FastifyReply,
    extra: Partial<DomainsPageModel> = {},
    status = 200,
  ) {
    const session = adminSession(request);
    const [domains, connections] = await Promise.all([
      listDomains(ctx.store.db, session.organizationId),
      listConnections(ctx.store.db, session.organizationId),
    ]);
    const usedBy = new Map<string, { name: string; enabled: boolean }[]>();
    for (const c of connections) {
      for (const domain of c.domains) {
        usedBy.set(domain, [
          ...(usedBy.get(domain) ?? []),
          { name: c.name, enabled: c.status === "enabled" },
        ]);
      }
    }
    const now = ctx.now();
    return sendHtml(
      reply,
      domainsPage({
        session,
        csrfToken: reply.generateCsrf(),
        domains: domains.map((d) => toDomainView(d, now)),
        usedBy,
        ...extra,
      }),
      status,
    );
  }

  app.get(adminPaths.domains, { preHandler: admin }, async (request, reply) => {
    const session = adminSession(request);
    const extra: Partial<DomainsPageModel> = {};
    // The query only says what happened; names come from the database, so a crafted link cannot
    // put words into the page.
    const addedId = textField(request.query, "added", 64);
    if (isUuid(addedId)) {
      const added = await findDomain(ctx.store.db, session.organizationId, addedId.toLowerCase());
      if (added) extra.added = toDomainView(added, ctx.now());
    }
    if (textField(request.query, "removed", 10) === "1") {
      const [event] = await listAuditEvents(ctx.store.db, {
        organizationId: session.organizationId,
        type: "domain.removed",
        limit: 1,
      });
      const domain = event?.detail?.domain;
      if (typeof domain === "string") extra.removed = displayDomain(domain);
    }
    return render(request, reply, extra);
  });

  app.post(adminPaths.domains, protectedForm, async (request, reply) => {
    const typed = textField(request.body, "domain", 300);
    try {
      const added = await addDomain(ctx, actorOf(request), typed);
      return reply.redirect(`${adminPaths.domains}?added=${added.id}#domain-${added.id}`, 303);
    } catch (error) {
      if (!isGatehouseError(error) || !ADD_REFUSALS.has(error.code)) throw error;
      request.log.info({ code: error.code, detail: error.detail }, "domain refused");
      return render(
        request,
        reply,
        { addRefusal: { code: error.code, message: error.message, value: typed } },
        error.status,
      );
    }
  });

  // The answer is the page with the outcome on it, not a redirect: a mismatch shows the records
  // DNS returned, which belong in no URL.
  app.post(adminPaths.verifyDomain(":id"), protectedForm, async (request, reply) => {
    const { result, domain } = await verifyDomain(ctx, actorOf(request), domainIdParam(request.params));
    return render(request, reply, { verified: { domain: toDomainView(domain, ctx.now()), result } });
  });

  app.get(adminPaths.removeDomain(":id"), { preHandler: admin }, async (request, reply) => {
    const session = adminSession(request);
    const domain = await findDomain(ctx.store.db, session.organizationId, domainIdParam(request.params));
    if (!domain) throw new GatehouseError("DOMAIN_NOT_FOUND", "No such domain in this organization.");
    const connections = (await listConnections(ctx.store.db, session.organizationId))
      .filter((c) => c.domains.includes(domain.domain))
      .map((c) => ({ name: c.name, enabled: c.status === "enabled" }));
    return sendHtml(
      reply,
      removeDomainPage({
        session,
        csrfToken: reply.generateCsrf(),
        domain: toDomainView(domain, ctx.now()),
        connections,
      }),
    );
  });

  app.post(adminPaths.removeDomain(":id"), protectedForm, async (request, reply) => {
    await removeDomain(ctx, actorOf(request), domainIdParam(request.params));
    return reply.redirect(`${adminPaths.domains}?removed=1`, 303);
  });
}
