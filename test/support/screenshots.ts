/**
 * Captures the main pages at desktop and phone sizes, for a person to look at:
 *
 *   node --import tsx test/support/screenshots.ts [outdir]     (default /tmp/gatehouse-shots)
 *
 * Pages that do not exist yet (they answer 404) are skipped. A component gallery, rendered by
 * the real layout and served on Gatehouse's own origin so the real CSP applies, shows every
 * class in the stylesheet's vocabulary, including ones no page uses yet.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { createOrganizationWithAdmin } from "../../src/accounts/organizations.js";
import type { ActiveSession } from "../../src/store/sessions.js";
import { html } from "../../src/web/html.js";
import { layout } from "../../src/web/layout.js";
import { CHROMIUM_ARGS, chromiumPath } from "./chromium.js";
import { startGatehouse, type TestGatehouse } from "./gatehouse.js";

const EMAIL = "ada@acme.test";
const PASSWORD = "correct horse battery staple";

const viewports = {
  desktop: { width: 1280, height: 800 },
  phone: { width: 390, height: 844 },
} as const;

type ViewportName = keyof typeof viewports;

const adminPages = [
  ["admin", "/admin"],
  ["admin-enterprise-authentication", "/admin/enterprise-authentication"],
  ["admin-oidc", "/admin/enterprise-authentication/oidc"],
] as const;

function gallerySession(): ActiveSession {
  return {
    idHash: "gallery",
    userId: "u_gallery",
    email: EMAIL,
    name: "Ada Lovelace",
    organizationId: "o_gallery",
    organizationSlug: "acme",
    organizationName: "Acme Corporation",
    role: "owner",
    method: "password",
    connectionId: null,
    connectionName: null,
    createdAt: 0,
    expiresAt: 0,
  };
}

function galleryPage(): string {
  return layout({
    title: "Component gallery",
    session: gallerySession(),
    csrfToken: "gallery",
    breadcrumbs: [
      { label: "Administration", href: "/admin" },
      { label: "Enterprise Authentication", href: "/admin/enterprise-authentication" },
      { label: "Open ID Connect" },
    ],
    body: html`<section class="page-head">
  <h1>Open ID Connect <span class="badge badge-success">Enabled</span></h1>
  <p class="muted">Let your team sign in with your company's identity provider, such as Okta or Microsoft Entra ID.</p>
</section>
<p class="alert alert-success" role="status">The connection <strong>Okta</strong> is enabled. Members of acme.test now sign in with single sign-on.</p>
<p class="alert alert-error" role="alert">The issuer https://acme.okta.com does not publish /.well-known/openid-configuration.</p>
<p class="alert alert-info">Test the connection in a private window before you sign out.</p>
<p class="notice" role="status">You have been signed out.</p>
<h2 class="section-title">Integrations</h2>
<ul class="tile-grid">
  <li class="tile"><h3>Open ID Connect <span class="badge badge-success">Enabled</span></h3><p>Okta, Microsoft Entra ID, Google Workspace, Auth0, Keycloak and any other OpenID Provider.</p><p class="actions"><a class="btn btn-secondary" href="#">Manage</a></p></li>
  <li class="tile"><h3>SAML 2.0 <span class="badge badge-neutral">Coming soon</span></h3><p>For identity providers that only speak SAML.</p></li>
  <li class="tile"><h3>Directory sync <span class="badge badge-warning">Needs attention</span></h3><p>Provision and deprovision users automatically with SCIM.</p><p class="actions"><a class="btn btn-primary" href="#">Connect</a></p></li>
</ul>
<section class="card">
  <h2>Setup</h2>
  <p>Create a Web application in your identity provider, then paste its values here.</p>
  <form method="post" action="#" class="stack" novalidate>
    <div class="field">
      <label for="callback">Callback URL</label>
      <div class="copy-field"><input id="callback" type="text" readonly value="http://localhost:3000/sso/oidc/callback"><button type="button" class="btn btn-secondary" data-copy="#callback">Copy</button></div>
      <p class="field-help">Enter this as the sign-in redirect URI of the application.</p>
    </div>
    <div class="field">
      <label for="name">Connection name</label>
      <input id="name" name="name" value="Okta">
    </div>
    <div class="field has-error">
      <label for="issuer">Issuer URL</label>
      <input id="issuer" name="issuer" type="url" value="https://acme.okta.com" aria-invalid="true" aria-describedby="issuer-error">
      <p class="field-error" id="issuer-error">The issuer https://acme.okta.com does not publish /.well-known/openid-configuration.</p>
    </div>
    <div class="field">
      <label for="secret">Client secret</label>
      <input id="secret" name="secret" type="password" disabled value="secret">
      <p class="field-help">Stored encrypted; never shown again.</p>
    </div>
    <div class="actions"><button type="submit" class="btn btn-primary">Create</button><button type="button" class="btn btn-secondary" disabled>Disabled</button><a class="btn btn-ghost" href="#">Cancel</a></div>
  </form>
</section>
<section class="card">
  <dl class="facts">
    <div><dt>Status</dt><dd><span class="badge badge-success">Enabled</span></dd></div>
    <div><dt>Issuer</dt><dd><code>https://acme.okta.com/oauth2/default</code></dd></div>
    <div><dt>Client ID</dt><dd><code>0oa1b2c3d4e5f6g7h8i9</code></dd></div>
    <div><dt>Domains</dt><dd>acme.test, acme.example</dd></div>
    <div><dt>Home page</dt><dd><div class="copy-field"><code id="home-url">http://localhost:3000/</code><button type="button" class="btn btn-secondary" data-copy="#home-url">Copy</button></div></dd></div>
  </dl>
</section>
<h2 class="section-title">Recent sign-ins</h2>
<section class="card">
  <table class="table">
    <thead><tr><th>When</th><th>User</th><th>Result</th><th>Reason</th></tr></thead>
    <tbody>
      <tr><td>2 minutes ago</td><td>grace@acme.test</td><td><span class="badge badge-success">Succeeded</span></td><td>—</td></tr>
      <tr><td>5 minutes ago</td><td>linus@acme.test</td><td><span class="badge badge-warning">Failed</span></td><td><code>SSO_ISSUER_MISMATCH</code></td></tr>
    </tbody>
  </table>
</section>
<section class="danger-zone">
  <h2>Delete this connection</h2>
  <p>Members of acme.test will sign in with passwords or LinkedIn again.</p>
  <p class="actions"><a class="btn btn-danger" href="#" data-dialog="#delete-dialog">Delete connection</a></p>
</section>
<dialog class="dialog" id="delete-dialog" aria-labelledby="delete-title">
  <form method="post" action="#">
    <h2 id="delete-title">Delete the connection Okta?</h2>
    <p>Everyone who signed in through it is signed out. This cannot be undone.</p>
    <div class="actions"><button type="submit" formmethod="dialog" class="btn btn-secondary">Cancel</button><button type="submit" class="btn btn-danger">Delete</button></div>
  </form>
</dialog>`,
  });
}

function authGalleryPage(): string {
  return layout({
    title: "Auth gallery",
    variant: "auth",
    body: html`<section class="card auth-card">
  <div class="status-icon status-success" aria-hidden="true">✓</div>
  <h1>Connection enabled</h1>
  <p class="lead">Members of acme.test now sign in through Okta.</p>
  <div class="divider"><span>or</span></div>
  <a class="btn btn-secondary btn-block btn-linkedin" href="#">Continue with LinkedIn</a>
  <p class="trace">Reference code: <code class="trace-id">01HZX3Q9V7K2M4N8P6R5T1W0YA</code><br><span class="muted">Give this code to your administrator.</span></p>
  <p class="auth-links"><a href="#">Sign in with SSO</a></p>
</section>`,
  });
}

async function shoot(page: Page, dir: string, name: string): Promise<string> {
  const file = path.join(dir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

async function capture(
  gh: TestGatehouse,
  context: BrowserContext,
  dir: string,
  suffix: string,
): Promise<string[]> {
  const files: string[] = [];
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("console", (message) => {
    // Error statuses (the wrong password's 401, the unknown page's 404) are expected here.
    if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) {
      problems.push(message.text());
    }
  });
  page.on("pageerror", (error) => problems.push(error.message));
  await page.route(`${gh.url}/__gallery*`, (route) =>
    route.fulfill({
      contentType: "text/html; charset=utf-8",
      body: route.request().url().endsWith("auth") ? authGalleryPage() : galleryPage(),
    }),
  );
  const at = (name: string) => `${name}-${suffix}`;

  await page.goto(`${gh.url}/`);
  files.push(await shoot(page, dir, at("home-signed-out")));
  await page.goto(`${gh.url}/login`);
  files.push(await shoot(page, dir, at("login")));
  await page.fill("#email", EMAIL);
  await Promise.all([page.waitForURL(/\/login/), page.click("button[type=submit]")]);
  files.push(await shoot(page, dir, at("login-password")));
  await page.fill("#password", "not the password");
  await page.click("button[type=submit]");
  await page.waitForLoadState();
  files.push(await shoot(page, dir, at("login-wrong-password")));
  await page.fill("#password", PASSWORD);
  await Promise.all([page.waitForURL(`${gh.url}/`), page.click("button[type=submit]")]);
  files.push(await shoot(page, dir, at("home-signed-in")));
  await page.goto(`${gh.url}/nope`);
  files.push(await shoot(page, dir, at("error-not-found")));

  for (const [name, route] of adminPages) {
    const answer = await page.goto(`${gh.url}${route}`);
    if (answer?.status() === 404) continue;
    files.push(await shoot(page, dir, at(name)));
  }

  await page.goto(`${gh.url}/__gallery`);
  files.push(await shoot(page, dir, at("gallery")));
  await page.click("[data-copy='#callback']");
  await page.click("[data-dialog='#delete-dialog']");
  await page.waitForTimeout(250);
  await page.screenshot({ path: path.join(dir, `${at("gallery-dialog")}.png`) });
  files.push(path.join(dir, `${at("gallery-dialog")}.png`));
  await page.keyboard.press("Escape");
  await page.goto(`${gh.url}/__gallery-auth`);
  files.push(await shoot(page, dir, at("gallery-auth")));

  if (problems.length > 0) console.error(`console errors (${suffix}):\n  ${problems.join("\n  ")}`);
  await page.close();
  return files;
}

async function main(): Promise<void> {
  const dir = path.resolve(process.argv[2] ?? "/tmp/gatehouse-shots");
  mkdirSync(dir, { recursive: true });
  const gh = await startGatehouse();
  const browser = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS });
  try {
    await createOrganizationWithAdmin(gh.ctx, {
      slug: "acme",
      name: "Acme Corporation",
      adminEmail: EMAIL,
      adminPassword: PASSWORD,
      adminName: "Ada Lovelace",
    });
    const runs: [ViewportName, "light" | "dark"][] = [
      ["desktop", "light"],
      ["phone", "light"],
      ["desktop", "dark"],
    ];
    for (const [viewport, colorScheme] of runs) {
      const context = await browser.newContext({ viewport: viewports[viewport], colorScheme });
      const suffix = colorScheme === "dark" ? `${viewport}-dark` : viewport;
      const files = await capture(gh, context, dir, suffix);
      await context.close();
      console.log(files.join("\n"));
    }
  } finally {
    await browser.close();
    await gh.close();
  }
}

await main();
