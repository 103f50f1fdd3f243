import t from "tap";
import { existsSync, readFileSync } from "node:fs";
import { DENIED_SYSCALLS, seccompInstructions, seccompProgram } from "../../src/sandbox/seccomp.js";

// The seccomp filter of the second wall is assembled in TypeScript (src/sandbox/seccomp.ts). Its syscall numbers
// must be the kernel's: they are checked against the kernel headers where installed (linux-libc-dev, which g++
// pulls in: present wherever isolated-vm can be compiled). That the kernel accepts and enforces the program is
// checked by test/sandbox/confinement.test.ts.

const HEADERS = { x64: "/usr/include/x86_64-linux-gnu/asm/unistd_64.h", arm64: "/usr/include/asm-generic/unistd.h" } as const;

function headerNumbers(file: string): Map<string, number> {
  const numbers = new Map<string, number>();
  for (const [, name, value] of readFileSync(file, "utf8").matchAll(/#define __NR(?:3264)?_(\w+)\s+(\d+)/g)) numbers.set(name as string, Number(value));
  return numbers;
}

for (const arch of ["x64", "arm64"] as const) {
  t.test(`every denied syscall has the kernel's number on ${arch}`, { skip: existsSync(HEADERS[arch]) ? false : `no ${HEADERS[arch]}` }, async (t) => {
    const kernel = headerNumbers(HEADERS[arch]);
    for (const [name, numbers] of Object.entries(DENIED_SYSCALLS)) {
      t.equal(numbers[arch], kernel.get(name), `${name}: ${numbers[arch] ?? "absent"} on ${arch}`);
    }
    t.equal(kernel.get("clone"), arch === "x64" ? 56 : 220, "clone, whose flags the filter reads");
  });
}

t.test("the program checks the architecture first, kills on a foreign one, and ends by allowing", async (t) => {
  for (const arch of ["x64", "arm64"] as const) {
    const program = seccompInstructions(arch);
    t.same(program[0], { code: 0x20, jt: 0, jf: 0, k: 4 }, "loads seccomp_data.arch");
    t.equal(program[1]?.k, arch === "x64" ? 0xc000003e : 0xc00000b7, "compares it with this architecture's AUDIT_ARCH");
    t.same(program[2], { code: 0x06, jt: 0, jf: 0, k: 0x80000000 }, "otherwise kills the process");
    t.same(program.at(-1), { code: 0x06, jt: 0, jf: 0, k: 0x7fff0000 }, "allows what it does not deny");
    t.ok(program.length < 4096, "within the kernel's BPF_MAXINSNS");
    const jumps = [...program.entries()].filter(([, ins]) => (ins.code & 0x07) === 0x05); // BPF_JMP class
    for (const [i, ins] of jumps) t.ok(i + 1 + Math.max(ins.jt, ins.jf) < program.length, `instruction ${i} jumps inside the program`);
    t.equal(seccompProgram(arch).length, program.length * 8, "8 bytes per struct sock_filter");
  }
});
