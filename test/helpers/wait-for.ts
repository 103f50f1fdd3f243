/**
 * Polls `probe` until it returns a value, with a generous deadline: on a loaded machine a node self-tests a
 * pack or reconnects to its database slowly, and a time limit is not what these tests are about.
 */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
