// Who may use coord ui's page (core/status/ui-access.ts): the right Host, the token,
// and for a change the page's own Origin; anything else is refused.
import { describe, expect, it } from "vitest";
import { ownHost, ownOrigin, sameToken, uiRefusal } from "../../../src/core/status/ui-access.js";

const access = { port: 3000, token: "s3cret-token_xyz" };
const ok = { host: "127.0.0.1:3000", token: access.token };

describe("uiRefusal", () => {
  const cases: [string, Parameters<typeof uiRefusal>[0], RegExp | undefined][] = [
    ["GET with the token and Host 127.0.0.1", { method: "GET", ...ok }, undefined],
    ["GET by the name localhost", { method: "GET", host: "localhost:3000", token: access.token }, undefined],
    ["Host names are case-insensitive", { method: "GET", host: "LOCALHOST:3000", token: access.token }, undefined],
    ["no token", { method: "GET", host: ok.host }, /token is missing or wrong/],
    ["an empty token", { method: "GET", host: ok.host, token: "" }, /token is missing or wrong/],
    ["a wrong token", { method: "GET", host: ok.host, token: "s3cret-token_xyZ" }, /token is missing or wrong/],
    ["the token with more after it", { method: "GET", host: ok.host, token: `${access.token}x` }, /token is missing or wrong/],
    ["a rebinding DNS name (another Host)", { method: "GET", host: "evil.example:3000", token: access.token }, /answers only to Host/],
    ["Host without the port", { method: "GET", host: "127.0.0.1", token: access.token }, /answers only to Host/],
    ["Host with another port", { method: "GET", host: "127.0.0.1:3001", token: access.token }, /answers only to Host/],
    ["Host 0.0.0.0", { method: "GET", host: "0.0.0.0:3000", token: access.token }, /answers only to Host/],
    ["no Host", { method: "GET", token: access.token }, /answers only to Host/],
    ["a wrong Host is refused before the token is looked at", { method: "GET", host: "evil.example:3000" }, /answers only to Host/],
    ["POST from the page", { method: "POST", ...ok, origin: "http://127.0.0.1:3000" }, undefined],
    ["POST from the page by localhost", { method: "POST", host: "localhost:3000", token: access.token, origin: "http://localhost:3000" }, undefined],
    ["POST without Origin", { method: "POST", ...ok }, /Origin/],
    ["POST from another site", { method: "POST", ...ok, origin: "http://evil.example" }, /Origin/],
    ["POST from another local port", { method: "POST", ...ok, origin: "http://127.0.0.1:8080" }, /Origin/],
    ["POST with Origin null (a sandboxed frame)", { method: "POST", ...ok, origin: "null" }, /Origin/],
    ["POST from the other name of the page (Origin must match Host)", { method: "POST", ...ok, origin: "http://localhost:3000" }, /Origin/],
    ["POST over https (not the page)", { method: "POST", ...ok, origin: "https://127.0.0.1:3000" }, /Origin/],
    ["POST from the page without the token", { method: "POST", host: ok.host, origin: "http://127.0.0.1:3000" }, /token/],
    ["DELETE counts as a change", { method: "DELETE", ...ok, origin: "http://evil.example" }, /Origin/],
  ];
  it.each(cases)("%s", (_, req, refused) => {
    const why = uiRefusal(req, access);
    if (refused) expect(why).toMatch(refused);
    else expect(why).toBeUndefined();
  });
});

describe("sameToken, ownHost, ownOrigin", () => {
  it("compares tokens of any length without throwing, and never accepts an empty expected token", () => {
    expect(sameToken("abc", "abc")).toBe(true);
    expect(sameToken("ab", "abc")).toBe(false);
    expect(sameToken("a".repeat(10_000), "abc")).toBe(false);
    expect(sameToken(null, "abc")).toBe(false);
    expect(sameToken(undefined, "abc")).toBe(false);
    expect(sameToken("", "")).toBe(false);
  });

  it("takes the bound address and localhost with the port, nothing else", () => {
    expect(ownHost("127.0.0.1:80", 80)).toBe(true);
    expect(ownHost("[::1]:80", 80)).toBe(false);
    expect(ownHost("127.0.0.2:80", 80)).toBe(false);
    expect(ownHost("localhost.evil.example:80", 80)).toBe(false);
    expect(ownOrigin("http://127.0.0.1:80", "127.0.0.1:80", 80)).toBe(true);
    expect(ownOrigin("http://127.0.0.1:80", "evil.example:80", 80)).toBe(false);
  });
});
