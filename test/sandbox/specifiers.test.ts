import t from "tap";
import { decodeSpecifier } from "../../src/sandbox/specifiers.js";

// isolated-vm hands specifiers over as UTF-8 bytes read as Latin-1; they are decoded back.

t.test("a specifier isolated-vm misread as Latin-1 is decoded as the UTF-8 the student wrote", async (t) => {
  for (const written of ["gc_utils", "café", "fichiers-€", "数据", "emoji-😀"]) {
    const misread = Buffer.from(written, "utf8").toString("latin1");
    t.equal(decodeSpecifier(misread), written, written);
  }
  t.equal(decodeSpecifier("already-€"), "already-€", "a string that is not bytes is left alone");
});
