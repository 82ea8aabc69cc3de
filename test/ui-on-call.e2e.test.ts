// coord ui's chat with an agent on call, end to end on real git and in Debian's
// Chromium (playwright-core): soda-yeti's daemon answers izzit7's messages with
// a stand-in claude (scripts/on-call-standins.mjs); the page served from
// izzit7's checkout says soda-yeti's claude answers it, shows the answer with
// its mark, goes on in the same thread (one session), shows the running turn's
// latest step, and its Stop button ends the turn with a "Stopped" answer; the
// agent's request for a permission comes with Approve and Deny, and each answer
// reaches the agent (approvals from afar).
import type { ChildProcess } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from "vitest";
import { startUi, type UiServer } from "../src/actions/ui.js";
import { chromiumSuite, launchChromium, openPhonePage } from "./browser.js";
import { cli, cliProcess, type Fleet, makeFleet, tempDir } from "./helpers.js";
import { standInCalls, writeStandIns } from "./on-call-standins.js";
import { patient } from "./patience.js";

let fleet: Fleet | undefined;
let bin = "";
let home = "";
let work = "";
const stops: (() => Promise<unknown>)[] = [];
const savedPath = process.env.PATH;

const dirOf = (name: string) => fleet!.machines[name]!;

beforeEach(async () => {
  const root = await tempDir("coord-ui-on-call-");
  bin = join(root, "bin");
  home = join(root, "standin");
  work = join(root, "work");
  await mkdir(work, { recursive: true });
  await writeStandIns(bin, home);
  process.env.PATH = `${bin}:${savedPath}`;
  process.env.STANDIN_HOME = home;
});

afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
  process.env.PATH = savedPath;
  delete process.env.STANDIN_HOME;
  await fleet?.cleanup();
  fleet = undefined;
});

/** The on-call machine's daemon as its own process, with the stand-ins on its PATH; stopped (SIGTERM, awaited) after the test. */
function startDaemon(name: string): ChildProcess {
  const d = cliProcess(["daemon", "run", "--dir", dirOf(name), "--schedule", "0 0 1 1 *", "--jitter", "0"], { env: { ...process.env } });
  d.stdout!.resume();
  d.stderr!.resume();
  stops.push(async () => {
    if (d.exitCode !== null || d.signalCode !== null) return;
    const closed = new Promise((r) => d.once("close", r));
    d.kill("SIGTERM");
    const timer = setTimeout(() => d.kill("SIGKILL"), 15_000);
    await closed;
    clearTimeout(timer);
  });
  return d;
}

