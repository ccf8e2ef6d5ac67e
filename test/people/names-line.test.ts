import assert from "node:assert/strict";
import { test } from "node:test";
import { givenAndFamilyLine } from "../../src/admin/people/page.js";

test("the given and family names are not repeated under the display name they make up", () => {
  assert.equal(
    givenAndFamilyLine({ name: "Alice Example", givenName: "Alice", familyName: "Example" }),
    undefined,
  );
  assert.equal(givenAndFamilyLine({ name: "Alice", givenName: "Alice", familyName: null }), undefined);
});

test("they are shown when they say something the display name does not", () => {
  assert.equal(
    givenAndFamilyLine({ name: "Dr. Alice Example", givenName: "Alice", familyName: "Example" }),
    "Alice · Example",
  );
  assert.equal(
    givenAndFamilyLine({ name: null, givenName: "Alice", familyName: "Example" }),
    "Alice · Example",
  );
  assert.equal(
    givenAndFamilyLine({ name: "Example, Alice", givenName: null, familyName: "Example" }),
    "Example",
  );
});

test("no given or family name, no line", () => {
  assert.equal(givenAndFamilyLine({ name: "Alice Example" }), undefined);
  assert.equal(givenAndFamilyLine({ name: null, givenName: "", familyName: null }), undefined);
});
