import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { ERRORS, type ErrorCode } from "../../src/error-registry.js";
import { GatehouseError } from "../../src/errors.js";
import { errorPage } from "../../src/web/error-page.js";

const codes = Object.keys(ERRORS) as ErrorCode[];

test("every error code declares an HTTP status, an audience and the words a person reads", () => {
  assert.ok(codes.length >= 50, `${codes.length} codes`);
  for (const code of codes) {
    const spec = ERRORS[code];
    assert.ok(
      Number.isInteger(spec.status) && spec.status >= 400 && spec.status < 600,
      `${code}: status ${spec.status}`,
    );
    assert.ok(["person", "admin", "api"].includes(spec.audience), `${code}: audience ${spec.audience}`);
    assert.ok(spec.title.trim().length > 0, `${code}: title`);
    assert.ok(spec.action.trim().length > 0, `${code}: action`);
    assert.ok(/[.!?]$/.test(spec.action), `${code}: the action is a sentence`);
  }
});

test("a GatehouseError answers with its code's status, and its page shows its code's words", () => {
  for (const code of codes) {
    assert.equal(new GatehouseError(code, "m").status, ERRORS[code].status, code);
    const page = errorPage({ code });
    assert.match(page, new RegExp(`data-error-code="${code}"`));
    assert.ok(page.includes(ERRORS[code].title.replace(/'/g, "&#39;")), `${code}: title on the page`);
  }
});

test("server errors are 5xx and nothing else is", () => {
  const serverSide = codes.filter((c) => ERRORS[c].status >= 500).sort();
  assert.deepEqual(serverSide, ["INTERNAL", "SERVICE_UNAVAILABLE"]);
});

test("no module outside the registry maps codes to statuses or words", () => {
  // The scattered tables this registry replaced must not come back.
  for (const file of ["src/errors.ts", "src/server/app.ts", "src/sso/routes.ts"]) {
    const source = readFileSync(file, "utf8");
    assert.doesNotMatch(source, /statusByCode|humanMessage|messages\.js/, file);
  }
});
