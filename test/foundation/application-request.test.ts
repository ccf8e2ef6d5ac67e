import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  interactionReturnTo,
  interactionUidOf,
  returnToAsksFreshSignIn,
} from "../../src/domain/application-request.js";

describe("an application's request as a return_to", () => {
  test("it says whether the application wants a fresh sign-in, and only then", () => {
    assert.equal(interactionReturnTo("abc_DEF-1", false), "/oidc/interaction/abc_DEF-1");
    assert.equal(interactionReturnTo("abc_DEF-1", true), "/oidc/interaction/abc_DEF-1?reauthenticate=1");
    const cases: [string, boolean][] = [
      ["/oidc/interaction/abc?reauthenticate=1", true],
      ["/oidc/interaction/abc", false],
      ["/oidc/interaction/abc?reauthenticate=0", false],
      // Only an application's request carries it: any other return_to is a plain sign-in.
      ["/admin?reauthenticate=1", false],
      ["/", false],
      ["/oidc/interactionX/abc?reauthenticate=1", false],
    ];
    for (const [returnTo, fresh] of cases) assert.equal(returnToAsksFreshSignIn(returnTo), fresh, returnTo);
  });

  test("it names the interaction it resumes", () => {
    const cases: [string, string | undefined][] = [
      ["/oidc/interaction/abc_DEF-1", "abc_DEF-1"],
      ["/oidc/interaction/abc?reauthenticate=1", "abc"],
      ["/oidc/interaction/abc/abort", undefined],
      ["/oidc/interaction/", undefined],
      ["/admin", undefined],
    ];
    for (const [returnTo, uid] of cases) assert.equal(interactionUidOf(returnTo), uid, returnTo);
  });
});
