// What a person is shown of text from elsewhere: core/files/shown.ts.
import { describe, expect, it } from "vitest";
import { LINE_BREAKS, sanitizeText, shownLine } from "../../../src/core/files/shown.js";

describe("sanitizeText: what a person cannot see, or that reorders what they see, is escaped", () => {
  const table: [string, string, string][] = [
    ["right-to-left override (U+202E)", "ls # \u202e; touch x", "ls # \\u202e; touch x"],
    ["left-to-right and right-to-left embeddings, pop (U+202A, U+202B, U+202C)", "\u202aa\u202bb\u202c", "\\u202aa\\u202bb\\u202c"],
    ["left-to-right override (U+202D)", "\u202dx", "\\u202dx"],
    ["isolates (U+2066–2069)", "\u2066a\u2067b\u2068c\u2069", "\\u2066a\\u2067b\\u2068c\\u2069"],
    ["marks (U+200E, U+200F, U+061C)", "\u200e\u200f\u061c", "\\u200e\\u200f\\u061c"],
    ["zero-width space in a path (U+200B)", "rm /tmp/a\u200bb", "rm /tmp/a\\u200bb"],
    ["zero-width non-joiner and joiner (U+200C, U+200D)", "a\u200cb\u200dc", "a\\u200cb\\u200dc"],
    ["word joiner, invisible operators (U+2060–2064)", "\u2060\u2061\u2064", "\\u2060\\u2061\\u2064"],
    ["byte order mark (U+FEFF)", "\ufeffhello", "\\ufeffhello"],
    ["soft hyphen (U+00AD)", "ex\u00adec", "ex\\u00adec"],
    ["line and paragraph separators (U+2028, U+2029)", "one\u2028two\u2029three", "one\\u2028two\\u2029three"],
    ["Mongolian vowel separator (U+180E)", "a\u180eb", "a\\u180eb"],
    ["interlinear annotation (U+FFF9–FFFB)", "\ufff9a\ufffab\ufffb", "\\ufff9a\\ufffab\\ufffb"],
    ["tag characters (U+E0041: ASCII smuggled past the eye)", "ok\u{e0041}\u{e0042}", "ok\\udb40\\udc41\\udb40\\udc42"],
    ["Hangul filler (U+3164, drawn as nothing)", "a\u3164b", "a\\u3164b"],
    ["combining grapheme joiner (U+034F)", "a\u034fb", "a\\u034fb"],
    ["a variation selector not after a pictograph", "a\ufe0fb\ufe00", "a\\ufe0fb\\ufe00"],
    ["private use (U+E000, U+F8FF, plane 15)", "\ue000\uf8ff\u{f0000}", "\\ue000\\uf8ff\\udb80\\udc00"],
    ["unassigned and noncharacters (U+0378, U+FFFF, U+FDD0)", "\u0378\uffff\ufdd0", "\\u0378\\uffff\\ufdd0"],
    ["lone surrogates", "a\ud800b\udc00", "a\\ud800b\\udc00"],
    ["C0 controls but tab and newline", "\u0000\u0007\u001b[31m\u000b\u000c", "\\u0000\\u0007\\u001b[31m\\u000b\\u000c"],
    ["a lone CR, DEL and C1 (NEL U+0085, CSI U+009B)", "a\rb\u007f\u0085\u009b", "a\\u000db\\u007f\\u0085\\u009b"],
  ];
  it.each(table)("%s", (_, raw, shown) => {
    expect(sanitizeText(raw)).toBe(shown);
    expect(sanitizeText(shown)).toBe(shown);
  });

  const kept: [string, string][] = [
    ["tab, newline; CRLF as LF", "a\tb\r\nc"],
    ["letters of every script, accents, CJK", "é ß 中文 עברית العربية"],
    ["no-break space and U+FFFD", "a\u00a0b \ufffd"],
    ["emoji, with their presentation selector and skin tone", "✅ ⚠️ ❤️ 😀 👍🏽 1️⃣ 🇫🇷"],
  ];
  it.each(kept)("keeps %s", (_, text) => {
    expect(sanitizeText(text)).toBe(text.replace(/\r\n/g, "\n"));
  });

  it("escapes no character of the ASCII printable range, and every C0 but tab and newline", () => {
    for (let c = 0x20; c < 0x7f; c++) expect(sanitizeText(String.fromCharCode(c))).toBe(String.fromCharCode(c));
    for (let c = 0; c < 0x20; c++) if (c !== 9 && c !== 10 && c !== 13) expect(sanitizeText(String.fromCharCode(c))).toMatch(/^\\u00[01][0-9a-f]$/);
  });

  it("escapes every format character (Unicode category Cf) of the Basic Multilingual Plane", () => {
    for (let c = 0; c < 0x10000; c++) {
      const ch = String.fromCharCode(c);
      if (/\p{Cf}/u.test(ch)) expect(sanitizeText(ch), c.toString(16)).toBe(`\\u${c.toString(16).padStart(4, "0")}`);
    }
  });

  it("leaves JSON the same JSON: the escapes land inside its strings", () => {
    const value = { command: "ls # \u202e; touch x\u2066", path: "a\u200bb\u2028\u{e0041}", n: 1 };
    const json = sanitizeText(JSON.stringify(value, null, 2));
    expect(json).not.toMatch(/[\u202e\u2066\u200b\u2028]/u);
    expect(JSON.parse(json)).toEqual(value);
  });
});

describe("shownLine and LINE_BREAKS: one line, every line break a space", () => {
  it.each([
    ["a\r\nb", "a b"],
    ["a\rb\nc", "a b c"],
    ["a\u2028b\u2029c", "a b c"],
    ["a\u0085b\vc\fd", "a b c d"],
    ["bell\u0007 \u202eevil", "bell\\u0007 \\u202eevil"],
  ])("%j → %j", (raw, shown) => {
    expect(shownLine(raw)).toBe(shown);
  });
  it("splits on each break", () => {
    expect("1\r\n2\r3\n4\v5\f6\u00857\u20288\u20299".split(LINE_BREAKS)).toEqual(["1", "2", "3", "4", "5", "6", "7", "8", "9"]);
  });
});
