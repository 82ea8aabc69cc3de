// ORDERS.json's keys (core/trust/roster.ts): what a verifying machine believes, read from the text as written.
import { describe, expect, it } from "vitest";
import { rosterAdmits, rosterKeyProblem, rosterOf } from "../../../src/core/trust/roster.js";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOv9x0VrYzPj1cO7bq6pX1T4V4kV6VqQ2bGqLrY0KcZc";
const orders = (extra: object) => JSON.stringify({ version: 1, orders: [], ...extra });

describe("rosterOf", () => {
  it.each([
    ["no ORDERS.json", undefined, null],
    ["no keys: trust on first use", orders({}), null],
    ["a half-done edit: the roster last read stands", '{"version": 1, "orders": [', undefined],
    ["not an object", "[]", undefined],
    ["keys, one with a comment after it (a .pub line)", orders({ keys: { "build-1": `${KEY} build-1@host` } }), [["build-1", KEY]]],
    ["an empty object: nobody else is believed", orders({ keys: {} }), []],
    ["keys that are not an object: nobody else is believed", orders({ keys: "all" }), []],
    ["a bad key is left out (that machine is not believed)", orders({ keys: { a: "ssh-ed25519 short", b: KEY } }), [["b", KEY]]],
    ["a bad name is left out", orders({ keys: { "../x": KEY } }), []],
    ["a name written twice is left out (JSON.parse keeps the last)", `{"version": 1, "orders": [], "keys": {"a": "${KEY}", "b": "${KEY}", "a": "${KEY} x"}}`, [["b", KEY]]],
    ["__proto__ is a name like any other, and not one a machine may have", `{"version": 1, "orders": [], "keys": {"__proto__": "${KEY}"}}`, []],
  ])("%s", (_, text, want) => {
    const got = rosterOf(text);
    if (want === null || want === undefined) expect(got).toBe(want);
    else expect([...got!]).toEqual(want);
  });
});

describe("rosterKeyProblem", () => {
  it.each([
    [KEY, undefined],
    [`${KEY} a comment`, undefined],
    ["ssh-ed25519", "is not an SSH public key"],
    [42, "must be an SSH public key as a string"],
  ])("%j", (value, problem) => {
    const got = rosterKeyProblem(value);
    if (problem === undefined) expect(got).toBeUndefined();
    else expect(got).toContain(problem);
  });
});

describe("rosterAdmits", () => {
  const roster = new Map([["a", KEY]]);
  it.each([
    ["no roster: everyone", undefined, "x", true],
    ["a named machine", roster, "a", true],
    ["a machine not named", roster, "x", false],
    ["the machine itself, named or not", roster, "me", true],
  ])("%s", (_, r, owner, want) => {
    expect(rosterAdmits(r, owner, "me")).toBe(want);
  });
});
