// allowedRoots: whether a task's resolved directory lies inside one of the
// machine's roots, and what the refusal says.
import { describe, expect, it } from "vitest";
import { isWithin, outsideRoots } from "../../../src/core/trust/roots.js";

describe("allowedRoots", () => {
  it.each([
    ["/home/me/dev", "/home/me/dev", true],
    ["/home/me/dev/app", "/home/me/dev", true],
    ["/home/me/dev/../x", "/home/me/dev", false], // never given unresolved, but still not inside
    ["/home/me/devil", "/home/me/dev", false],
    ["/home/me/dev/..hidden", "/home/me/dev", true],
    ["/home/me", "/home/me/dev", false],
    ["/etc", "/", true],
    ["/", "/srv", false],
  ])("%s within %s: %s", (path, root, within) => {
    expect(isWithin(path, root)).toBe(within);
  });

  it("says which roots the machine allows; no roots configured: anywhere; an empty list: nowhere", () => {
    const roots = [
      { written: "~/dev", real: "/home/me/dev" },
      { written: "/srv", real: "/data/srv" },
    ];
    expect(outsideRoots("/etc", roots)).toBe("cwd /etc is outside this machine's allowedRoots: ~/dev, /srv");
    expect(outsideRoots("/data/srv/app", roots)).toBeUndefined();
    expect(outsideRoots("/srv/app", roots)).toBe("cwd /srv/app is outside this machine's allowedRoots: ~/dev, /srv"); // /srv is a link to /data/srv
    expect(outsideRoots("/etc", undefined)).toBeUndefined();
    expect(outsideRoots("/etc", [])).toBe("cwd /etc is outside this machine's allowedRoots: none (an empty list)");
  });
});
