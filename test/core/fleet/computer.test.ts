// COMPUTER files (src/core/fleet/computer.ts): what a machine publishes, rendered and
// parsed back, hostile text kept in its place, and the fingerprint of its data.
import { describe, it, expect } from "vitest";
import { canonicalComputer, type ComputerFile, computerFingerprint, DATA_MARK, parseComputer, renderComputer } from "../../../src/core/fleet/computer.js";
import { parseFrontMatter, renderFrontMatter } from "../../../src/core/files/frontmatter.js";
import { renderStatusMd } from "../../../src/core/status/status-md.js";
import { computerFile, taskReport as report, ordersJson, repoFiles, statusOf } from "../../fixtures.js";

const T0 = "2025-06-01T10:00:00.000Z";

const computer = computerFile;

// ------------------------------------------------------------ COMPUTER files

describe("renderComputer / parseComputer", () => {
  const tricky: ComputerFile = computer("soda-yeti", {
    state: "working",
    capabilities: { zsh: "5.9", claude: "1.0", node: "20.20.2", os: "linux", "1.0": "yes", empty: "" },
    orders: { seen: "deadbeef".repeat(5), valid: false, error: 'ORDERS.json:3 orders[0].timeout: "ten minutes" is not a duration | <b>' },
    tasks: {
      "build-dao": report({ output: "---\nnot: front matter\n---\n```js\nx | y\n```\n<details></details><script>alert(1)</script>\n" }),
      "test-dao": report({ state: "failed", exitCode: null, reason: "killed after 15m (timeout)", output: "unicode: é ✓ 😀 עברית 中文 \u200b\u2028\u0085 end" }),
      long: report({ rev: 3, attempts: 2, output: "x".repeat(10 * 1024) + "\n" + "line with trailing spaces   \n    indented\n\n\nlast" }),
      "in-flight": { rev: 1, state: "in_progress", attempts: 1, startedAt: T0 },
      // Ids that a careless YAML writer would turn into numbers, booleans or null.
      "1.0": report(),
      "007": report(),
      "0x1F": report(),
      "1e3": report(),
      true: report(),
      null: report(),
      "2025-01-01": report(),
      // ("..." and "---" would be trickier still, but they are not order ids: a file with them is refused.)
    },
  });

  it("round-trips exactly, tricky output included", () => {
    const text = renderComputer(tricky);
    const parsed = parseComputer(text, "soda-yeti");
    expect(parsed).toEqual(canonicalComputer(tricky));
    expect(parsed.tasks["test-dao"]!.exitCode).toBeNull();
    expect(parsed.tasks["build-dao"]!.output).toBe(tricky.tasks["build-dao"]!.output);
    expect(parsed.tasks["long"]!.output).toBe(tricky.tasks["long"]!.output);
    // And rendering the parsed data again gives the same bytes.
    expect(renderComputer(parsed)).toBe(text);
  });

  it("the email a signing machine's commits are by round-trips; one not an email, or without a key, is not kept", () => {
    const key = `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${"A".repeat(43)}`;
    const signed = computer("soda-yeti", { key, email: "pat@example.com" });
    expect(parseComputer(renderComputer(signed), "soda-yeti")).toMatchObject({ key, email: "pat@example.com" });
    expect(parseComputer(renderComputer(computer("soda-yeti", { email: "pat@example.com" })), "soda-yeti").email).toBeUndefined();
    expect(() => parseComputer(renderComputer(signed).replace("pat@example.com", "pat at example.com"), "soda-yeti")).toThrow(/email/);
  });

  it("keeps the front matter small (GitHub shows it as a table): who, state, last seen, heartbeat; the rest in a data block at the end", () => {
    const text = renderComputer(tricky);
    const front = parseFrontMatter(text).data as Record<string, unknown>;
    expect(Object.keys(front)).toEqual(["coord", "name", "state", "lastSeen", "heartbeat"]);
    for (const v of Object.values(front)) expect(typeof v === "object").toBe(false);
    const body = parseFrontMatter(text).body;
    expect(body.indexOf(DATA_MARK)).toBeGreaterThan(body.indexOf("## Tasks"));
    expect(body).toContain(`<details><summary>This machine's data as coord reads it (JSON)</summary>\n\n${DATA_MARK}\n\`\`\`json\n{`);
  });

  it("reads files of layout 1 (all data in the front matter), as earlier versions wrote them", () => {
    const old = renderFrontMatter({ ...canonicalComputer(tricky), coord: 1 }, "# soda-yeti\n\nold body");
    expect(parseComputer(old, "soda-yeti")).toEqual({ ...canonicalComputer(tricky), coord: 1 });
  });

  it("a task's output that imitates the data block does not stand in for it", () => {
    const fake = `${DATA_MARK}\n\`\`\`json\n{ "uuid": "forged", "capabilities": {}, "orders": { "seen": "x", "valid": true }, "tasks": {} }\n\`\`\``;
    const c = computer("m", { tasks: { t: report({ output: `${fake}\n`, reason: fake }) } });
    const parsed = parseComputer(renderComputer(c), "m");
    expect(parsed.uuid).toBe("uuid-of-m");
    expect(parsed.tasks["t"]!.output).toBe(`${fake}\n`);
  });

  it("says what is wrong with a data block: missing, not closed, not JSON, holding front matter fields", () => {
    const text = renderComputer(computer("m"));
    const [head, tail] = text.split(DATA_MARK) as [string, string];
    expect(() => parseComputer(head, "m")).toThrow(/data block is missing/);
    expect(() => parseComputer(`${head}${DATA_MARK}\n\`\`\`json\n{}\n`, "m")).toThrow(/not closed/);
    expect(() => parseComputer(`${head}${DATA_MARK}${tail.replace('"uuid"', "uuid")}`, "m")).toThrow(/not JSON/);
    expect(() => parseComputer(`${head}${DATA_MARK}${tail.replace('"uuid"', '"name": "x", "uuid"')}`, "m")).toThrow(/holds name/);
    expect(tail).toContain('"tasks": {}');
    expect(() => parseComputer(`${head}${DATA_MARK}${tail.replace('"tasks": {}', '"tasks": {"__proto__": {}}')}`, "m")).toThrow(/not an order id/);
  });

  it("writes LF only, ends with one newline, and starts with front matter", () => {
    const text = renderComputer(tricky);
    expect(text.startsWith("---\n")).toBe(true);
    expect(text.endsWith("\n")).toBe(true);
    expect(text.endsWith("\n\n")).toBe(false);
    expect(text).not.toContain("\r");
  });

  it("renders a readable body: tasks table and fenced output that cannot break out", () => {
    const text = renderComputer(tricky);
    const body = parseFrontMatter(text).body;
    expect(body).toContain("# soda-yeti");
    expect(body).toContain("## Tasks");
    expect(body).toContain("| order | state | exit | finished |");
    // Each task that has more to say has a section the table links to (STATUS.md links there too).
    expect(body).toContain("| [test-dao](#task-test-dao) | failed |  | 2025-06-01T10:00:00.000Z |");
    expect(body).toContain(
      "### Task test-dao\n\n**failed** · rev 1 · attempt 1 · started 2025-06-01T10:00:00.000Z · finished 2025-06-01T10:00:00.000Z\n\nkilled after 15m (timeout)",
    );
    expect(body).toContain("| in-flight | in_progress |  |  |");
    expect(body).not.toContain("### Task in-flight");
    expect(body).toContain("ORDERS.json: **invalid**");
    // The output with ``` is fenced with four backticks.
    expect(body).toContain("````text\n---\nnot: front matter");
    // Table cells are escaped: the pipe in the output is inside the fence, not the table.
    expect(renderComputer(computer("a"))).toContain("No tasks yet.");
  });

  it("views escape HTML echoed from ORDERS.json errors", () => {
    const broken = ordersJson([{ id: "a", to: "m", run: "x", timeout: "<details><summary>x" }]);
    const s = statusOf(repoFiles(broken, [computer("m")]));
    const message = s.errors[0]!.message;
    expect(message).toContain("<details>");
    const body = parseFrontMatter(renderComputer(computer("m", { orders: { seen: "abc", valid: false, error: message } }))).body;
    // The view escapes it; the data block holds it verbatim inside a JSON fence, where GitHub shows it as text.
    const [view, data] = body.split(DATA_MARK);
    expect(view).not.toContain("<details><summary>x");
    expect(data).toMatch(/^\n```json\n[^`]*<details><summary>x[^`]*\n```\n/);
    expect(renderStatusMd(s)).not.toContain("<details><summary>x");
  });

  it("is independent of key order (capabilities, tasks, fields)", () => {
    const a = computer("m", { capabilities: { b: "2", a: "1" }, tasks: { y: report(), x: report({ state: "failed" }) } });
    const b: ComputerFile = {
      tasks: { x: { attempts: 1, state: "failed", rev: 1, finishedAt: T0, startedAt: T0, exitCode: 0 }, y: report() },
      capabilities: { a: "1", b: "2" },
      orders: { valid: true, seen: a.orders.seen },
      heartbeat: 300,
      lastSeen: T0,
      state: "idle",
      uuid: "uuid-of-m",
      name: "m",
      coord: 1,
    };
    expect(renderComputer(b)).toBe(renderComputer(a));
  });

  it("drops undefined optional fields instead of writing them", () => {
    const c = computer("m", { tasks: { t: { rev: 1, state: "queued", attempts: 0, exitCode: undefined, reason: undefined, output: undefined } } });
    const text = renderComputer(c);
    expect(text).not.toContain("undefined");
    expect(parseComputer(text, "m").tasks["t"]).toEqual({ rev: 1, state: "queued", attempts: 0 });
  });

  it("reads a file with CRLF line endings (a Windows checkout)", () => {
    const text = renderComputer(tricky).replace(/\n/g, "\r\n");
    const parsed = parseComputer(text, "soda-yeti");
    expect(parsed.name).toBe("soda-yeti");
    expect(parsed.tasks["build-dao"]!.state).toBe("completed");
  });

  it("rejects a file whose front matter names another machine", () => {
    expect(() => parseComputer(renderComputer(computer("izzit7")), "soda-yeti")).toThrow(/name "izzit7".*"soda-yeti"/);
  });

  it("rejects a missing field, naming it", () => {
    const { uuid: _u, ...rest } = computer("m");
    const text = renderFrontMatter(rest, "body");
    expect(() => parseComputer(text, "m")).toThrow(/field uuid/);
  });

  it("rejects an invalid machine state and an invalid task state", () => {
    const text = renderComputer(computer("m")).replace("state: idle", "state: sleeping");
    expect(() => parseComputer(text, "m")).toThrow(/field state/);
    const bad = renderFrontMatter({ ...computer("m"), tasks: { t: { rev: 1, state: "done", attempts: 1 } } }, "");
    expect(() => parseComputer(bad, "m")).toThrow(/field tasks\.t\.state/);
  });

  it("rejects wrong types: coord version, heartbeat, rev", () => {
    expect(() => parseComputer(renderFrontMatter({ ...computer("m"), coord: 3 }, ""), "m")).toThrow(/field coord/);
    expect(() => parseComputer(renderFrontMatter({ ...computer("m"), heartbeat: 0 }, ""), "m")).toThrow(/field heartbeat/);
    expect(() => parseComputer(renderFrontMatter({ ...computer("m"), tasks: { t: { rev: 0, state: "queued", attempts: 0 } } }, ""), "m")).toThrow(/field tasks\.t\.rev/);
  });

  it("rejects text without front matter, and YAML that is not a mapping", () => {
    expect(() => parseComputer("# just markdown\n", "m")).toThrow(/front matter/);
    expect(() => parseComputer("", "m")).toThrow(/front matter/);
    expect(() => parseComputer("---\n- a\n- b\n---\n", "m")).toThrow();
    expect(() => parseComputer("---\n---\nbody\n", "m")).toThrow();
  });

  it("refuses ---js front matter without executing it", () => {
    const g = globalThis as { __pwned?: unknown };
    delete g.__pwned;
    for (const lang of ["js", "javascript"]) {
      expect(() => parseComputer(`---${lang}\n{ x: (globalThis.__pwned = 1) }\n---\nbody\n`, "m")).toThrow();
      expect(g.__pwned).toBeUndefined();
    }
    // And directly through parseFrontMatter.
    expect(() => parseFrontMatter("---js\nmodule.exports = (globalThis.__pwned = 2)\n---\n")).toThrow();
    expect(g.__pwned).toBeUndefined();
  });

  it("refuses a YAML alias bomb instead of expanding it", () => {
    const bomb = ["---", "a: &a [x, x, x, x, x, x, x, x, x, x]"];
    for (let i = 0; i < 9; i++)
      bomb.push(
        `${"bcdefghij"[i]}: &${"bcdefghij"[i]} [${Array(10)
          .fill(`*${i === 0 ? "a" : "bcdefghij"[i - 1]}`)
          .join(", ")}]`,
      );
    bomb.push("---", "");
    expect(() => parseFrontMatter(bomb.join("\n"))).toThrow();
  });

  it("does not let __proto__ keys pollute Object.prototype", () => {
    const text = `---\ncoord: 1\n__proto__:\n  polluted: yes\n---\n`;
    parseFrontMatter(text);
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });
});

