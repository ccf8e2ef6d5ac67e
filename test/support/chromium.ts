import { existsSync, mkdirSync } from "node:fs";
import type { TestOptions } from "node:test";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";

/** The system Chromium: tests never download a browser of their own. */
export function chromiumPath(): string {
  return process.env.CHROMIUM_PATH || "/usr/bin/chromium";
}

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), headless: true, args: CHROMIUM_ARGS });
}

/**
 * Options for a browser test: skipped (and reported as such) when Chromium is absent, except
 * under `REQUIRE_BROWSER=1`, where a missing browser fails the run so CI can never pass by
 * silently skipping.
 */
export function browserTestOptions(): TestOptions {
  const executable = chromiumPath();
  if (existsSync(executable)) return {};
  const reason = `Chromium not found at ${executable}`;
  if (process.env.REQUIRE_BROWSER === "1") {
    throw new Error(`${reason}, and REQUIRE_BROWSER=1 requires the browser tests to run`);
  }
  return { skip: reason };
}

const screenshotDir = fileURLToPath(new URL("../../test-results/screenshots/", import.meta.url));

/** Saves a full-page PNG as `test-results/screenshots/<name>.png`; returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(screenshotDir, { recursive: true });
  const file = `${screenshotDir}${name.replace(/[^a-zA-Z0-9._-]+/g, "-")}.png`;
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
