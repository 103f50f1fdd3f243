/**
 * A load balancer's view of the service while an attack runs: GET /health every 100 ms, each with a
 * 1 s budget. The worst latency it saw is what a probe with a 1 s timeout would have judged.
 */
export async function whileProbingHealth<T>(base: string, attack: () => Promise<T>): Promise<{ result: T; worstHealthMs: number; probes: number }> {
  let done = false;
  let worstHealthMs = 0;
  let probes = 0;
  const probing = (async () => {
    while (!done) {
      const started = performance.now();
      // The probe waits for its answer however long it takes, so that the worst latency is measured, not guessed.
      await fetch(`${base}/health`).then((r) => r.arrayBuffer()).catch(() => undefined);
      worstHealthMs = Math.max(worstHealthMs, performance.now() - started);
      probes++;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  try {
    const result = await attack();
    return { result, worstHealthMs, probes };
  } finally {
    done = true;
    await probing;
  }
}

/** Times a promise. */
export async function timed<T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await run();
  return { value, ms: performance.now() - started };
}
