// What a person is shown of an agent's request, on the terminal, end to end on real git (issue 65, items 4 and 5):
// an agent on call (the stand-in claude: scripts/on-call-standins.mjs, whose "please run json:" reads escapes as a
// model may emit any character) asks to run a Bash command holding bidi controls and zero-width characters, and one
// whose middle its text cannot show. coord inbox and coord approve --show write what nobody could see as \u escapes;
// a plain coord approve of the long one is refused until the person names the digest that only the whole view prints.
import { describe, expect, it } from "vitest";
import { cli, tempDir } from "./helpers.js";
import { answerTo, onCallTests, requestFor } from "./on-call-fleet.js";
import { patient } from "./patience.js";

const t = onCallTests("coord-shown-");
const { dirOf, send, arrives } = t;

/** Characters a person cannot see, or that reorder what they see. */
const HIDDEN = /[\u202a-\u202e\u2066-\u2069\u200b-\u200f\u2028\u2029\u061c\ufeff]/u;

describe("what a person is shown of a request, on the terminal", () => {
  it("escapes bidi controls and zero-width characters in coord inbox and coord approve --show; a short request is approved as before", { timeout: patient(180_000) }, async () => {
    await t.claudeOnCall(["asker", "oncall"]);
    const asker = dirOf("asker");

    // 1. A command that the bidi override would show as "ls # ; touch …" commented out.
    const tricky = 'please run json: "ls \\u2066# \\u202e; touch /tmp/owned \\u2069\\u200b/tmp\\u2028x"';
    const q1 = await send("asker", "oncall", tricky);
    const r1 = await arrives("asker", requestFor(q1), "the request with bidi controls");
    expect(r1.text).toMatch(HIDDEN); // the request carries them raw: only what is shown escapes them
    const box = await cli("inbox", "--dir", asker);
    expect(box.code, box.err).toBe(0);
    expect(box.out).not.toMatch(HIDDEN);
    expect(box.out).toContain("Permission asked: Bash: ls \\u2066# \\u202e; touch /tmp/owned \\u2069\\u200b/tmp\\u2028x");
    const json = await cli("inbox", "--json", "--dir", asker);
    expect(json.out).not.toMatch(HIDDEN);
    expect((JSON.parse(json.out) as { id: string; text: string }[]).find((x) => x.id === r1.id)!.text).toBe(r1.text); // the same JSON
    const show1 = await cli("approve", r1.id, "--show", "--dir", asker);
    expect(show1.code, show1.err).toBe(0);
    expect(show1.out).not.toMatch(HIDDEN);
    expect(show1.out).toContain("Bash: ls \\u2066# \\u202e; touch /tmp/owned \\u2069\\u200b/tmp\\u2028x");
    // A short request: approved as before, no digest needed.
    const ok1 = await cli("approve", r1.id, "--dir", asker);
    expect(ok1.code, ok1.err).toBe(0);
    await arrives("asker", answerTo(q1), "the first answer");
  });

  it("a request over 2,000 characters hides its middle: a plain coord approve is refused until the digest --show prints is given", { timeout: patient(180_000) }, async () => {
    await t.claudeOnCall(["asker", "oncall"]);
    const asker = dirOf("asker");
    const long = `echo ${"a".repeat(1400)}; touch /tmp/hidden-in-the-middle; echo ${"b".repeat(1400)}`;
    const q2 = await send("asker", "oncall", `please run: ${long}`);
    const r2 = await arrives("asker", requestFor(q2), "the long request");
    expect(r2.text).not.toContain("touch /tmp/hidden-in-the-middle");
    expect(r2.text).toContain("characters not shown here");
    const plain = await cli("approve", r2.id, "--dir", asker);
    expect(plain.code).toBe(2);
    expect(plain.err).toContain(`request ${r2.id} is not approved: its text showed only part of its input; see all of it with coord approve ${r2.id} --show`);
    const show2 = await cli("approve", r2.id, "--show", "--dir", asker);
    expect(show2.code, show2.err).toBe(0);
    expect(show2.out).toContain(`Bash: ${long}`);
    const digest = /--digest ([0-9a-f]{12})$/m.exec(show2.out)![1]!;
    const wrong = await cli("approve", r2.id, "--digest", digest === "000000000000" ? "111111111111" : "000000000000", "--dir", asker);
    expect(wrong.code).toBe(2);
    expect(wrong.err).toContain("is not this request's");
    const ok2 = await cli("approve", r2.id, "--digest", digest, "--dir", asker);
    expect(ok2.code, ok2.err).toBe(0);
    const a2 = await arrives("asker", answerTo(q2), "the second answer");
    expect(a2.text).toBe(`ran: ${long}`);
  });
});

describe("a refusal that echoes what it was given", () => {
  it("coord init --name with an escape sequence, a bell and a bidi override: refused, the name shown escaped", async () => {
    const dir = await tempDir("coord-shown-init-");
    const r = await cli("init", `${dir}/fleet`, "--name", "bad\u001b[31m\u0007name\u202e", "--remote", `${dir}/hub.git`);
    expect(r.code).toBe(2);
    expect(r.err).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202e]/u);
    expect(r.err).toContain('--name "bad\\u001b[31m\\u0007name\\u202e" is not a valid machine name');
  });
});
