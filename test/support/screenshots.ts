/**
 * Captures the main pages at desktop and phone sizes, for a person to look at:
 *
 *   node --import tsx test/support/screenshots.ts [outdir]     (default /tmp/gatehouse-shots)
 *   SHOTS=all node --import tsx test/support/screenshots.ts    (also 768px and 360px wide)
 *
 * Pages that do not exist yet (they answer 404) are skipped. A component gallery, rendered by
 * the real layout and served on Gatehouse's own origin so the real CSP applies, shows every
 * class in the stylesheet's vocabulary, including ones no page uses yet.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { createOrganizationWithAdmin } from "../../src/accounts/organizations.js";
import { stateBadge, stateLabel } from "../../src/admin/enterprise-authentication/state.js";
import { createConnection } from "../../src/connections/create.js";
import type { ActiveSession } from "../../src/store/sessions.js";
import { html } from "../../src/web/html.js";
import { layout } from "../../src/web/layout.js";
import { CHROMIUM_ARGS, chromiumPath } from "./chromium.js";
import { startGatehouse, type TestGatehouse } from "./gatehouse.js";
import { startIdp } from "./sso.js";

const EMAIL = "ada@acme.test";
/** An admin whose domain has an enabled connection: password sign-in is refused. */
const SSO_EMAIL = "bob@globex.test";
const PASSWORD = "correct horse battery staple";

const viewports = {
  desktop: { width: 1280, height: 800 },
  tablet: { width: 768, height: 1024 },
  phone: { width: 390, height: 844 },
  narrow: { width: 360, height: 740 },
} as const;

type ViewportName = keyof typeof viewports;

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
    authenticatedAfresh: true,
    expiresAt: 0,
    lastSeenAt: 0,
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
  <li class="tile"><h3>SAML 2.0 <span class="${stateBadge["not-connected"]}">${stateLabel["not-connected"]}</span></h3><p>AD FS, Shibboleth, and Okta, Microsoft Entra ID or Google Workspace SAML apps: for identity providers that speak SAML.</p><p class="actions"><a class="btn btn-primary" href="#">Connect</a></p></li>
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
  <p>Of the 3 people at acme.test, 2 can sign in with a password or LinkedIn instead; <strong>1 has neither: they will not be able to sign in until a connection for acme.test exists again.</strong></p>
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

/** One screenshot session in one browser context; optional steps are skipped, not fatal. */
class Session {
  readonly files: string[] = [];
  readonly problems: string[] = [];

  private constructor(
    readonly gh: TestGatehouse,
    readonly page: Page,
    readonly dir: string,
    readonly suffix: string,
  ) {}

  static async open(gh: TestGatehouse, context: BrowserContext, dir: string, suffix: string) {
    const page = await context.newPage();
    const session = new Session(gh, page, dir, suffix);
    page.on("console", (message) => {
      // Error statuses (the wrong password's 401, the unknown page's 404) are expected here.
      if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) {
        session.problems.push(message.text());
      }
    });
    page.on("pageerror", (error) => session.problems.push(error.message));
    await page.route(`${gh.url}/__gallery*`, (route) =>
      route.fulfill({
        contentType: "text/html; charset=utf-8",
        body: route.request().url().endsWith("auth") ? authGalleryPage() : galleryPage(),
      }),
    );
    return session;
  }

  async shot(name: string, fullPage = true): Promise<void> {
    const file = path.join(this.dir, `${name}-${this.suffix}.png`);
    await this.page.screenshot({ path: file, fullPage });
    this.files.push(file);
  }

  /** Visits a page and captures it, unless it does not exist yet. */
  async visit(name: string, route: string): Promise<boolean> {
    const answer = await this.page.goto(`${this.gh.url}${route}`);
    if (answer?.status() === 404 && route !== "/nope") {
      this.problems.push(`skipped ${route}: 404`);
      return false;
    }
    await this.shot(name);
    return true;
  }

  async step(label: string, run: () => Promise<void>): Promise<void> {
    try {
      await run();
    } catch (error) {
      this.problems.push(
        `skipped ${label}: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`,
      );
    }
  }

  async signIn(email: string, password: string): Promise<void> {
    const { page, gh } = this;
    await page.goto(`${gh.url}/login`);
    await page.fill("#email", email);
    await Promise.all([page.waitForURL(/\/login/), page.click("button[type=submit]")]);
    await page.fill("#password", password);
    await Promise.all([page.waitForLoadState(), page.click("button[type=submit]")]);
  }
}

