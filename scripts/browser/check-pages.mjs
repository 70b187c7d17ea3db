// Opens Quire's own pages in headless Chromium (Debian's `chromium`, driven by playwright-core)
// with every request to a host other than the server's refused and recorded:
//   /        the start page links the docs, GraphQL, health and metrics
//   /docs    Swagger UI lists the operations; "Try it out" on GET /api/tags answers 200
//   /graphql GraphiQL runs its default query and shows the data
// Fails if any page tried to reach another host.   node check-pages.mjs http://127.0.0.1:8080
import { chromium } from 'playwright-core';

const base = new URL(process.argv[2] ?? 'http://127.0.0.1:8080');
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const foreign = [];
const failures = [];

const check = (condition, message) => {
  if (!condition) failures.push(message);
  console.log(`${condition ? 'ok  ' : 'FAIL'} ${message}`);
};

const browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
try {
  const context = await browser.newContext();
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.host === base.host || url.protocol === 'data:' || url.protocol === 'blob:') {
      return route.continue();
    }
    foreign.push(url.href);
    return route.abort('blockedbyclient');
  });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);

  await page.goto(new URL('/', base).href);
  check((await page.title()) === 'Quire', 'the start page has its title');
  for (const href of ['/docs', '/graphql', '/health/ready', '/metrics']) {
    check((await page.locator(`a[href="${href}"]`).count()) === 1, `the start page links ${href}`);
  }

  await page.goto(new URL('/docs', base).href);
  await page.locator('.opblock').first().waitFor();
  const operations = await page.locator('.opblock').count();
  check(operations >= 34, `Swagger UI lists the operations (${operations})`);
  const tags = page.locator('.opblock-get', { has: page.locator('[data-path="/api/tags"]') });
  await tags.locator('.opblock-summary').click();
  // With `tryItOutEnabled` the block opens ready to run; otherwise "Try it out" first.
  const tryOut = tags.locator('button.try-out__btn', { hasText: 'Try it out' });
  if (await tryOut.count()) await tryOut.click();
  await tags.locator('button.execute').click();
  const status = tags.locator('.live-responses-table tr.response .response-col_status').first();
  await status.waitFor();
  check((await status.innerText()).trim() === '200', '"Try it out" on GET /api/tags answers 200');

  await page.goto(new URL('/graphql', base).href);
  await page.locator('.graphiql-execute-button').waitFor();
  await page.locator('.graphiql-execute-button').click();
  const result = page.locator('.graphiql-response');
  await page.waitForFunction(
    () => document.querySelector('.graphiql-response')?.textContent.includes('totalCount'),
  );
  check((await result.innerText()).includes('"data"'), 'GraphiQL runs its default query');
} catch (error) {
  failures.push(String(error));
  console.log(`FAIL ${error}`);
} finally {
  await browser.close();
}

check(foreign.length === 0, `no request left this server${foreign.length ? `: ${foreign.join(', ')}` : ''}`);
if (failures.length) {
  console.error(`${failures.length} browser check(s) failed`);
  process.exit(1);
}
