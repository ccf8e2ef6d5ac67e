import { errorSpec } from "../../error-registry.js";
import type { ErrorCode } from "../../errors.js";
import type { ClaimSet } from "../../sign-in/adapter.js";
import type { CheckEntry } from "../../sign-in/checks.js";
import type { TestResult } from "../../sign-in/test-sign-in.js";
import { html, type SafeHtml } from "../../web/html.js";
import { adminPage, adminPaths, crumbs } from "../components.js";
import type { AdminSession } from "../guard.js";
import { type AdminProtocol, connectionPaths } from "./paths.js";

export interface TestResultPageModel {
  session: AdminSession;
  csrfToken: string;
  testId: string;
  startPath: string;
  connectionId: string | null;
  /** The saved connection's protocol, whose pages the links lead back to. */
  protocol?: AdminProtocol | undefined;
  /** Null while the provider has not sent the browser back. */
  result: TestResult | null;
  expired: boolean;
  /** The unsaved values can still be created as a connection (success, not expired). */
  canCreate: boolean;
  /** The test of an edit passed and its values are still kept: "Save these changes" saves them. */
  canSave?: boolean;
  /** For unsaved values: the form they came from, shown again with them; the OIDC Setup form by default. */
  formPath?: string | undefined;
}

const accountText = {
  new: "A new user would be created",
  linked: "The existing account with this email would be linked to this connection",
  returning: "The returning user would sign in",
} as const;

function checkRows(entries: readonly CheckEntry[], checkList: TestResult["checkList"] | undefined): SafeHtml {
  const byName = new Map(entries.map((e) => [e.check, e]));
  const failedAt = entries.find((e) => !e.passed);
  let reached = true;
  // A result written before the checks were listed with it shows the entries as they ran.
  const list = checkList ?? entries.map((e) => ({ check: e.check, label: e.check }));
  return html`${list.map(({ check, label }) => {
    const entry = byName.get(check);
    if (!entry) {
      // Checks after the failed one never ran; an optional one (at_hash, userinfo) may not apply.
      const state = failedAt && !reached ? "not reached" : "not applicable";
      return html`<tr data-testid="test-check" data-check="${check}" data-state="${state === "not reached" ? "skipped" : "not-applicable"}">
  <td>${label}</td><td><span class="badge badge-neutral">${state === "not reached" ? "Not reached" : "Not applicable"}</span></td><td></td><td></td>
</tr>`;
    }
    if (!entry.passed) reached = false;
    return html`<tr data-testid="test-check" data-check="${check}" data-state="${entry.passed ? "passed" : "failed"}">
  <td>${label}</td>
  <td><span class="badge ${entry.passed ? "badge-success" : "badge-warning"}">${entry.passed ? "Passed" : "Failed"}</span></td>
  <td data-field="expected">${entry.expected === undefined ? html`<span class="muted">—</span>` : html`<code>${entry.expected}</code>`}</td>
  <td data-field="received">${entry.received === undefined ? html`<span class="muted">—</span>` : html`<code>${entry.received}</code>`}</td>
</tr>${
      // What failed, in words, across the row's whole width: in the Result cell it squeezed the
      // expected and received values beside it.
      entry.passed
        ? ""
        : html`<tr class="check-failure" data-testid="test-check-failure" data-check="${check}"><td colspan="4"><code class="error-code">${entry.code ?? ""}</code> ${entry.detail ?? ""}</td></tr>`
    }`;
  })}`;
}

function claimsTable(
  title: string,
  testId: string,
  claims: Record<string, unknown>,
  nameHeading: string,
): SafeHtml {
  return html`<section class="card" data-testid="${testId}">
  <h2 class="section-title">${title}</h2>
  <div class="table-wrap"><table class="table">
    <thead><tr><th scope="col">${nameHeading}</th><th scope="col">Value</th></tr></thead>
    <tbody>${Object.entries(claims).map(
      ([name, value]) =>
        html`<tr data-claim="${name}"><td><code>${name}</code></td><td><code>${typeof value === "string" ? value : JSON.stringify(value)}</code></td></tr>`,
    )}</tbody>
  </table></div>
</section>`;
}