/** Before any connection exists: sign-in, home, errors, the admin pages and the Setup form. */
async function firstPass(s: Session): Promise<void> {
  const { page, gh } = s;
  await s.visit("home-signed-out", "/");
  if (await s.visit("login", "/login")) {
    // Keyboard focus moves from the autofocused email to the button: its ring must show.
    await page.keyboard.press("Tab");
    await s.shot("login-focus-ring", false);
  }
  await s.visit("sso", "/sso");
  await s.step("login steps", async () => {
    await page.goto(`${gh.url}/login`);
    await page.fill("#email", EMAIL);
    await Promise.all([page.waitForURL(/\/login/), page.click("button[type=submit]")]);
    await s.shot("login-password");
    await page.fill("#password", "not the password");
    await Promise.all([page.waitForLoadState(), page.click("button[type=submit]")]);
    await s.shot("login-wrong-password");
    await page.fill("#password", PASSWORD);
    await Promise.all([page.waitForURL(`${gh.url}/`), page.click("button[type=submit]")]);
    await s.shot("home-signed-in");
  });
  await s.visit("error-not-found", "/nope");
  await s.visit("admin", "/admin");
  await s.visit("admin-enterprise-authentication", "/admin/enterprise-authentication");
  if (await s.visit("admin-domains-empty", "/admin/enterprise-authentication/domains")) {
    await s.step("domains", async () => {
      await page.fill("#field-domain", "gmail.com");
      await Promise.all([page.waitForLoadState(), page.click("[data-testid=add-domain-submit]")]);
      await s.shot("admin-domains-refused");
      // Each viewport visits the same organization: the domain is added once.
      await page.goto(`${gh.url}/admin/enterprise-authentication/domains`);
      if ((await page.locator("[data-testid=domain]").count()) === 0) {
        await page.fill("#field-domain", "screenshots-corp.example");
        await Promise.all([page.waitForLoadState(), page.click("[data-testid=add-domain-submit]")]);
      }
      await s.shot("admin-domains-pending");
    });
  }
  if (await s.visit("admin-oidc-setup", "/admin/enterprise-authentication/oidc")) {
    await s.step("advanced settings", async () => {
      await page.click("details summary", { timeout: 2000 });
      await s.shot("admin-oidc-setup-advanced");
    });
    await s.step("setup form errors", async () => {
      await page.fill("#field-issuer", "https://acme.okta.invalid");
      await Promise.all([page.waitForLoadState(), page.click("form.stack button[type=submit]")]);
      await s.shot("admin-oidc-setup-errors");
    });
  }
  await s.step("gallery", async () => {
    await page.goto(`${gh.url}/__gallery`);
    await s.shot("gallery");
    await page.click("[data-copy='#callback']");
    await page.locator("[data-copy='#callback']").scrollIntoViewIfNeeded();
    await s.shot("gallery-copied", false);
    await page.click("[data-dialog='#delete-dialog']");
    await page.waitForTimeout(250);
    await s.shot("gallery-dialog", false);
    await page.keyboard.press("Escape");
    await page.goto(`${gh.url}/__gallery-auth`);
    await s.shot("gallery-auth");
  });
}

