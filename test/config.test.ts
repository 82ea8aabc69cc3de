// machine.yaml as its owner edits it by hand: a mistake is one sentence with
// the file, the line and what to do, as ORDERS.json's problems are.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/state/config.js";
import { backoffUntil } from "../src/state/health.js";
import { tempDir } from "./helpers.js";

const base = "name: izzit7\nuuid: 1b4e28ba-2fa1-11d2-883f-0016d3cca427\nremote: origin\n";

async function load(text: string) {
  const dir = await tempDir();
  await writeFile(join(dir, "machine.yaml"), text);
  return { dir, result: loadConfig(dir) };
}

describe("loadConfig", () => {
  it("reads a hand-written file with durations in words and defaults for the rest", async () => {
    const { result } = await load(base + "heartbeat: 5m\nmaxParallel: 2\n");
    expect(await result).toMatchObject({ name: "izzit7", heartbeat: 300, maxParallel: 2, checkEvery: 30, labels: [] });
  });

  it("verifies other machines unless trust.verifyMachines says false (docs/protocol/local-state.md, machine.yaml, says so)", async () => {
    expect((await (await load(base)).result)?.trust).toMatchObject({ verifyMachines: true, requireSignedOrders: false });
    expect((await (await load(`${base}trust:\n  requireSignedOrders: true\n`)).result)?.trust).toMatchObject({ verifyMachines: true });
    expect((await (await load(`${base}trust:\n  verifyMachines: false\n`)).result)?.trust).toMatchObject({ verifyMachines: false });
  });

  it("names the line of a mistyped field and the field it means", async () => {
    const { dir, result } = await load(base + "maxParalel: 2\n");
    await expect(result).rejects.toThrow(`${join(dir, "machine.yaml")}:4: unknown field "maxParalel"; rename it to "maxParallel"`);
  });

  it("names the line of a bad value and says what is wrong", async () => {
    const { dir, result } = await load(base + "checkEvery: soon\n");
    await expect(result).rejects.toThrow(
      `${join(dir, "machine.yaml")}:4 field checkEvery: "soon" is not a duration; write it like "90s", "15m" or "2h"; fix it, or move it aside and run coord init <checkout> --name <this machine> --remote <hub> --reclaim`,
    );
  });

  it("says where the YAML breaks", async () => {
    const { result } = await load(base + "labels: [gpu\n");
    await expect(result).rejects.toThrow(/machine\.yaml is not valid YAML \(.* at line \d+, column \d+\); fix it, or move it aside and run coord init .* --reclaim/);
  });
});

describe("notify (where new alerts go)", () => {
  it("reads a command and a webhook, with a timeout in words and the kinds to send", async () => {
    const { result } = await load(
      base + "notify:\n  command: ./page-me.sh\n  webhook: https://hooks.example.com/services/T1/B2/secret\n  timeout: 20s\n  kinds: [offline, failed]\n",
    );
    expect((await result)!.notify).toEqual({ command: "./page-me.sh", webhook: "https://hooks.example.com/services/T1/B2/secret", timeout: 20, kinds: ["offline", "failed"] });
  });

  it("is unset by default, and 10 s per call when set without a timeout", async () => {
    expect((await (await load(base)).result)!.notify).toBeUndefined();
    expect((await (await load(base + "notify:\n  command: logger\n")).result)!.notify).toEqual({ command: "logger", timeout: 10 });
  });

  const bad: { name: string; yaml: string; error: string }[] = [
    {
      name: "neither a command nor a webhook",
      yaml: "notify:\n  timeout: 5s\n",
      error: ":4 field notify: names neither a command nor a webhook; give one of them, or remove notify;",
    },
    {
      name: "a webhook that is no http(s) URL",
      yaml: "notify:\n  webhook: ftp://files.example.com/drop?token=hunter22\n",
      error: ":4 field notify.webhook: is not an http(s) URL;",
    },
    { name: "a timeout past the bound", yaml: "notify:\n  command: x\n  timeout: 1h\n", error: ":4 field notify.timeout: must be between 1s and 5m;" },
    {
      name: "a kind that does not exist",
      yaml: "notify:\n  command: x\n  kinds: [failed, burning]\n",
      error: ":4 field notify.kinds.1: is not a kind of alert; write one of offline, stalled, failed, service, refused, approval, urgent;",
    },
    { name: "a mistyped field inside it", yaml: "notify:\n  comand: x\n", error: ':4: unknown field "notify.comand"; rename it to "notify.command"' },
  ];
  for (const c of bad)
    it(`refuses ${c.name} in one sentence, naming the line and never the URL`, async () => {
      const { dir, result } = await load(base + c.yaml);
      const error = await result.then(
        () => "",
        (e: Error) => e.message,
      );
      expect(error).toContain(`${join(dir, "machine.yaml")}${c.error}`);
      expect(error).not.toContain("hunter22");
      expect(error.split("\n")).toHaveLength(1);
    });
});

describe("backoffUntil (scheduled syncs after failures)", () => {
  const now = new Date("2026-11-22T10:00:00.000Z");
  const at = (s: number) => new Date(now.getTime() + s * 1000).toISOString();
  it("waits base seconds after the last failure, doubling, at most an hour", () => {
    expect(backoffUntil({ failures: 0 }, 60, now)).toBeUndefined();
    expect(backoffUntil({ failures: 1, lastFailureAt: at(-10) }, 60, now)!.toISOString()).toBe(at(50));
    expect(backoffUntil({ failures: 3, lastFailureAt: at(0) }, 60, now)!.toISOString()).toBe(at(240));
    expect(backoffUntil({ failures: 20, lastFailureAt: at(0) }, 60, now)!.toISOString()).toBe(at(300));
  });
  it("never past an hour from now, even when the failure was stamped by a clock that was ahead", () => {
    expect(backoffUntil({ failures: 1, lastFailureAt: at(86_400) }, 60, now)!.toISOString()).toBe(at(60));
  });
});