function claimSet(set: ClaimSet): SafeHtml {
  const testId = `${set.key}-claims`;
  if (set.claims)
    return claimsTable(set.title, testId, set.claims as Record<string, unknown>, set.nameHeading ?? "Claim");
  return set.note ? html`<p class="muted" data-testid="${testId}">${set.note}</p>` : html``;
}

/** How the role was decided; for Entra ID's group overage, why the groups are missing and what to do. */
function rolesCard(r: TestResult): SafeHtml {
  const x = r.roles;
  if (!x) return html``;
  let reading: SafeHtml;
  if (x.reading === "groups") {
    reading = html`<p>The <code>${x.groupsClaim}</code> claim lists: ${
      (x.groups ?? []).length > 0
        ? html`<span data-testid="test-groups">${(x.groups ?? []).map((g, i) => html`${i > 0 ? ", " : ""}<code>${g}</code>`)}</span>`
        : html`<span class="muted">no groups</span>`
    }.</p>`;
  } else if (x.reading === "overage") {
    reading = html`<div class="notice" role="note" data-testid="groups-overage">
  <p><strong>Microsoft Entra ID left the groups out of the token</strong>: this person is in more groups than fit in it (over 200), so it sent <code>${x.overageMarker ?? "_claim_names"}</code> instead of <code>${x.groupsClaim}</code>.</p>
  <p>Gatehouse does not fetch groups from Microsoft Graph. In the app registration's Token configuration, edit the groups claim and choose <strong>Groups assigned to the application</strong>, then assign the groups the rules name to the application (Enterprise applications &gt; Users and groups); or use app roles and set the groups claim to <code>roles</code>.</p>
  <p>Until then ${x.rules > 0 ? "a returning person keeps their role and a new one" : "a new person"} gets the role for new users (${x.defaultRole}).</p>
</div>`;
  } else {
    reading = html`<p>The token has no <code>${x.groupsClaim}</code> claim. ${
      x.rules > 0
        ? html`Check that your identity provider sends it (some send groups only with an extra scope such as <code>groups</code>, or with a groups claim filter set on the application).`
        : ""
    }</p>`;
  }
  return html`<section class="card" data-testid="test-roles">
  <h2 class="section-title">Role from the identity provider</h2>
  ${reading}
  <p data-testid="test-role-rule">${
    x.rules === 0
      ? html`No role rules: a new user is ${x.defaultRole}; an existing member keeps their role.`
      : x.matched
        ? html`The rule <code>${x.matched}</code> decides the role.`
        : html`No rule matched: the role for new users (${x.defaultRole}) applies.`
  } An owner's role is never changed by a sign-in.</p>
</section>`;
}

function summary(r: TestResult): SafeHtml {
  if (r.outcome === "success" && r.signIn) {
    return html`<div class="alert alert-success" role="status" data-testid="test-outcome" data-outcome="success">
  <p><strong>Every check passed.</strong> A real sign-in through ${r.connectionName} with this answer would sign in:</p>
  <dl class="facts">
    <div><dt>Email</dt><dd data-field="email">${r.signIn.email}</dd></div>
    ${r.signIn.name ? html`<div><dt>Name</dt><dd data-field="name">${r.signIn.name}</dd></div>` : ""}
    <div><dt>Organization</dt><dd data-field="organization">${r.signIn.organizationName}</dd></div>
    <div><dt>Role</dt><dd data-field="role">${r.signIn.role}</dd></div>
    <div><dt>Account</dt><dd data-field="account" data-account="${r.signIn.account}">${accountText[r.signIn.account]}</dd></div>
  </dl>
  <p class="muted">Nothing was created: no user, no link to the provider's account, no session.</p>
</div>`;
  }
  const code = (r.failure?.code ?? "INTERNAL") as ErrorCode;
  return html`<div class="alert alert-error" role="alert" data-testid="test-outcome" data-outcome="failure" data-error-code="${code}">
  <p><strong>The test failed: ${errorSpec(code).title}</strong></p>
  <p>The failed check is marked below with what Gatehouse expected and what the provider sent. A real sign-in would be refused the same way.</p>
</div>`;
}

