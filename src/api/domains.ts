import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { Type } from "typebox";
import { urlFor } from "../config.js";
import { addDomain, type DomainActor } from "../domains/add.js";
import { removeDomain } from "../domains/remove.js";
import { verifyDomain } from "../domains/verify.js";
import { toDomainView } from "../domains/view.js";
import { GatehouseError } from "../errors.js";
import type { AppContext } from "../server/context.js";
import { listDomains } from "../store/domains.js";
import { apiAuthentication, apiCaller, callerOrganizationId, callerUserId } from "./auth.js";
import { isUuid } from "./input.js";
import { readPage, toPage } from "./pagination.js";
import {
  CsrfHeaders,
  errors,
  IdempotencyHeaders,
  IdParams,
  IsoTime,
  NoContent,
  Nullable,
  Page,
  PageQuery,
  StringEnum,
  Uuid,
} from "./schemas.js";

const OUTCOMES = ["verified", "no_record", "mismatch", "dns_error"] as const;
const time = Nullable(IsoTime);

export const DomainView = Type.Object(
  {
    id: Uuid,
    domain: Type.String({ description: "As DNS knows it (punycode)", examples: ["xn--bcher-kva.example"] }),
    displayName: Type.String({ description: "In Unicode, for people", examples: ["bücher.example"] }),
    state: StringEnum(["pending", "verified", "failing"]),
    active: Type.Boolean({
      description:
        "Routes, enforces, provisions and links now: verified, or failing within the 7-day grace period",
    }),
    record: Type.Object(
      {
        type: Type.Literal("TXT"),
        name: Type.String({ examples: ["_gatehouse-challenge.acme.com"] }),
        value: Type.String({ examples: ["gatehouse-domain-verification=…"] }),
      },
      { description: "The TXT record to publish" },
    ),
    verifiedAt: time,
    verifiedBy: Nullable(StringEnum(["dns", "operator"])),
    lastCheckedAt: time,
    lastCheckOutcome: Nullable(StringEnum(OUTCOMES)),
    failingSince: time,
    graceEndsAt: Nullable(
      Type.String({
        format: "date-time",
        description: "When a failing domain stops working unless its record is back",
      }),
    ),
    createdAt: IsoTime,
  },
  { title: "Domain" },
);

const VerifyAnswer = Type.Object(
  {
    result: Type.Object({
      outcome: StringEnum([...OUTCOMES, "verified_elsewhere"], {
        description:
          "verified; no_record (NXDOMAIN or no TXT record); mismatch (TXT records found, none ours: see found); dns_error (SERVFAIL or timeout: try again); verified_elsewhere (another organization verified the domain first)",
      }),
      found: Type.Optional(
        Type.Array(Type.String(), { description: "mismatch: the records found at the name" }),
      ),
      code: Type.Optional(Type.String({ description: "no_record and dns_error: the resolver's code" })),
    }),
    domain: DomainView,
  },
  { title: "DomainVerification", description: "The outcome, and the domain after it" },
);

const AddDomainRequest = Type.Object(
  { domain: Type.String({ minLength: 1, maxLength: 300, examples: ["acme.com"] }) },
  { additionalProperties: false, title: "AddDomainRequest" },
);

const notFoundDescription = "DOMAIN_NOT_FOUND";

/** Another organization's id answers exactly like an id that does not exist. */
function notFound(): GatehouseError {
  return new GatehouseError("DOMAIN_NOT_FOUND", "No such domain in this organization.");
}

function domainId(params: { id: string }): string {
  if (!isUuid(params.id)) throw notFound();
  return params.id.toLowerCase();
}

/**
 * `/api/v1/domains`: the domains the organization owns or is proving it owns. Adding one answers
 * the TXT record to publish; verify looks it up now and answers one of the outcomes; every
 * attempt is audited (domain.verification_checked).
 */
export function registerDomainRoutes(app: FastifyInstance, ctx: AppContext): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const preValidation = apiAuthentication(app, ctx, "admin");
  const tags = ["Domains"];

  function actorOf(request: FastifyRequest): DomainActor {
    const caller = apiCaller(request);
    return {
      organizationId: callerOrganizationId(request),
      actorUserId: callerUserId(request),
      actorSessionHash: caller.kind === "session" ? caller.session.idHash : undefined,
      ip: request.ip,
    };
  }

  api.get(
    "/domains",
    {
      preValidation,
      schema: {
        operationId: "listDomains",
        summary: "The organization's domains, their state and the TXT record each needs, by name",
        tags,
        querystring: Type.Object(PageQuery, { additionalProperties: false }),
        response: { 200: Page(DomainView, "The domains"), ...errors({ 400: "VALIDATION_FAILED" }) },
      },
    },
    async (request) => {
      const page = readPage<[string]>(request.query, ["string"]);
      // An organization has a handful of domains: read them all, page by name.
      const all = await listDomains(ctx.store.db, callerOrganizationId(request));
      const after = page.after?.[0];
      const rows = all.filter((d) => after === undefined || d.domain > after).slice(0, page.limit + 1);
      const now = ctx.now();
      return toPage(
        rows,
        page.limit,
        (d) => [d.domain],
        (d) => toDomainView(d, now),
      );
    },
  );

  api.post(
    "/domains",
    {
      preValidation,
      config: { idempotent: true },
      schema: {
        operationId: "addDomain",
        summary: "Add a domain, pending until its TXT record is published and verified",
        description:
          "Refuses what is not a domain, public suffixes (com, co.uk, github.io) and public email providers (gmail.com). A domain another organization has verified may be added, but stays pending until that organization removes it.",
        tags,
        headers: IdempotencyHeaders,
        body: AddDomainRequest,
        response: {
          201: DomainView,
          ...errors({
            400: "VALIDATION_FAILED or DOMAIN_NOT_ALLOWED, with `fields`",
            409: "CONFLICT: already one of the organization's domains; IDEMPOTENCY_KEY_IN_USE",
            422: "IDEMPOTENCY_KEY_REUSED: the Idempotency-Key came with another body",
          }),
        },
      },
    },
    async (request, reply) => {
      const added = await addDomain(ctx, actorOf(request), request.body.domain);
      return reply
        .status(201)
        .header("location", urlFor(ctx.config, `api/v1/domains/${added.id}`))
        .send(toDomainView(added, ctx.now()));
    },
  );

  api.post(
    "/domains/:id/verify",
    {
      preValidation,
      schema: {
        operationId: "verifyDomain",
        summary: "Look the domain's TXT record up now",
        description:
          "Answers 200 whatever DNS says, with result.outcome. Verifying a verified domain checks it again: a failing one recovers when its record is back.",
        tags,
        params: IdParams,
        headers: CsrfHeaders,
        response: { 200: VerifyAnswer, ...errors({ 404: notFoundDescription }) },
      },
    },
    async (request) => {
      const { result, domain } = await verifyDomain(ctx, actorOf(request), domainId(request.params));
      return { result, domain: toDomainView(domain, ctx.now()) };
    },
  );

  api.delete(
    "/domains/:id",
    {
      preValidation,
      schema: {
        operationId: "removeDomain",
        summary: "Remove a domain",
        description:
          "From now on it neither routes, enforces, provisions nor links, and it is taken off the organization's connections; another organization may verify it.",
        tags,
        params: IdParams,
        headers: CsrfHeaders,
        response: { 204: NoContent, ...errors({ 404: notFoundDescription }) },
      },
    },
    async (request, reply) => {
      await removeDomain(ctx, actorOf(request), domainId(request.params));
      return reply.status(204).send(null);
    },
  );
}
