// Opt-in: COORD_LIVE_AGENTS=1 npx vitest run test/agents-live.e2e.test.ts
// Runs each agent CLI installed on this machine, for real, with a trivial
// prompt through a whole sync cycle: the contract of agents-contract.e2e.test.ts
// checked against the real thing. A CLI that is missing or not logged in is
// skipped, and the test's name says which and why. It costs a few cents per CLI.
import { afterEach, describe, expect, it } from "vitest";
import { AGENTS } from "../src/core/agents/agents.js";
import { findAgents } from "../src/state/capabilities.js";
import { type MemoryFleet, memoryFleet } from "./memory-fleet.js";

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
      240_000,
    );
  }
});
