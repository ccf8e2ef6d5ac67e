import { errorSpec } from "../../error-registry.js";
import type { ErrorCode } from "../../errors.js";
import type { AuditEvent } from "../../store/audit.js";
import { html, type SafeHtml } from "../../web/html.js";
import { utcTime } from "../../web/time.js";

/** How many recent attempts the connection's page shows. */
export const ACTIVITY_LIMIT = 50;

/**
 * The connection's recent sign-in attempts, for the admin debugging a failed sign-in: who,
 * when, the outcome in plain words, and — one click away — the technical detail the audit log
 * keeps (which check, expected and received values) with the reference code the person saw.
 * Everything is escaped: the detail may hold text an identity provider chose.
 */
export function signInActivity(connectionId: string, events: AuditEvent[]): SafeHtml {
  return html`<section class="card" data-testid="sign-in-activity" aria-labelledby="activity-${connectionId}">
  <h2 class="section-title" id="activity-${connectionId}">Sign-in activity</h2>
  ${
    events.length === 0
      ? html`<p class="muted">No sign-in attempts through this connection yet.</p>`
      : html`<p class="muted">The last ${events.length === 1 ? "attempt" : `${events.length} attempts`}, newest first. When someone gives you a reference code, find it here; open a row for the technical detail.</p>
  <div class="table-wrap"><table class="table">
    <thead><tr><th scope="col">Time (UTC)</th><th scope="col">Who</th><th scope="col">Outcome</th><th scope="col">Reference</th></tr></thead>
    <tbody>${events.map(activityRow)}</tbody>
  </table></div>`
  }
</section>`;
}

function activityRow(e: AuditEvent): SafeHtml {
  const ok = e.outcome === "success";
  const text = (key: string) => (typeof e.detail?.[key] === "string" ? (e.detail[key] as string) : undefined);
  const check = text("check");
  const reason = ok
    ? e.detail?.provisioned
      ? "Signed in; account created"
      : "Signed in"
    : errorSpec((e.reasonCode ?? "INTERNAL") as ErrorCode).title;
  return html`<tr data-outcome="${e.outcome ?? ""}"${e.traceId ? html` data-trace-id="${e.traceId}"` : ""}>
  <td>${utcTime(e.createdAt, { seconds: true, zone: false })}</td>
  <td>${who(e, text("typedEmail"))}</td>
  <td>
    <span class="badge ${ok ? "badge-success" : "badge-warning"}">${ok ? "Success" : "Failed"}</span> ${reason}
    ${
      ok
        ? ""
        : html`<details class="activity-detail"><summary>Technical detail</summary>
      <dl class="facts">
        <div><dt>Code</dt><dd><code class="error-code">${e.reasonCode ?? "—"}</code></dd></div>
        <div><dt>Failed check</dt><dd class="activity-check">${check ?? "—"}</dd></div>
        ${text("expected") ? html`<div><dt>Expected</dt><dd><code>${text("expected")}</code></dd></div>` : ""}
        ${text("received") ? html`<div><dt>Received</dt><dd><code>${text("received")}</code></dd></div>` : ""}
        ${text("detail") ? html`<div><dt>Detail</dt><dd class="activity-reason">${text("detail")}</dd></div>` : ""}
        ${e.subject ? html`<div><dt>Subject (sub)</dt><dd><code>${e.subject}</code></dd></div>` : ""}
        ${e.ip ? html`<div><dt>IP address</dt><dd>${e.ip}</dd></div>` : ""}
      </dl>
    </details>`
    }
  </td>
  <td>${e.traceId ? html`<code class="trace-id">${e.traceId}</code>` : ""}</td>
</tr>`;
}

/**
 * The address the provider asserted, else its subject; and beside either, the address typed to
 * start whenever it is known and the provider did not say the same: the person who typed
 * bob@… and came back as carol@…, or whom the provider named only by `sub`. Marked as typed,
 * since nobody confirmed it. With neither, only the typed address, or "unknown".
 */
function who(e: AuditEvent, typedEmail: string | undefined): SafeHtml {
  const typed =
    typedEmail && typedEmail.toLowerCase() !== e.email?.toLowerCase()
      ? html`<span data-testid="typed-email">${typedEmail}</span> <span class="muted">(typed at sign-in, not confirmed by the provider)</span>`
      : undefined;
  const asserted = e.email ? html`${e.email}` : e.subject ? html`<code>sub ${e.subject}</code>` : undefined;
  if (asserted && typed) return html`${asserted}<br>${typed}`;
  return asserted ?? typed ?? html`<span class="muted">unknown</span>`;
}
