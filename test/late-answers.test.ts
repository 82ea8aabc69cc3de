// A question to an agent CLI cut off before an answer keeps what was known (src/core/agents/late-answers.ts).
import { describe, expect, it } from "vitest";
import { type Answers, keptAnswers } from "../src/core/agents/late-answers.js";

const known: Answers = { version: "2.1.332", loggedIn: true };

describe("keptAnswers", () => {
  it.each<[string, Answers, Answers | undefined, Answers]>([
    ["answers that came stand", { version: "2.1.333", loggedIn: true }, known, { version: "2.1.333", loggedIn: true }],
    ["a late version keeps the one known", { loggedIn: true, late: { version: true } }, known, { version: "2.1.332", loggedIn: true }],
    ["a late login keeps the one known", { version: "2.1.332", late: { login: true } }, known, { version: "2.1.332", loggedIn: true }],
    ["both late: both kept", { late: { version: true, login: true } }, known, known],
    ["a logout that came counts", { version: "2.1.332", loggedIn: false }, known, { version: "2.1.332", loggedIn: false }],
    ["a version that came, with a late login known as out: out kept", { version: "3.0.0", late: { login: true } }, { loggedIn: false }, { version: "3.0.0", loggedIn: false }],
    ["nothing known: late stays unknown", { late: { version: true, login: true } }, undefined, {}],
    ["known without a version: none made up", { loggedIn: true, late: { version: true } }, { loggedIn: true }, { loggedIn: true }],
    ["a missing answer that was not late is not filled", { version: "2.1.332" }, known, { version: "2.1.332" }],
  ])("%s", (_, now, before, expected) => {
    expect(keptAnswers(now, before)).toEqual(expected);
  });

  it("keeps the other fields and never returns `late`", () => {
    const out = keptAnswers({ name: "claude", executable: "claude", how: "claude auth status", late: { version: true } }, known);
    expect(out).toEqual({ name: "claude", executable: "claude", how: "claude auth status", version: "2.1.332" });
    expect(Object.hasOwn(out, "late")).toBe(false);
  });
});
