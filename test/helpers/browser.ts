import { mkdirSync } from "node:fs";
import path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { root } from "./app.js";

/**
 * Debian's chromium, installed by .ci/run when absent. The tests never download a browser
 * (no `npx playwright install`): playwright-core only drives the one the system has.
 */
export const CHROMIUM = "/usr/bin/chromium";

/** Where the browser tests leave their screenshots: kept as CI artifacts, ignored by git. */
export const RESULTS_DIR = path.join(root, "test-results");

// Headless in a container as root: no sandbox (root cannot use chromium's own), no GPU, and nothing
// that would reach the network on its own (updates, sync, field trials, QUIC).
const ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
  "--disable-sync",
  "--disable-quic",
];

export interface TestBrowser {
  browser: Browser;
  close(): Promise<void>;
}

/** Launches chromium headless with a fresh user-data-dir (no state from a previous run). */
export async function launchBrowser(): Promise<TestBrowser> {
  // playwright refuses --user-data-dir in launch()'s args: it gives every launch a fresh temporary
  // profile of its own (and removes it on close), which is the fresh user-data-dir wanted here.
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  return { browser, close: () => browser.close() };
}

/** A screenshot in test-results/<name>.png: the full page, or what the viewport shows. */
export async function screenshot(page: Page, name: string, options: { fullPage?: boolean } = {}): Promise<string> {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: options.fullPage ?? true });
  return file;
}