export function testResultPage(m: TestResultPageModel): string {
  const r = m.result;
  const back = m.connectionId
    ? html`<a class="btn btn-secondary" href="${connectionPaths.page(m.connectionId, m.protocol)}">Back to the connection</a>`
    : html`<a class="btn btn-secondary" href="${m.formPath ?? `${adminPaths.oidc}?test=${m.testId}`}" data-testid="back-to-form">Back to the form</a>`;
  let body: SafeHtml;
  if (!r) {
    body = m.expired
      ? html`<div class="alert alert-error" role="alert" data-testid="test-outcome" data-outcome="expired"><p><strong>This test expired.</strong> A test must come back from the identity provider within 10 minutes. Start a new one.</p></div>`
      : html`<div class="alert alert-info" role="status" data-testid="test-outcome" data-outcome="pending"><p>This test has not come back from the identity provider yet.</p></div>
<p class="actions"><a class="btn btn-primary" href="${m.startPath}">Sign in at the identity provider</a></p>`;
  } else {
    body = html`${summary(r)}
${rolesCard(r)}
${r.connectionDisabled ? html`<div class="notice" role="note"><p>This connection is disabled: nobody signs in through it until you enable it.</p></div>` : ""}
<section class="card" data-testid="test-checks">
  <h2 class="section-title">Checks</h2>
  <p class="muted">The checks every sign-in runs, in order. A sign-in stops at the first that fails.</p>
  <div class="table-wrap"><table class="table">
    <thead><tr><th scope="col">Check</th><th scope="col">Result</th><th scope="col">Expected</th><th scope="col">Received</th></tr></thead>
    <tbody>${checkRows(r.checks, r.checkList)}</tbody>
  </table></div>
</section>
${(r.rawClaims ?? []).map(claimSet)}
<p class="muted">Claim values are shown as the provider sent them; the tokens themselves are never shown or kept.</p>`;
  }
  return adminPage({
    title: "Test sign-in",
    session: m.session,
    csrfToken: m.csrfToken,
    breadcrumbs: [
      crumbs.administration,
      crumbs.enterpriseAuthentication,
      m.protocol === "saml" ? crumbs.saml : crumbs.oidc,
      { label: "Test sign-in" },
    ],
    body: html`<section class="page-head">
  <h1>Test sign-in${r ? html`: ${r.connectionName}` : ""}</h1>
  <p class="lead">${m.connectionId ? "The saved connection's settings, through your identity provider and back." : "The values from the form, not saved yet, through your identity provider and back."}</p>
</section>
${body}
<p class="actions">${
      m.canCreate
        ? html`<form method="post" action="${adminPaths.oidc}/tests/${m.testId}/create" class="inline">
  <input type="hidden" name="_csrf" value="${m.csrfToken}">
  <button type="submit" class="btn btn-primary" data-testid="create-from-test">Create the connection</button>
</form> `
        : m.canSave
          ? html`<form method="post" action="${adminPaths.oidc}/tests/${m.testId}/save" class="inline">
  <input type="hidden" name="_csrf" value="${m.csrfToken}">
  <button type="submit" class="btn btn-primary" data-testid="save-from-test">Save these changes</button>
</form> `
          : ""
    }${
      m.connectionId
        ? html`<form method="post" action="${connectionPaths.test(m.connectionId, m.protocol)}" class="inline">
  <input type="hidden" name="_csrf" value="${m.csrfToken}">
  <button type="submit" class="btn btn-secondary">Test again</button>
</form> `
        : ""
    }${back}</p>`,
  });
}
