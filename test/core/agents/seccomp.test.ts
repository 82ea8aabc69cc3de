// The agents' seccomp filter (src/core/agents/seccomp.ts), run here by a classic BPF interpreter over struct
// seccomp_data as the kernel lays it out: socket(AF_UNIX) fails with EPERM, every other call passes, a call of another
// architecture or of the x32 ABI kills the process. The filter in a real sandbox: test/sandbox.e2e.test.ts.
import { describe, expect, it } from "vitest";
import { filterBytes, type Instruction, SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO, SECCOMP_RET_KILL_PROCESS, unixSocketFilter } from "../../../src/core/agents/seccomp.js";

/** Runs `program` (at most its length in steps: classic BPF only jumps forward) on one call: the verdict returned. */
function run(program: readonly Instruction[], call: { arch: number; nr: number; args: number[] }): number {
  const data = new DataView(new ArrayBuffer(64));
  data.setInt32(0, call.nr, true);
  data.setUint32(4, call.arch, true);
  for (const [n, a] of call.args.entries()) data.setUint32(16 + n * 8, a, true);
  let acc = 0;
  for (let pc = 0, steps = 0; pc < program.length && steps <= program.length; steps++) {
    const { code, jt, jf, k } = program[pc]!;
    if (code === 0x20) {
      acc = data.getUint32(k, true);
      pc++;
    } else if (code === 0x15) pc += 1 + (acc === k >>> 0 ? jt : jf);
    else if (code === 0x35) pc += 1 + (acc >>> 0 >= k >>> 0 ? jt : jf);
    else if (code === 0x06) return k >>> 0;
    else throw new Error(`opcode ${code} not known here`);
  }
  throw new Error("ran off the program");
}

const X64 = 0xc000003e;
const ARM64 = 0xc00000b7;
const EPERM = (SECCOMP_RET_ERRNO | 1) >>> 0;

describe("the filter", () => {
  it.each([
    ["x64: socket(AF_UNIX, SOCK_STREAM)", "x64", { arch: X64, nr: 41, args: [1, 1] }, EPERM],
    ["x64: socket(AF_UNIX, SOCK_DGRAM)", "x64", { arch: X64, nr: 41, args: [1, 2] }, EPERM],
    ["x64: socket(AF_INET) (the model's API)", "x64", { arch: X64, nr: 41, args: [2, 1] }, SECCOMP_RET_ALLOW],
    ["x64: socket(AF_INET6)", "x64", { arch: X64, nr: 41, args: [10, 1] }, SECCOMP_RET_ALLOW],
    ["x64: socketpair(AF_UNIX) (pipes to children)", "x64", { arch: X64, nr: 53, args: [1, 1] }, SECCOMP_RET_ALLOW],
    ["x64: connect", "x64", { arch: X64, nr: 42, args: [3] }, SECCOMP_RET_ALLOW],
    ["x64: read", "x64", { arch: X64, nr: 0, args: [1] }, SECCOMP_RET_ALLOW],
    ["x64: io_uring_setup (IORING_OP_SOCKET would make one)", "x64", { arch: X64, nr: 425, args: [8, 0] }, EPERM],
    ["x64: io_uring_enter", "x64", { arch: X64, nr: 426, args: [3] }, EPERM],
    ["x64: io_uring_register", "x64", { arch: X64, nr: 427, args: [3] }, EPERM],
    ["arm64: io_uring_setup", "arm64", { arch: ARM64, nr: 425, args: [8, 0] }, EPERM],
    ["x64: an x32 socket call", "x64", { arch: X64, nr: 0x40000000 + 41, args: [1] }, SECCOMP_RET_KILL_PROCESS],
    ["x64: a call of i386 (socketcall)", "x64", { arch: 0x40000003, nr: 102, args: [1] }, SECCOMP_RET_KILL_PROCESS],
    ["arm64: socket(AF_UNIX)", "arm64", { arch: ARM64, nr: 198, args: [1, 1] }, EPERM],
    ["arm64: socket(AF_INET)", "arm64", { arch: ARM64, nr: 198, args: [2, 1] }, SECCOMP_RET_ALLOW],
    ["arm64: socketpair(AF_UNIX)", "arm64", { arch: ARM64, nr: 199, args: [1, 1] }, SECCOMP_RET_ALLOW],
    ["arm64: x64's socket number (another call there)", "arm64", { arch: ARM64, nr: 41, args: [1] }, SECCOMP_RET_ALLOW],
  ])("%s", (_what, arch, call, verdict) => {
    expect(run(unixSocketFilter(arch)!, call)).toBe(verdict >>> 0);
  });

  it("is none for an architecture it does not know", () => {
    expect(unixSocketFilter("ia32")).toBeUndefined();
    expect(unixSocketFilter("riscv64")).toBeUndefined();
  });

  it("is 8 bytes an instruction, little endian, as bubblewrap hands it to the kernel", () => {
    const program = unixSocketFilter("x64")!;
    const bytes = filterBytes(program);
    expect(bytes.length).toBe(program.length * 8);
    expect([...bytes.subarray(0, 8)]).toEqual([0x20, 0, 0, 0, 4, 0, 0, 0]);
    expect([...bytes.subarray(8, 16)]).toEqual([0x15, 0, 1, 0, 0x3e, 0, 0, 0xc0]);
  });
});
