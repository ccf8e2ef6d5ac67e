import assert from "node:assert/strict";
import { test } from "node:test";
import {
  checkRoleRule,
  decideRole,
  type RolePolicy,
  readGroups,
  roleChange,
  splitRoleRules,
} from "../../src/domain/provider-roles.js";

const policy: RolePolicy = {
  groupsClaim: "groups",
  rules: [
    { group: "Staff", role: "member" },
    { group: "Gatehouse Admins", role: "admin" },
  ],
  defaultRole: "member",
};

test("readGroups: arrays, a single string, absent, and Entra ID's overage markers", () => {
  const cases: [Record<string, unknown>, ReturnType<typeof readGroups>][] = [
    [{ groups: ["a", "b", 3] }, { kind: "groups", groups: ["a", "b"] }],
    [{ groups: "a" }, { kind: "groups", groups: ["a"] }],
    [{}, { kind: "absent" }],
    [
      { _claim_names: { groups: "src1" }, _claim_sources: {} },
      { kind: "overage", marker: "_claim_names" },
    ],
    [{ hasgroups: true }, { kind: "overage", marker: "hasgroups" }],
    [{ hasgroups: "true" }, { kind: "overage", marker: "hasgroups" }],
    [{ _claim_names: { roles: "src1" } }, { kind: "absent" }],
  ];
  for (const [claims, expected] of cases) assert.deepEqual(readGroups(claims, "groups"), expected);
});

test("decideRole: admin wins over member, else the default; no rules or overage leave members alone", () => {
  const cases: [RolePolicy, Record<string, unknown>, string, string | null][] = [
    [policy, { groups: ["Staff", "Gatehouse Admins"] }, "admin", "admin"],
    [policy, { groups: ["Staff"] }, "member", "member"],
    [policy, { groups: ["Other"] }, "member", "member"],
    [{ ...policy, defaultRole: "admin" }, { groups: [] }, "admin", "admin"],
    [policy, { hasgroups: true }, "member", null],
    [{ ...policy, rules: [] }, { groups: ["Gatehouse Admins"] }, "member", null],
    [{ ...policy, rules: [], defaultRole: "admin" }, {}, "admin", null],
  ];
  for (const [p, claims, forNew, forMember] of cases) {
    const d = decideRole(p, claims);
    assert.equal(d.roleForNewUser, forNew, JSON.stringify(claims));
    assert.equal(d.roleForMember, forMember, JSON.stringify(claims));
  }
});

test("roleChange: never an owner's role, and only when it differs", () => {
  const admin = decideRole(policy, { groups: ["Gatehouse Admins"] });
  const member = decideRole(policy, { groups: [] });
  assert.equal(roleChange("owner", admin), null);
  assert.equal(roleChange("owner", member), null, "an owner is never demoted");
  assert.equal(roleChange("member", admin), "admin");
  assert.equal(roleChange("admin", member), "member");
  assert.equal(roleChange("admin", admin), null);
  assert.equal(roleChange("admin", decideRole(policy, { hasgroups: true })), null);
});

test("rules: owner is refused, a missing role is explained, the last = separates", () => {
  assert.match(String(checkRoleRule({ group: "Founders", role: "owner" })), /cannot make anyone an owner/);
  assert.match(String(checkRoleRule({ group: "Staff", role: "" })), /Give "Staff" a role/);
  assert.deepEqual(checkRoleRule({ group: " Staff ", role: "member" }), { group: "Staff", role: "member" });
  assert.deepEqual(splitRoleRules("a=b = Admin\n\n  Staff = member \nloose"), [
    { group: "a=b", role: "admin" },
    { group: "Staff", role: "member" },
    { group: "loose", role: "" },
  ]);
});
