// The machine's private key never leaves in what is published, in any shape: its PEM lines, its body without its
// BEGIN/END lines, joined or wrapped anew, a piece of it (issue 58, finding 2).
import { describe, expect, it } from "vitest";
import { newKeyPair } from "../../../src/core/trust/sshsig.js";
import { base64Bodies, PIECE, redact, REDACTED, redactKeys } from "../../../src/core/trust/redact.js";

describe("redact: the machine's key", () => {
  const pair = newKeyPair("coord test");
  const pem = pair.privateKey;
  const body = pem
    .split("\n")
    .filter((l) => l && !l.startsWith("-----"))
    .join("");
  const lines = pem.split("\n").filter((l) => l && !l.startsWith("-----"));

  it("a key made as coord makes it: an OpenSSH body", () => {
    expect(body.startsWith("b3BlbnNzaC1rZXktdjEA")).toBe(true);
    expect(base64Bodies([pem])).toEqual([body.replace(/=+$/, "")]);
  });

  it.each([
    ["the whole file", pem],
    ["its body without BEGIN/END", lines.join("\n")],
    ["its body without its first line (the generic rule cannot see it)", lines.slice(1).join("\n")],
    ["its body on one line", body],
    ["its body wrapped at 64", body.replace(/(.{64})/g, "$1\n")],
    ["one line from its middle", lines[2]!],
    ["a piece inside other text", `key: ${body.slice(100, 100 + PIECE + 5)} ok`],
  ])("%s", (_w, shown) => {
    const out = redact(`answer:\n${shown}\ndone`, [pem]);
    for (let i = 0; i + PIECE <= body.length; i += 8) expect(out).not.toContain(body.slice(i, i + PIECE));
    expect(out).toContain(REDACTED);
    expect(out.startsWith("answer:\n")).toBe(true);
  });

  it("its public key is no secret: the .pub line, and a key given to pin, stay as they are", () => {
    for (let n = 0; n < 20; n++) {
      const k = newKeyPair(`coord m${n}`);
      const text = `pin my key: ${k.publicKey}`;
      expect(redact(text, [k.privateKey])).toBe(text);
      expect(redactKeys(text, [k.privateKey])).toBe(text);
    }
  });

  it("without the key given, an OpenSSH body is still found by its shape", () => {
    const out = redact(`cat says:\n${lines.join("\n")}\n`);
    expect(out).toBe(`cat says:\n${REDACTED}`);
    expect(redact("b3BlbnNzaC1rZXktdjEA is not a word here")).toBe(`${REDACTED} is not a word here`);
  });

  it("a message keeps its words, its secret shapes too, but never the key", () => {
    const text = `password=hunter2, and the key:\n${lines.slice(1).join("\n")}\nbye`;
    const out = redactKeys(text, [pem]);
    expect(out.startsWith("password=hunter2, and the key:\n")).toBe(true);
    expect(out.endsWith("\nbye")).toBe(true);
    for (const l of lines.slice(1)) expect(out).not.toContain(l.slice(0, PIECE));
    expect(redactKeys(`x ${lines[0]} y`, [])).toBe(`x ${REDACTED} y`);
  });

  it("leaves other base64 alone", () => {
    const other = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5eg==";
    expect(redact(`x ${other} y`, [pem])).toBe(`x ${other} y`);
    expect(redact("commit 0123456789abcdef0123456789abcdef01234567", [pem])).toBe("commit 0123456789abcdef0123456789abcdef01234567");
  });
});
