import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { signInActivity } from "../../src/admin/enterprise-authentication/sign-in-activity.js";
import { typedEmailDetail } from "../../src/sign-in/complete.js";
import type { AuditEvent } from "../../src/store/audit.js";

function event(fields: Partial<AuditEvent>): AuditEvent {
  return {
    id: "00000000-0000-4000-8000-000000000001",
    type: "sign_in.sso",
    outcome: "failure",
    actorUserId: null,
    userId: null,
    connectionId: "c",
    email: null,
    subject: null,
    reasonCode: "SSO_EMAIL_MISSING",
    detail: {},
    traceId: "TRACE1",
    ip: null,
    createdAt: "2026-12-07T15:52:46.000Z",
    ...fields,
  };
}

/** The Who cell of the one row. */
function whoCell(e: AuditEvent): string {
  const body = String(signInActivity("c", [e]));
  const cell = /<tr[^>]*>\s*<td>[\s\S]*?<\/td>\s*<td>([\s\S]*?)<\/td>/.exec(body)?.[1];
  assert.ok(cell !== undefined, body);
  return cell;
}

const TYPED =
  /data-testid="typed-email">bob@acme\.test<\/span> <span class="muted">\(typed at sign-in, not confirmed by the provider\)/;

describe("the address typed at sign-in, when the provider said something else or nothing", () => {
  for (const [typed, asserted, recorded] of [
    [undefined, undefined, undefined],
    [undefined, "carol@acme.test", undefined],
    ["bob@acme.test", undefined, "bob@acme.test"],
    ["bob@acme.test", "carol@gmail.test", "bob@acme.test"],
    ["bob@acme.test", "bob@acme.test", undefined],
    ["bob@acme.test", "Bob@Acme.test", undefined],
  ] as const) {
    test(`typed ${typed ?? "nothing"}, provider asserted ${asserted ?? "no address"}: typedEmail ${recorded ?? "not recorded"}`, () => {
      assert.deepEqual(typedEmailDetail(typed, asserted), recorded ? { typedEmail: recorded } : {});
    });
  }

  test("a refusal that knows only the provider's sub lists the typed address beside it", () => {
    const cell = whoCell(event({ subject: "dev-2bbeb3de", detail: { typedEmail: "bob@acme.test" } }));
    assert.match(cell, /<code>sub dev-2bbeb3de<\/code>/);
    assert.match(cell, TYPED);
  });

  test("a provider that asserted another address: that address, then the typed one", () => {
    const cell = whoCell(
      event({
        email: "carol@gmail.test",
        subject: "dev-e98f",
        reasonCode: "SSO_EMAIL_DOMAIN_NOT_ALLOWED",
        detail: { typedEmail: "bob@acme.test" },
      }),
    );
    assert.ok(cell.indexOf("carol@gmail.test") < cell.indexOf("bob@acme.test"), cell);
    assert.match(cell, TYPED);
  });

  test("a success as someone else than typed shows both; the same address only once", () => {
    const other = whoCell(
      event({
        outcome: "success",
        reasonCode: null,
        email: "carol@acme.test",
        detail: { typedEmail: "bob@acme.test" },
      }),
    );
    assert.match(other, /carol@acme\.test/);
    assert.match(other, TYPED);
    const same = whoCell(event({ outcome: "success", reasonCode: null, email: "bob@acme.test", detail: {} }));
    assert.doesNotMatch(same, /typed at sign-in/);
  });

  test("nothing from the provider: the typed address alone; nothing at all: unknown", () => {
    assert.match(
      whoCell(event({ reasonCode: "SSO_IDP_ERROR", detail: { typedEmail: "bob@acme.test" } })),
      TYPED,
    );
    assert.match(whoCell(event({ reasonCode: "SSO_IDP_ERROR" })), /unknown/);
  });
});
