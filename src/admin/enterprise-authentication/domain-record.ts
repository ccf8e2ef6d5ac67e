import { displayDomain } from "../../domain/organization-domains.js";
import type { VerifyResult } from "../../domains/verify.js";
import type { DomainView } from "../../domains/view.js";
import { html, type SafeHtml } from "../../web/html.js";
import { adminPaths, copyField } from "../components.js";

/**
 * The TXT record to publish, each part with a Copy button. The name is shown as DNS knows it
 * (punycode), which every DNS console accepts.
 */
export function recordFields(d: DomainView, idPrefix = "record"): SafeHtml {
  const unicodeName = displayDomain(d.record.name);
  return html`<div class="stack" data-testid="domain-record">
  <dl class="facts"><div><dt>Type</dt><dd><code>TXT</code></dd></div></dl>
  ${copyField({
    id: `${idPrefix}-name-${d.id}`,
    label: "Name (host)",
    value: d.record.name,
    help:
      unicodeName === d.record.name
        ? html`Some DNS consoles want only <code>_gatehouse-challenge</code> and add your domain themselves.`
        : html`The DNS form of <code>${unicodeName}</code>. Some DNS consoles want only <code>_gatehouse-challenge</code> and add your domain themselves.`,
  })}
  ${copyField({ id: `${idPrefix}-value-${d.id}`, label: "Value", value: d.record.value, help: "Paste it as is, without quotes." })}
</div>`;
}

export function verifyButton(d: DomainView, csrfToken: string, label = "Verify"): SafeHtml {
  return html`<form method="post" action="${adminPaths.verifyDomain(d.id)}" class="inline">
  <input type="hidden" name="_csrf" value="${csrfToken}">
  <button type="submit" class="btn ${label === "Verify" ? "btn-primary" : "btn-secondary"}" data-testid="verify-domain">${label}</button>
</form>`;
}

function list(names: readonly string[]): string {
  if (names.length <= 1) return names.join("");
  return `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`;
}

/**
 * What one Verify found, in plain words: exactly one of verified, no such record, records that do
 * not match (shown, so a doubled zone or added quotes can be seen), a DNS failure, or, rarely,
 * another organization verifying the domain first.
 */
export function verifyOutcome(d: DomainView, result: VerifyResult, usedBy: readonly string[]): SafeHtml {
  const name = d.displayName;
  const at = html`<code>${d.record.name}</code>`;
  const box = (kind: string, body: SafeHtml) =>
    html`<div class="alert ${kind}" role="${kind === "alert-success" ? "status" : "alert"}" data-testid="verify-outcome" data-outcome="${result.outcome}" data-domain="${d.domain}">${body}</div>`;
  switch (result.outcome) {
    case "verified":
      return box(
        "alert-success",
        html`<p><strong>${name} is verified.</strong> ${
          usedBy.length > 0
            ? `People at ${name} now sign in through ${list(usedBy)}; password and LinkedIn sign-in are refused for them.`
            : `List it on a connection to send people at ${name} to your identity provider.`
        }</p>
<p>Keep the record published: Gatehouse checks it again every day.</p>`,
      );
    case "no_record":
      return box(
        "alert-warning",
        html`<p><strong>No record found for ${name}.</strong> There is no TXT record at ${at} yet.</p>
<p>Publish the record below at your DNS provider, then click Verify again. A new record can take a few minutes, sometimes an hour, to be visible.</p>`,
      );
    case "mismatch":
      return box(
        "alert-warning",
        html`<p><strong>${result.found.length === 1 ? "A TXT record is" : "TXT records are"} published at ${at}, but ${result.found.length === 1 ? "it does" : "none"} not match.</strong> Gatehouse found:</p>
<ul data-testid="found-records">${result.found.map((v) => html`<li><code>${v}</code></li>`)}</ul>
<p>It expects exactly <code>${d.record.value}</code>. Look for your domain added twice, quotes added around the value, or a value cut short; then click Verify again.</p>`,
      );
    case "dns_error":
      return box(
        "alert-error",
        html`<p><strong>The DNS lookup for ${name} failed</strong> (${result.code}). Nothing was learned about the record, and nothing changed.</p>
<p>Try again in a minute. If it keeps failing, your domain's DNS servers may not be answering.</p>`,
      );
    case "verified_elsewhere":
      return box(
        "alert-error",
        html`<p><strong>${name} is verified by another organization.</strong> Your record matched, but another organization proved it owns ${name} first.</p>
<p>A domain is verified by one organization at a time. It moves only when that organization removes it, or when the Gatehouse operator steps in.</p>`,
      );
  }
}
