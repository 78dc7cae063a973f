// forewarn-status in headless Chromium (Debian's chromium driven by playwright-core; run by
// StatusE2eTest.BrowserShowsBothLanguagesAndUpdatesLive in tests/e2e/status_e2e_test.cc):
// the overview and an incident page in English and Arabic have the right lang/dir and the
// expected facts; an `incident update` through the CLI reaches the open incident page and the
// open overview within 5 s; no console errors. Screenshots go to config.out_dir.
//
//   FOREWARN_PLAYWRIGHT_MODULES=DIR node status_pages.mjs CONFIG.json
//
// CONFIG: {base, chromium, out_dir, ref, overview: {en: [facts], ar: [...]},
//          incident: {en: [...], ar: [...]}, update: {argv: [cli, args...], expect}}
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { chromium } = require(`${process.env.FOREWARN_PLAYWRIGHT_MODULES}/playwright-core`);
const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));

const failures = [];
const consoleErrors = [];
function check(ok, what) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
}

async function open(context, path, name) {
  const page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(`${name}: ${m.text()}`); });
  page.on('pageerror', (e) => consoleErrors.push(`${name}: ${e.message}`));
  const response = await page.goto(config.base + path);
  check(response.status() === 200, `${name}: ${path} answers 200 (${response.status()})`);
  return page;
}

async function expectPage(page, name, lang, facts) {
  const dir = lang === 'ar' ? 'rtl' : 'ltr';
  check(await page.getAttribute('html', 'lang') === lang, `${name}: <html lang="${lang}">`);
  check(await page.getAttribute('html', 'dir') === dir, `${name}: <html dir="${dir}">`);
  const text = await page.innerText('main');
  for (const fact of facts) check(text.includes(fact), `${name}: shows "${fact}"`);
  await page.screenshot({ path: `${config.out_dir}/${name}.png`, fullPage: true });
}

// Reads `read` on `page` every 100 ms (across the reloads) until it differs from `before`;
// the milliseconds that took, or -1 after `limit` ms.
async function waitForChange(page, read, before, limit) {
  const start = Date.now();
  while (Date.now() - start < limit) {
    try {
      const now = await read(page);
      if (now !== null && now !== before) return Date.now() - start;
    } catch (e) { /* the page is reloading */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  return -1;
}

async function liveUpdate(context) {
  const incident = await open(context, `/i/${config.ref}?lang=en`, 'incident-live');
  const overview = await open(context, '/?lang=ar', 'overview-live');
  const factsVersion = (p) => p.getAttribute('#facts', 'data-version');
  const overviewVersion = (p) => p.getAttribute('body', 'data-version');
  const [before, overviewBefore] = [await factsVersion(incident), await overviewVersion(overview)];
  execFileSync(config.update.argv[0], config.update.argv.slice(1), { stdio: 'inherit' });
  const [took, overviewTook] = await Promise.all([
    waitForChange(incident, factsVersion, before, 5000), waitForChange(overview, overviewVersion, overviewBefore, 5000)]);
  check(took >= 0, `incident page shows the update within 5 s (${took} ms)`);
  check(overviewTook >= 0, `overview shows the update within 5 s (${overviewTook} ms)`);
  await incident.waitForLoadState('load');
  check((await incident.innerText('#timeline')).includes(config.update.expect),
        `incident page's timeline: "${config.update.expect}"`);
  await incident.screenshot({ path: `${config.out_dir}/incident-updated.png`, fullPage: true });
}

const browser = await chromium.launch({ executablePath: config.chromium, args: ['--no-sandbox'] });
try {
  const context = await browser.newContext({ viewport: { width: 900, height: 1000 } });
  for (const lang of ['en', 'ar']) {
    const overview = await open(context, `/?lang=${lang}`, `overview-${lang}`);
    await expectPage(overview, `overview-${lang}`, lang, config.overview[lang]);
    const incident = await open(context, `/i/${config.ref}?lang=${lang}`, `incident-${lang}`);
    await expectPage(incident, `incident-${lang}`, lang, config.incident[lang]);
    await Promise.all([overview.close(), incident.close()]);
  }
  await liveUpdate(context);
  check(consoleErrors.length === 0, `no console errors${consoleErrors.length ? ': ' + consoleErrors.join('; ') : ''}`);
} finally {
  await browser.close();
}
console.log(failures.length ? `${failures.length} check(s) failed` : 'all checks passed');
process.exit(failures.length ? 1 : 0);
