// Debian's Chromium through playwright-core, for the tests that look at a page
// as a person would (coord ui, STATUS.md as GitHub lays it out). Without it
// (PLAYWRIGHT_CHROMIUM, else /usr/bin/chromium) those suites say they are skipped.
import { existsSync } from "node:fs";
import { type Browser, chromium, type Page } from "playwright-core";
import { describe } from "vitest";

export const CHROMIUM = process.env.PLAYWRIGHT_CHROMIUM || "/usr/bin/chromium";
const haveChromium = existsSync(CHROMIUM);
const SKIPPED = `skipped: no Chromium at ${CHROMIUM}; apt-get install chromium, or set PLAYWRIGHT_CHROMIUM`;

/** A describe that runs only with Chromium, its title saying why when skipped. */
export function chromiumSuite(title: string, body: () => void): void {
  if (!haveChromium) console.warn(`${title}: ${SKIPPED}`);
  describe.skipIf(!haveChromium)(haveChromium ? title : `${title} (${SKIPPED})`, body);
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"], timeout: 30_000 });
}

/** A page of `url` in a phone-width window, its context closed by the stop given to `onEnd`; every wait on it is bounded (10 s by default). */
export async function openPhonePage(browser: Browser, url: string, onEnd: (stop: () => Promise<unknown>) => void): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  onEnd(() => context.close());
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  await page.goto(url);
  return page;
}
