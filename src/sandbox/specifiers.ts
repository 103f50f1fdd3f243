/**
 * isolated-vm hands module specifiers over as their UTF-8 bytes read as Latin-1 ("café" arrives as
 * "cafÃ©"), both in `dependencySpecifiers` and in the resolver. Decoding them back makes a rejection
 * name the import the student wrote, and lets findImport find it in the source.
 */
export function decodeSpecifier(raw: string): string {
  // Only a string of bytes can be such a misreading; anything else is left alone.
  for (let i = 0; i < raw.length; i++) if (raw.charCodeAt(i) > 0xff) return raw;
  return Buffer.from(raw, "latin1").toString("utf8");
}