/** With connections: the enabled connection, its delete dialog and page, a test sign-in, and SSO-required. */
async function secondPass(s: Session): Promise<void> {
  const { page } = s;
  await s.step("admin with a connection", async () => {
    await s.signIn(EMAIL, PASSWORD);
    await s.visit("admin-enterprise-authentication-enabled", "/admin/enterprise-authentication");
    if (!(await s.visit("admin-oidc-connection", "/admin/enterprise-authentication/oidc"))) return;
    const remove = page.locator("[data-dialog]").first();
    const confirmHref = await remove.getAttribute("href");
    await remove.scrollIntoViewIfNeeded();
    await remove.click();
    await page.waitForTimeout(250);
    await s.shot("admin-oidc-delete-dialog", false);
    await page.keyboard.press("Escape");
    if (confirmHref) await s.visit("admin-oidc-delete-page", confirmHref);
  });
  await s.step("test sign-in", async () => {
    // Acme Okta serves acme.example; Alice at acme.test shows a failed check with its values.
    await page.goto(`${s.gh.url}/admin/enterprise-authentication/oidc`);
    await page.locator("[data-testid=test-sign-in]").first().click();
    await page.waitForSelector("input[name=password]");
    await page.fill("input[name=email]", "alice@acme.test");
    await page.fill("input[name=password]", "alice-password");
    await page.click("button:has-text('Sign in')");
    await page.waitForSelector("[data-testid=test-outcome]");
    await s.shot("admin-oidc-test-sign-in-failed");
  });
  await s.step("test sign-in of an edit", async () => {
    // A name change, tested before Save: the result offers to save it.
    await page.goto(`${s.gh.url}/admin/enterprise-authentication/oidc`);
    await page.locator("[data-testid=edit-connection]").first().click();
    await page.waitForSelector("[data-testid=oidc-edit]");
    await page.fill("input[name=name]", "Acme Okta (tested)");
    await s.shot("admin-oidc-edit");
    await page.locator("[data-testid=test-sign-in]").first().click();
    await page.waitForSelector("[data-testid=test-outcome]");
    await s.shot("admin-oidc-edit-test");
  });
  await s.step("sso required", async () => {
    // An SSO domain's email step redirects to the IdP, so the password step is reached through
    // another account's form, re-addressed; the server must still refuse the password.
    await page.context().clearCookies();
    await page.goto(`${s.gh.url}/login`);
    await page.fill("#email", EMAIL);
    await Promise.all([page.waitForURL(/\/login/), page.click("button[type=submit]")]);
    await page.locator("input[name=email]").evaluate((input, email) => {
      (input as HTMLInputElement).value = email;
    }, SSO_EMAIL);
    await page.fill("#password", PASSWORD);
    await Promise.all([page.waitForLoadState(), page.click("button[type=submit]")]);
    await s.shot("sso-required");
  });
}

async function main(): Promise<void> {
  const dir = path.resolve(process.argv[2] ?? "/tmp/gatehouse-shots");
  mkdirSync(dir, { recursive: true });
  const gh = await startGatehouse();
  const idp = await startIdp(gh);
  const browser = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS });
  // SHOTS=all adds a tablet and the narrowest supported phone to the three usual runs.
  type Run = [ViewportName, "light" | "dark"];
  const extra: Run[] = [
    ["tablet", "light"],
    ["narrow", "light"],
  ];
  const runs: Run[] = [
    ["desktop", "light"],
    ["phone", "light"],
    ["desktop", "dark"],
    ...(process.env.SHOTS === "all" ? extra : []),
  ];
  const everyPass = async (pass: (s: Session) => Promise<void>) => {
    for (const [viewport, colorScheme] of runs) {
      const context = await browser.newContext({ viewport: viewports[viewport], colorScheme });
      await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: gh.url });
      const session = await Session.open(
        gh,
        context,
        dir,
        colorScheme === "dark" ? `${viewport}-dark` : viewport,
      );
      await pass(session);
      await context.close();
      console.log(session.files.join("\n"));
      if (session.problems.length > 0)
        console.error(`${session.suffix}:\n  ${session.problems.join("\n  ")}`);
    }
  };
  try {
    const acme = await createOrganizationWithAdmin(gh.ctx, {
      slug: "acme",
      name: "Acme Corporation",
      adminEmail: EMAIL,
      adminPassword: PASSWORD,
      adminName: "Ada Lovelace",
    });
    const globex = await createOrganizationWithAdmin(gh.ctx, {
      slug: "globex",
      name: "Globex",
      adminEmail: SSO_EMAIL,
      adminPassword: PASSWORD,
    });
    await everyPass(firstPass);
    // Acme's connection serves another of its domains, so its admin keeps password sign-in.
    const connect = (organizationId: string, name: string, domain: string) =>
      createConnection(gh.ctx, {
        organizationId,
        input: {
          name,
          issuer: idp.issuer,
          clientId: "gatehouse-okta",
          clientSecret: "gatehouse-okta-secret",
          domains: [domain],
        },
        actorUserId: null,
      });
    await connect(acme.organization.id, "Acme Okta", "acme.example");
    await connect(globex.organization.id, "Globex Entra ID", "globex.test");
    await everyPass(secondPass);
  } finally {
    await browser.close();
    await idp.close();
    await gh.close();
  }
}

await main();