describe("computerFingerprint", () => {
  const base = computer("izzit7", {
    capabilities: { os: "linux", node: "20", claude: "1.0" },
    tasks: { b: report({ output: "done\n" }), a: report({ state: "failed", exitCode: null, reason: "exit 1" }) },
  });

  it("ignores lastSeen", () => {
    expect(computerFingerprint({ ...base, lastSeen: "2030-01-01T00:00:00Z" })).toBe(computerFingerprint(base));
  });

  it("ignores key order", () => {
    const shuffled = { ...base, capabilities: { claude: "1.0", node: "20", os: "linux" }, tasks: { a: base.tasks["a"]!, b: base.tasks["b"]! } };
    expect(computerFingerprint(shuffled)).toBe(computerFingerprint(base));
  });

  it("a freshly built object equals its parsed rendering", () => {
    const fresh: ComputerFile = { ...base, tasks: { ...base.tasks, c: { rev: 1, state: "queued", attempts: 0, reason: undefined } } };
    const parsed = parseComputer(renderComputer(fresh), "izzit7");
    expect(computerFingerprint(parsed)).toBe(computerFingerprint(fresh));
  });

  it("changes when something other than lastSeen changes", () => {
    const fp = computerFingerprint(base);
    expect(computerFingerprint({ ...base, state: "working" })).not.toBe(fp);
    expect(computerFingerprint({ ...base, capabilities: { ...base.capabilities, go: "1.22" } })).not.toBe(fp);
    expect(computerFingerprint({ ...base, tasks: { ...base.tasks, a: { ...base.tasks["a"]!, attempts: 2 } } })).not.toBe(fp);
    expect(computerFingerprint({ ...base, orders: { ...base.orders, valid: false, error: "x" } })).not.toBe(fp);
  });
});
