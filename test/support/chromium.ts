import { existsSync, mkdirSync } from "node:fs";
import type { TestOptions } from "node:test";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Locator, type Page } from "playwright-core";

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

/** Saves one element as `test-results/screenshots/<name>.png` (README pictures crop to what they show). */
export async function screenshotOf(locator: Locator, name: string): Promise<string> {
  mkdirSync(screenshotDir, { recursive: true });
  const file = `${screenshotDir}${name.replace(/[^a-zA-Z0-9._-]+/g, "-")}.png`;
  await locator.screenshot({ path: file });
  return file;
}

/** Saves the part of the page from the top of `from` to the bottom of `to` (both on screen). */
export async function screenshotBetween(page: Page, from: string, to: string, name: string): Promise<string> {
  mkdirSync(screenshotDir, { recursive: true });
  const file = `${screenshotDir}${name.replace(/[^a-zA-Z0-9._-]+/g, "-")}.png`;
  const top = await page.locator(from).boundingBox();
  const bottom = await page.locator(to).boundingBox();
  if (!top || !bottom) throw new Error(`screenshotBetween: ${from} or ${to} is not on the page`);
  const y = Math.max(0, top.y - 16);
  await page.screenshot({
    path: file,
    fullPage: true,
    clip: { x: 0, y, width: page.viewportSize()?.width ?? 1280, height: bottom.y + bottom.height + 16 - y },
  });
  return file;
}
