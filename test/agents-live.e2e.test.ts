// Opt-in: COORD_LIVE_AGENTS=1 npx vitest run test/agents-live.e2e.test.ts
// Runs each agent CLI installed on this machine, for real, with a trivial
// prompt through a whole sync cycle: the contract of agents-contract.e2e.test.ts
// checked against the real thing. A CLI that is missing or not logged in is
// skipped, and the test's name says which and why. It costs a few cents per CLI.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { AGENTS } from "../src/core/agents/agents.js";
import { ON_CALL_AGENTS } from "../src/core/oncall/on-call.js";
import { inbox } from "../src/actions/messages.js";
import { sync } from "../src/sync/sync.js";
import { cli, type Fleet, makeFleet } from "./helpers.js";
import { findAgents } from "../src/state/capabilities.js";
import { type MemoryFleet, memoryFleet } from "./memory-fleet.js";
import { patient } from "./patience.js";

const live = process.env.COORD_LIVE_AGENTS === "1";
const found = live ? await findAgents() : [];

let fleet: MemoryFleet | undefined;
afterEach(async () => {
  await fleet?.cleanup();
  fleet = undefined;
});

describe.skipIf(!live)("live agent CLIs (COORD_LIVE_AGENTS=1)", () => {
  for (const name of AGENTS.keys()) {
    const a = found.find((x) => x.name === name);
    const why = !a ? `${name}: skipped, not on PATH` : a.loggedIn === false ? `${name} ${a.version ?? ""}: skipped, not logged in (${a.how})` : undefined;
    it.skipIf(why !== undefined)(
      why ?? `${name} ${a?.version ?? ""}: a trivial prompt completes, and what the agent said is published`,
      { timeout: patient(240_000) },
      async () => {
        fleet = await memoryFleet(["m"]);
        await fleet.pushOrders([
          {
            id: "live",
            to: "m",
            agent: name,
            prompt: "Reply with exactly the word pong and nothing else. Do not use any tools.",
            permissions: name === "cursor" ? "full" : "read-only",
            timeout: "3m",
            idleTimeout: "2m",
          },
        ]);
        await fleet.sync("m");
        const task = (await fleet.model()).computers.get("m")!.tasks.live!;
        expect(task, JSON.stringify(task)).toMatchObject({ state: "completed" });
        expect(task.output?.toLowerCase()).toContain("pong");
        if (AGENTS.get(name)!.reader) expect(task.agent?.session).toBeTruthy();
      },
    );
  }
});

// On call, for real: two turns of one conversation, the second resumed from the session the first returned (the
// agent remembers a number it was told), through real git and coord sync (no daemon: the sync runs the turns).
let gitFleet: Fleet | undefined;
let work: string | undefined;
afterEach(async () => {
  await gitFleet?.cleanup();
  gitFleet = undefined;
  if (work) await rm(work, { recursive: true, force: true });
  work = undefined;
});

describe.skipIf(!live)("live agent CLIs on call (COORD_LIVE_AGENTS=1)", () => {
  for (const name of ON_CALL_AGENTS) {
    const a = found.find((x) => x.name === name);
    const why = !a ? `${name}: skipped, not on PATH` : a.loggedIn === false ? `${name} ${a.version ?? ""}: skipped, not logged in (${a.how})` : undefined;
    it.skipIf(why !== undefined)(why ?? `${name} ${a?.version ?? ""} on call: a reply resumes the conversation's session`, { timeout: patient(480_000) }, async () => {
      gitFleet = await makeFleet(["asker", "oncall"]);
      work = await mkdtemp(join(tmpdir(), "coord-live-on-call-"));
      const dir = (m: string) => gitFleet!.machines[m]!;
      const permissions = name === "cursor" ? "full" : "read-only";
      const set = await cli("agent", "on-call", name, "--dir", dir("oncall"), "--cwd", work, "--from", "asker", "--permissions", permissions, "--timeout", "3m");
      expect(set.code, set.err).toBe(0);
      const ask = async (text: string, replyTo?: string) => {
        const r = await cli("send", "--dir", dir("asker"), "oncall", text, ...(replyTo ? ["--reply-to", replyTo] : []));
        const id = /^sent ([^;\s]+)/.exec(r.out)![1]!;
        expect((await cli("sync", "--dir", dir("oncall"))).code).toBe(0);
        await sync({ dir: dir("asker"), run: false });
        const answer = (await inbox({ dir: dir("asker"), all: true })).messages.find((x) => x.replyTo === id);
        expect(answer?.agent, JSON.stringify(answer)).toMatchObject({ answer: true, cli: name });
        return answer!;
      };
      const first = await ask("Remember the number 7261. Reply with exactly the word ok. Do not use any tools.");
      expect(first.agent?.outcome).toBeUndefined();
      const second = await ask("Which number did I ask you to remember? Reply with the number only. Do not use any tools.", first.id);
      expect(second.text).toContain("7261");
    });
  }
});
