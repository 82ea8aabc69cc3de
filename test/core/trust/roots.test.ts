// allowedRoots: whether a task's resolved directory lies inside one of the
// machine's roots, and what the refusal says.
import { describe, expect, it } from "vitest";
import { isWithin } from "../../../src/core/files/within.js";
import { outsideRoots } from "../../../src/core/trust/roots.js";

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
    expect(isWithin(path, root, "linux")).toBe(within);
  });

  it.each([
    ["C:\\Users\\pat\\dev\\app", "C:\\Users\\pat\\dev", true],
    ["c:\\users\\PAT\\dev", "C:\\Users\\pat\\dev", true], // Windows' paths are the same in any case
    ["C:/Users/pat/dev/app", "C:\\Users\\pat\\dev", true], // either slash
    ["D:\\Users\\pat\\dev", "C:\\Users\\pat\\dev", false], // another drive
    ["C:\\Users\\pat\\devil", "C:\\Users\\pat\\dev", false],
    ["C:\\Users\\pat", "C:\\Users\\pat\\dev", false],
    ["C:\\", "C:\\Users", false],
  ])("Windows: %s within %s: %s", (path, root, within) => {
    expect(isWithin(path, root, "win32")).toBe(within);
  });

  it("says which roots the machine allows; no roots configured: anywhere; an empty list: nowhere", () => {
    const roots = [
      { written: "~/dev", real: "/home/me/dev" },
      { written: "/srv", real: "/data/srv" },
    ];
    expect(outsideRoots("/etc", roots, "linux")).toBe("cwd /etc is outside this machine's allowedRoots: ~/dev, /srv");
    expect(outsideRoots("/data/srv/app", roots, "linux")).toBeUndefined();
    expect(outsideRoots("/srv/app", roots, "linux")).toBe("cwd /srv/app is outside this machine's allowedRoots: ~/dev, /srv"); // /srv is a link to /data/srv
    expect(outsideRoots("/etc", undefined, "linux")).toBeUndefined();
    expect(outsideRoots("/etc", [], "linux")).toBe("cwd /etc is outside this machine's allowedRoots: none (an empty list)");
  });
});
