// What the pure tests build on: one machine's published file, as coord writes it.
import type { ComputerFile } from "../src/core/types.js";

/** The instant the pure tests start from. */
export const T0_ISO = "2025-06-01T10:00:00.000Z";

/** A registered, idle machine seen at T0, with `over` on top. */
export function computerFile(name: string, over: Partial<ComputerFile> = {}): ComputerFile {
  return {
    coord: 1,
    name,
    uuid: `uuid-of-${name}`,
    state: "idle",
    lastSeen: T0_ISO,
    heartbeat: 300,
    capabilities: { os: "linux", node: "20.20.2" },
    orders: { seen: "0123456789abcdef0123456789abcdef01234567", valid: true },
    tasks: {},
    ...over,
  };
}
