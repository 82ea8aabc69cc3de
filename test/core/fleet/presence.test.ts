// Presence (src/core/fleet/presence.ts): when a machine counts as offline. (When
// that answer next changes: test/deadlines.test.ts.)
import { describe, it, expect } from "vitest";
import { isOffline, MISSED_HEARTBEATS } from "../../../src/core/fleet/presence.js";

const T0 = "2025-06-01T10:00:00.000Z";

describe("isOffline", () => {
  const m = { lastSeen: T0, heartbeat: 60 };
  const at = (ms: number) => new Date(Date.parse(T0) + ms);

  it("is offline exactly after 3 missed heartbeats", () => {
    expect(MISSED_HEARTBEATS).toBe(3);
    expect(isOffline(m, at(0))).toBe(false);
    expect(isOffline(m, at(179_999))).toBe(false);
    expect(isOffline(m, at(180_000))).toBe(false);
    expect(isOffline(m, at(180_001))).toBe(true);
  });

  it("a clock a little behind lastSeen is not offline; a lastSeen far ahead or unreadable is", () => {
    expect(isOffline(m, at(-300_000))).toBe(false);
    // An hour in the reader's future is not believed: such a machine would look online forever.
    expect(isOffline(m, at(-3_600_000))).toBe(true);
    expect(isOffline({ lastSeen: "yesterday-ish", heartbeat: 60 }, at(0))).toBe(true);
  });
});
