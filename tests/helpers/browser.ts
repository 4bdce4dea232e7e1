// Debian's chromium, headless, through playwright-core (DESIGN.md "Testing against real
// peers"), and screenshots under .test-results/ at desktop and phone width.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";

export const CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

export const DESKTOP = { width: 1280, height: 900 };
export const PHONE = { width: 390, height: 844 };

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_FLAGS, headless: true });
}

/** A context for a server with a self-signed certificate. */
export function newContext(browser: Browser, viewport = DESKTOP): Promise<BrowserContext> {
  return browser.newContext({ ignoreHTTPSErrors: true, viewport });
}

const dir = join(import.meta.dir, "..", "..", ".test-results", "screenshots");

/** Save a full-page screenshot as .test-results/screenshots/<name>-<width>.png. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}-${page.viewportSize()?.width ?? 0}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Screenshot the page at its (desktop) width, then `url` (default: the page's; give the
 *  page's own URL after a form POST) at phone width with the same cookies. The phone
 *  page's size in bytes (page weight). */
export async function screenshotBoth(page: Page, name: string, url = page.url()): Promise<number> {
  await screenshot(page, name);
  const phone = await page.context().newPage();
  await phone.setViewportSize(PHONE);
  const res = await phone.goto(url);
  const bytes = res ? (await res.body()).length : 0;
  await screenshot(phone, name);
  await phone.close();
  return bytes;
}
