import type { ApiKeySummary } from "../../store/api-keys.js";
import { html, type SafeHtml } from "../../web/html.js";
import { adminPage, adminPaths, copyField, crumbs, successAlert } from "../components.js";
import type { AdminSession } from "../guard.js";

export interface ApiKeysPageModel {
  session: AdminSession;
  csrfToken: string;
  keys: ApiKeySummary[];
  /** The key just created: shown on this answer only, never again. */
  created?: { name: string; key: string } | undefined;
  revoked?: string | undefined;
  nameError?: string | undefined;
}

const time = (ms: number | null) =>
  ms === null ? "" : new Date(ms).toISOString().slice(0, 16).replace("T", " ");

/** A key's state: active, or revoked since when. */
function keyState(k: ApiKeySummary): SafeHtml {
  return k.revokedAt === null
    ? html`<span class="badge badge-success" data-field="key-state">Active</span>`
    : html`<span class="badge badge-neutral" data-field="key-state">Revoked</span> <time datetime="${new Date(k.revokedAt).toISOString()}">${time(k.revokedAt)}</time>`;
}

/** Revoking is for good, so it asks first, as People's Remove does: no script, a details element. */
function revokeAction(k: ApiKeySummary, csrfToken: string): SafeHtml {
  if (k.revokedAt !== null) return html``;
  return html`<details class="confirm">
    <summary class="btn btn-ghost" data-testid="revoke-key">Revoke…</summary>
    <form method="post" action="${adminPaths.revokeApiKey(k.id)}">
      <input type="hidden" name="_csrf" value="${csrfToken}">
      <p>Revoke ${k.name} (<code>${k.prefix}…</code>)? Every request with it is refused from then on, and it cannot be restored: a script that uses it needs a new key.</p>
      <button type="submit" class="btn btn-danger" data-testid="confirm-revoke-key">Revoke</button>
    </form>
  </details>`;
}

function keyRow(k: ApiKeySummary, csrfToken: string): SafeHtml {
  const active = k.revokedAt === null;
  return html`<tr data-key-id="${k.id}" data-state="${active ? "active" : "revoked"}">
  <td>${k.name}</td>
  <td><code class="key-prefix">${k.prefix}…</code></td>
  <td><time datetime="${new Date(k.createdAt).toISOString()}">${time(k.createdAt)}</time></td>
  <td>${k.lastUsedAt === null ? html`<span class="muted">never</span>` : html`<time datetime="${new Date(k.lastUsedAt).toISOString()}">${time(k.lastUsedAt)}</time>`}</td>
  <td>${keyState(k)}</td>
  <td class="actions">${revokeAction(k, csrfToken)}</td>
</tr>`;
}

export function apiKeysPage(m: ApiKeysPageModel): string {
  return adminPage({
    title: "API keys",
    session: m.session,
    csrfToken: m.csrfToken,
    breadcrumbs: [crumbs.administration, { label: "API keys" }],
    body: html`<section class="page-head">
  <h1>API keys</h1>
  <p class="lead">Keys let your scripts and services use the Gatehouse API for ${m.session.organizationName}. A key is shown once, when it is created; Gatehouse keeps only a hash.</p>
</section>
${
  m.created
    ? html`<section class="card" data-testid="created-key">
  ${successAlert("key-created", html`Created the key <strong>${m.created.name}</strong>. Copy it now: it will not be shown again.`)}
  ${copyField({ id: "new-api-key", label: "API key", value: m.created.key, help: html`Send it as <code>Authorization: Bearer &lt;key&gt;</code>.` })}
</section>`
    : ""
}
${m.revoked ? successAlert("key-revoked", html`Revoked the key <strong>${m.revoked}</strong>. Requests with it are refused from now on.`) : ""}
<section class="card" data-testid="api-keys">
  <h2 class="section-title">Keys</h2>
  ${
    m.keys.length === 0
      ? html`<p class="muted">No API keys yet.</p>`
      : html`<div class="table-wrap"><table class="table">
    <thead><tr><th scope="col">Name</th><th scope="col">Key</th><th scope="col">Created (UTC)</th><th scope="col">Last used (UTC)</th><th scope="col">State</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
    <tbody>${m.keys.map((k) => keyRow(k, m.csrfToken))}</tbody>
  </table></div>`
  }
</section>
<section class="card">
  <h2 class="section-title">Create a key</h2>
  <form method="post" action="${adminPaths.apiKeys}" class="stack">
    <input type="hidden" name="_csrf" value="${m.csrfToken}">
    <div class="field${m.nameError ? " has-error" : ""}">
      <label for="field-name">Name</label>
      <input id="field-name" name="name" type="text" maxlength="100" required autocomplete="off" aria-describedby="name-help${m.nameError ? " name-error" : ""}"${m.nameError ? html` aria-invalid="true"` : ""}>
      <p class="field-help" id="name-help">What the key is for, e.g. "provisioning script".</p>
      ${m.nameError ? html`<p class="field-error" id="name-error">${m.nameError}</p>` : ""}
    </div>
    <p class="actions"><button type="submit" class="btn btn-primary" data-testid="create-key">Create key</button></p>
  </form>
</section>`,
  });
}
