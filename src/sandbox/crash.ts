/**
 * Why a worker process died, read from the end of its stderr. V8 and isolated-vm abort the whole
 * process on some allocations (`new Array(1e8).fill(0)` among them) instead of honouring the
 * isolate's memory limit; they print these markers first.
 */
const outOfMemoryMarkers = [
  /is_heap_oom = 1/,
  /Last few GCs/,
  /heap out of memory/i,
  /Fatal process out of memory/i,
  /invalid (array|table) (length|size)/i,
  /Fatal JavaScript invalid size error/i,
  /allocation failed/i,
];

export function classifyCrash(stderrTail: string): "out of memory" | "crashed" {
  return outOfMemoryMarkers.some((marker) => marker.test(stderrTail)) ? "out of memory" : "crashed";
}
