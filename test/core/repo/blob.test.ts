// Blob ids (src/core/repo/blob.ts): git's own id of a file's content.
import { describe, it, expect } from "vitest";
import { gitBlobId } from "../../../src/core/repo/blob.js";

describe("gitBlobId", () => {
  it("equals git hash-object", () => {
    expect(gitBlobId("hello\n")).toBe("ce013625030ba8dba906f756967f9e9ca394464a");
    expect(gitBlobId("")).toBe("e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
    // Length is in bytes, not UTF-16 units.
    expect(gitBlobId("héllo ✓\n")).toBe("922546d2b370fcdb20dec9db061f2960c3a118cd");
  });
});
