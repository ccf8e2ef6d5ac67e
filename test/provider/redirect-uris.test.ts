import assert from "node:assert/strict";
import { test } from "node:test";
import { nativeRedirectUriProblem, uriProblem } from "../../src/provider/redirect-uris.js";

// [uri, accepted for a native application, accepted for a web application]
const cases: [string, boolean, boolean][] = [
  ["http://127.0.0.1/callback", true, true],
  ["http://127.0.0.1:8400/callback", true, true],
  ["http://[::1]/callback", true, true],
  ["http://[::1]:8400/callback", true, true],
  // RFC 8252 8.3: localhost is NOT RECOMMENDED for native apps; web apps keep it for development.
  ["http://localhost/callback", false, true],
  ["http://localhost:3000/callback", false, true],
  ["http://127.0.0.2/callback", false, false],
  ["http://app.example/callback", false, false],
  ["https://app.example/callback", true, true],
  ["https://localhost/callback", false, true],
  ["https://127.0.0.1/callback", false, true],
  ["com.example.app:/callback", true, false],
  ["com.example.app:/oauth2redirect/gatehouse", true, false],
  ["com.example.app://callback", true, false],
  ["com.example-corp.app:/callback", true, false],
  ["myapp:/callback", false, false],
  ["javascript:alert(1)", false, false],
  ["data:text/html,hi", false, false],
  ["file:///etc/passwd", false, false],
  ["vbscript:msgbox", false, false],
  ["about:blank", false, false],
  ["http.example.com:/callback", false, false],
  ["https.example.com:/callback", false, false],
  ["javascript.example.com:/callback", false, false],
  ["com..app:/callback", false, false],
  ["com.example.-app:/callback", false, false],
  ["com.example.app+x:/callback", false, false],
  ["com.example.app:/callback#fragment", false, false],
  ["http://user:pw@127.0.0.1/callback", false, false],
  ["/callback", false, false],
  ["not a uri", false, false],
];

test("which redirect URIs a native application may register (RFC 8252 7.1-7.3, 8.3)", () => {
  for (const [uri, native] of cases) {
    assert.equal(
      nativeRedirectUriProblem(uri) === undefined,
      native,
      `${uri}: ${nativeRedirectUriProblem(uri)}`,
    );
  }
});

test("a web application's redirect URIs keep their rules: https, or http on a loopback host", () => {
  for (const [uri, , web] of cases) {
    assert.equal(uriProblem(uri) === undefined, web, `${uri}: ${uriProblem(uri)}`);
  }
});

test("a refused native redirect URI says what to use instead", () => {
  assert.match(nativeRedirectUriProblem("http://localhost/cb") ?? "", /127\.0\.0\.1.*\[::1\]/);
  assert.match(nativeRedirectUriProblem("myapp:/cb") ?? "", /reverse-domain.*com\.example\.app/);
});