chromiumSuite("coord ui: a conversation with an agent on call", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  /** The page in a phone-width window; every wait on it is bounded (10 s by default). */
  const open = (ui: UiServer): Promise<Page> => openPhonePage(browser, ui.url, (stop) => stops.push(stop));

  /** Sends `text` from the chat's box; resolves with what the note says once it is sent. */
  async function send(page: Page, text: string): Promise<string> {
    const before = await page.locator("#chat-note").textContent();
    await page.locator("#chat-text").fill(text);
    await page.locator("#chat-send").click();
    await expect.poll(() => page.locator("#chat-note").textContent(), { timeout: 20_000 }).not.toBe(before);
    const note = (await page.locator("#chat-note").textContent())!;
    expect(note).toMatch(/^sent /);
    return note;
  }

  it("shows that soda-yeti's claude answers, its answers with their marks, the running turn's step; Stop ends the turn", { timeout: patient(360_000) }, async () => {
    fleet = await makeFleet(["izzit7", "soda-yeti"]);
    const set = await cli("agent", "on-call", "claude", "--dir", dirOf("soda-yeti"), "--cwd", work, "--from", "izzit7");
    expect(set.code, set.err).toBe(0);
    startDaemon("soda-yeti");
    const ui = await startUi({ dir: dirOf("izzit7"), port: 0, everyMs: 300 });
    stops.push(() => ui.close());
    const page = await open(ui);
    await page.getByRole("tab", { name: "Chat" }).click();
    await expect.poll(() => page.locator("#chat-a").inputValue(), { timeout: 10_000 }).toBe("izzit7");
    await page.locator("#chat-b").selectOption("soda-yeti");

    // On call, as soda-yeti's daemon published it: said in the chat and on its card.
    await page.locator('#chat-oncall p[data-machine="soda-yeti"]', { hasText: "soda-yeti's claude answers you" }).waitFor({ timeout: 60_000 });
    expect(await page.locator("#chat-reply").isHidden()).toBe(true);

    // A first message: a new conversation, answered by the agent; the answer is marked as one.
    await send(page, "clone the repo");
    const answer = page.locator('#chat-log li[data-id="soda-yeti/izzit7/1"]');
    await answer.waitFor({ timeout: 60_000 });
    expect(await answer.locator(".text").textContent()).toBe("heard: clone the repo");
    expect(await answer.locator(".agent").textContent()).toMatch(/^answer by claude, \d+ s, 2 turns, \$0\.0100$/);
    expect(await answer.getAttribute("class")).toContain("answer");

    // The send box now goes on in that thread: the agent resumes the same session.
    await page.locator("#chat-reply", { hasText: "Replying to izzit7/soda-yeti/1" }).waitFor();
    expect(await send(page, "sleep 120 then build")).toMatch(/^sent izzit7\/soda-yeti\/2 in izzit7\/soda-yeti\/1/);

    // The running turn, with its latest step, refreshed with the snapshots.
    const turn = page.locator('#chat-turns li[data-thread="izzit7/soda-yeti/1"]');
    await turn.locator(".step", { hasText: "latest step: Bash: sleep 120" }).waitFor({ timeout: 40_000 });
    expect(await turn.textContent()).toMatch(/soda-yeti's claude is working on izzit7\/soda-yeti\/1 \(“clone the repo”\) since \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    const calls = (await standInCalls(home)).filter((c) => c.cli === "claude");
    expect(calls).toHaveLength(2);
    expect(calls[1]!.args.some((a) => a.startsWith("--resume="))).toBe(true);
    expect(calls[1]!.prompt).toContain("sleep 120 then build");

    // Stop: a /stop in the thread, sent as izzit7; the turn ends with a "Stopped" answer, marked.
    await turn.getByRole("button", { name: "Stop" }).click();
    await page.locator("#chat-note", { hasText: "sent /stop in izzit7/soda-yeti/1" }).waitFor();
    const stopped = page.locator('#chat-log li[data-outcome="stopped"]');
    await stopped.waitFor({ timeout: 60_000 });
    expect(await stopped.locator(".text").textContent()).toMatch(/^Stopped \(\/stop from izzit7\)\./);
    expect(await stopped.locator(".outcome").textContent()).toBe("stopped");
    await page.locator("#chat-turns").waitFor({ state: "hidden", timeout: 60_000 });
    const chat = (await page.evaluate(async (token) => (await fetch(`/api/chat?a=izzit7&b=soda-yeti&token=${token}`)).json(), ui.token)) as {
      messages: { id: string; text: string; replyTo?: string }[];
    };
    expect(chat.messages.find((x) => x.text === "/stop")).toMatchObject({ id: "izzit7/soda-yeti/3", replyTo: "izzit7/soda-yeti/1" });

    // A new conversation instead: no reply, a new session.
    await page.locator("#chat-reply-toggle").click();
    await page.locator("#chat-reply", { hasText: "New conversation" }).waitFor();
    await send(page, "unrelated question");
    const fresh = page.locator('#chat-log li[data-thread="izzit7/soda-yeti/4"].answer');
    await fresh.waitFor({ timeout: 60_000 });
    expect(await fresh.locator(".text").textContent()).toBe("heard: unrelated question");
    expect(await page.locator('#chat-log li[data-id="izzit7/soda-yeti/4"]').textContent()).not.toContain("reply to");
    // Readable at phone width.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  });

  it("shows the agent's request for a permission with Approve and Deny; each answer reaches the agent, and the request says what was decided", {
    timeout: patient(360_000),
  }, async () => {
    fleet = await makeFleet(["izzit7", "soda-yeti"]);
    const set = await cli("agent", "on-call", "claude", "--dir", dirOf("soda-yeti"), "--cwd", work, "--from", "izzit7");
    expect(set.code, set.err).toBe(0);
    startDaemon("soda-yeti");
    const ui = await startUi({ dir: dirOf("izzit7"), port: 0, everyMs: 300 });
    stops.push(() => ui.close());
    const page = await open(ui);
    await page.getByRole("tab", { name: "Chat" }).click();
    await expect.poll(() => page.locator("#chat-a").inputValue(), { timeout: 10_000 }).toBe("izzit7");
    await page.locator("#chat-b").selectOption("soda-yeti");
    await page.locator('#chat-oncall p[data-machine="soda-yeti"]', { hasText: "soda-yeti's claude answers you" }).waitFor({ timeout: 60_000 });

    // The agent wants Bash, which its permissions do not cover: it asks izzit7 in the thread, and the page shows
    // the request with its buttons, though no sync of izzit7 delivered it yet (the page's fetch shows it).
    await send(page, "please run: make deploy");
    const first = page.locator("#chat-log li.request").first();
    await first.waitFor({ timeout: 60_000 });
    const firstId = (await first.getAttribute("data-id"))!;
    expect(firstId).toMatch(/^soda-yeti\/izzit7\/\d+$/);
    expect(await first.getAttribute("data-request-state")).toBe("waiting");
    expect(await first.locator(".agent").textContent()).toBe("claude asks to use Bash");
    expect(await first.locator(".text").textContent()).toMatch(/^Permission asked: Bash: make deploy\n/);
    // The whole input the approval holds for, with its digest (issue 58, finding 1).
    expect(await first.locator(".request-input summary").textContent()).toMatch(/^the whole input \(17 characters; sha256 [0-9a-f]{12}…\)$/);
    expect(await first.locator(".request-input pre").textContent()).toBe("Bash: make deploy");
    expect(await first.locator(".request-state").textContent()).toBe("waiting for your answer");
    const answers = first.getByRole("group", { name: "Answer soda-yeti's request to use Bash" });
    expect(await answers.getByRole("button").allTextContents()).toEqual(["Approve", "Approve always Bash", "Deny"]);
    expect(await answers.getByLabel("reason (optional)").isVisible()).toBe(true);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);

    // Approve: /approve goes back as a reply to the request, the agent runs the command, the buttons go.
    await answers.getByRole("button", { name: "Approve", exact: true }).click();
    await page.locator("#chat-note", { hasText: `sent /approve in reply to ${firstId}` }).waitFor({ timeout: 20_000 });
    const ran = page.locator("#chat-log li.answer", { hasText: "ran: make deploy" });
    await ran.waitFor({ timeout: 60_000 });
    await page.locator(`#chat-log li[data-id="${firstId}"][data-request-state="approved"]`).waitFor({ timeout: 10_000 });
    expect(await first.locator(".request-state").textContent()).toBe("approved by you");
    expect(await first.getByRole("button").count()).toBe(0);

    // A second request in the same thread (the send box goes on in it), denied with a reason.
    await page.locator("#chat-reply", { hasText: "Replying to izzit7/soda-yeti/1" }).waitFor();
    await send(page, "please run: rm -rf build");
    const second = page.locator('#chat-log li.request[data-request-state="waiting"]');
    await second.waitFor({ timeout: 60_000 });
    const secondId = (await second.getAttribute("data-id"))!;
    expect(secondId).not.toBe(firstId);
    expect(await second.locator(".text").textContent()).toMatch(/^Permission asked: Bash: rm -rf build\n/);
    expect(await second.getByRole("button", { name: "Deny" }).isVisible()).toBe(true);
    // The reason typed, then Enter in its field: the same as the Deny button.
    await second.getByLabel("reason (optional)").fill("not on the shared box");
    await second.getByLabel("reason (optional)").press("Enter");
    await page.locator("#chat-note", { hasText: `sent /deny not on the shared box in reply to ${secondId}` }).waitFor({ timeout: 20_000 });
    const refused = page.locator("#chat-log li.answer", { hasText: "not allowed: denied by izzit7: not on the shared box" });
    await refused.waitFor({ timeout: 60_000 });
    const denied = page.locator(`#chat-log li[data-id="${secondId}"]`);
    await page.locator(`#chat-log li[data-id="${secondId}"][data-request-state="denied"]`).waitFor({ timeout: 10_000 });
    expect(await denied.locator(".request-state").textContent()).toBe("denied by you: not on the shared box");
    expect(await denied.getByRole("button").count()).toBe(0);

    // Each decision is a message of the thread, a reply to its request, sent as izzit7.
    const chat = (await page.evaluate(async (token) => (await fetch(`/api/chat?a=izzit7&b=soda-yeti&token=${token}`)).json(), ui.token)) as {
      messages: { id: string; from: string; text: string; replyTo?: string; thread: string; request?: { state: string } }[];
    };
    expect(chat.messages.filter((x) => x.replyTo === firstId || x.replyTo === secondId).map((x) => [x.from, x.text, x.replyTo])).toEqual([
      ["izzit7", "/approve", firstId],
      ["izzit7", "/deny not on the shared box", secondId],
    ]);
    expect(new Set(chat.messages.map((x) => x.thread))).toEqual(new Set(["izzit7/soda-yeti/1"]));
    // The agent asked through coord's permission prompt tool, and its second turn resumed the session.
    const calls = (await standInCalls(home)).filter((c) => c.cli === "claude");
    expect(calls).toHaveLength(2);
    expect(calls[0]!.args).toContain("--permission-prompt-tool=mcp__coord__permission_prompt");
    expect(calls[1]!.args.some((a) => a.startsWith("--resume="))).toBe(true);
  });
  /** izzit7's page on its chat with soda-yeti, whose claude is on call for izzit7 (its daemon running). */
  async function chatWithOnCall(): Promise<Page> {
    fleet = await makeFleet(["izzit7", "soda-yeti"]);
    const set = await cli("agent", "on-call", "claude", "--dir", dirOf("soda-yeti"), "--cwd", work, "--from", "izzit7");
    expect(set.code, set.err).toBe(0);
    startDaemon("soda-yeti");
    const ui = await startUi({ dir: dirOf("izzit7"), port: 0, everyMs: 300 });
    uiToken = ui.token;
    stops.push(() => ui.close());
    const page = await open(ui);
    await page.getByRole("tab", { name: "Chat" }).click();
    await expect.poll(() => page.locator("#chat-a").inputValue(), { timeout: 10_000 }).toBe("izzit7");
    await page.locator("#chat-b").selectOption("soda-yeti");
    await page.locator('#chat-oncall p[data-machine="soda-yeti"]', { hasText: "soda-yeti's claude answers you" }).waitFor({ timeout: 60_000 });
    return page;
  }
  let uiToken: string | undefined;

  it("shows what nobody could see in a request escaped: bidi controls, zero-width characters (issue 65)", { timeout: patient(360_000) }, async () => {
    const page = await chatWithOnCall();
    const hidden = /[\u202a-\u202e\u2066-\u2069\u200b-\u200f\u2028\u2029]/u;

    // A Bash command whose bidi controls would show "ls # ; touch …" as if the touch were a comment.
    await send(page, 'please run json: "ls \\u2066# \\u202e; touch /tmp/owned\\u2069 a\\u200bb"');
    const first = page.locator("#chat-log li.request").first();
    await first.waitFor({ timeout: 60_000 });
    const shown = "Bash: ls \\u2066# \\u202e; touch /tmp/owned\\u2069 a\\u200bb";
    expect(await first.locator(".text").textContent()).toContain(`Permission asked: ${shown}`);
    expect(await first.locator(".request-input pre").textContent()).toBe(shown);
    expect(await page.locator("#chat-log").textContent()).not.toMatch(hidden);
    // Shown whole: Approve works at once.
    expect(await first.getByRole("button", { name: "Approve", exact: true }).isEnabled()).toBe(true);
    await first.getByRole("button", { name: "Approve", exact: true }).click();
    await page.locator("#chat-log li.answer", { hasText: "ran: ls" }).waitFor({ timeout: 60_000 });
  });

  it("a request it cannot show whole is approved only after its 'show all' was opened (issue 65)", { timeout: patient(360_000) }, async () => {
    const page = await chatWithOnCall();
    // A request over 2,000 characters: its text hides its middle; Approve waits until the whole was opened.
    const long = `echo ${"a".repeat(1400)}; touch /tmp/hidden-in-the-middle; echo ${"b".repeat(1400)}`;
    await send(page, `please run: ${long}`);
    const second = page.locator('#chat-log li.request[data-request-state="waiting"]');
    await second.waitFor({ timeout: 60_000 });
    expect(await second.locator(".text").textContent()).not.toContain("hidden-in-the-middle");
    const approve = second.getByRole("button", { name: "Approve", exact: true });
    expect(await approve.isDisabled()).toBe(true);
    expect(await second.getByRole("button", { name: "Approve always Bash" }).isDisabled()).toBe(true);
    expect(await second.locator(".must-open").textContent()).toContain("open “show all”");
    // A redraw of the chat keeps it locked (the page fetches every 300 ms).
    await new Promise((r) => setTimeout(r, 900));
    expect(await approve.isDisabled()).toBe(true);
    // The server holds the same rule: a bare /approve of it (no digest of the whole) is refused, nothing sent.
    const id = (await second.getAttribute("data-id"))!;
    const bare = await page.evaluate(
      async ([token, replyTo]) => {
        const r = await fetch(`/api/send?token=${token}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ to: "soda-yeti", text: "/approve", replyTo }),
        });
        return { status: r.status, body: await r.text() };
      },
      [uiToken!, id] as const,
    );
    expect(bare.status).toBe(400);
    expect(JSON.parse(bare.body).error).toMatch(
      /^request \S+ is not approved: its text showed only part of its input; open "show all" on the page, then approve; nothing was sent$/,
    );
    expect(await second.getAttribute("data-request-state")).toBe("waiting");
    await second.locator(".request-input summary", { hasText: /^show all: the whole input/ }).click();
    expect(await second.locator(".request-input pre").textContent()).toContain("touch /tmp/hidden-in-the-middle");
    await expect.poll(() => approve.isEnabled(), { timeout: 5_000 }).toBe(true);
    await new Promise((r) => setTimeout(r, 900));
    expect(await approve.isEnabled()).toBe(true); // opened stays opened across redraws
    await approve.click();
    await page.locator("#chat-log li.answer", { hasText: "ran: echo aaa" }).waitFor({ timeout: 60_000 });
  });
});
