// Opens Quire's own pages in headless Chromium (Debian's `chromium`, driven by playwright-core)
// with every request to a host other than the server's refused and recorded:
//   /        the start page links the docs, GraphQL, health and metrics
//   /docs    Swagger UI lists the operations; "Try it out" on GET /api/tags answers 200
//   /graphql GraphiQL runs its default query and shows the data
//   /oauth/authorize  (with a public client's id as the second argument) a new user signs in
//            on the login page (which names the site and the app, and keeps the address after
//            a wrong password), allows the app on the consent page, and the browser lands on
//            the app's redirect URI with a code that the token endpoint exchanges (PKCE S256)
//   /verify-email  (with the server's mail folder as the third argument: development without
//            SMTP writes each mail there) the link of the user's sign-up mail, opened and
//            confirmed with its button, proves the address; then /reset-password asks for a
//            link, and the link's page sets a new password that signs in
// Fails if any page tried to reach another host (the app's redirect URI, where the flow ends,
// is a server of this script's on loopback).
//   node check-pages.mjs http://127.0.0.1:8080 [CLIENT_ID [MAIL_FOLDER]]
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { chromium } from 'playwright-core';

const base = new URL(process.argv[2] ?? 'http://127.0.0.1:8080');
const clientId = process.argv[3];
const mailFolder = process.argv[4];

// The token of the newest link to `path` mailed to `address` (an .eml in the folder).
const mailedToken = async (address, path) => {
  for (let tries = 0; tries < 100; tries += 1) {
    const mails = readdirSync(mailFolder, { withFileTypes: true })
      .filter((entry) => entry.name.endsWith('.eml'))
      // Undo quoted-printable (soft line breaks, `=` written `=3D`) as a mail client would.
      .map((entry) => readFileSync(`${mailFolder}/${entry.name}`, 'utf8').replace(/=\r?\n/g, '').replace(/=3D/g, '='))
      .filter((mail) => mail.includes(`To: ${address}`));
    const link = new RegExp(`${path}\\?token=([A-Za-z0-9_-]+)`);
    const found = mails.map((mail) => mail.match(link)).find(Boolean);
    if (found) return found[1];
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return null;
};
const redirectUri = 'http://127.0.0.1:18999/callback';
// The app's end of the flow: where the browser lands with the code.
let landed = null;
const app = createServer((request, response) => {
  landed = new URL(request.url, redirectUri);
  response.end('back at the app');
});
await new Promise((resolve) => app.listen(new URL(redirectUri).port, '127.0.0.1', resolve));
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

  if (clientId) {
    const name = `browser${Date.now()}`;
    const password = 'a browser password';
    const registered = await fetch(new URL('/api/users', base), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: { username: name, email: `${name}@example.com`, password } }),
    });
    check(registered.status === 201, 'a user to sign in as is registered');
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const authorize = new URL('/oauth/authorize', base);
    for (const [key, value] of Object.entries({
      response_type: 'code', client_id: clientId, redirect_uri: redirectUri, scope: 'read write',
      state: 'browser-state', code_challenge: challenge, code_challenge_method: 'S256',
    })) authorize.searchParams.set(key, value);
    await page.goto(authorize.href);
    check((await page.locator('#site').innerText()) === 'Quire', 'the sign-in page names the site');
    check((await page.locator('#app').innerText()) === 'Browser check', 'the sign-in page names the app');
    await page.locator('input[name="email"]').fill(`${name}@example.com`);
    await page.locator('input[name="password"]').fill('not the password');
    await page.locator('button[type="submit"]').click();
    await page.locator('.problem').waitFor();
    check(
      (await page.locator('input[name="email"]').inputValue()) === `${name}@example.com`,
      'a wrong password keeps the address typed',
    );
    await page.locator('input[name="password"]').fill(password);
    await page.locator('button[type="submit"]').click();
    await page.locator('button[value="allow"]').waitFor();
    check((await page.locator('#username').innerText()) === name, 'the consent page names the signed-in user');
    check((await page.locator('#scopes li').count()) === 2, 'the consent page lists the two scopes asked for');
    await Promise.all([page.waitForURL(`${redirectUri}**`), page.locator('button[value="allow"]').click()]);
    const code = landed?.searchParams.get('code');
    check(landed?.searchParams.get('state') === 'browser-state', 'the browser is sent back with the state');
    const exchanged = await fetch(new URL('/oauth/token', base), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code', code: code ?? '', redirect_uri: redirectUri,
        client_id: clientId, code_verifier: verifier,
      }),
    });
    const tokens = await exchanged.json();
    check(exchanged.status === 200 && tokens.scope === 'read write', 'the code is exchanged for tokens');
    const feed = await fetch(new URL('/api/articles/feed', base), {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    check(feed.status === 200, "the app's token reads the user's feed");

    if (mailFolder) {
      const token = await mailedToken(`${name}@example.com`, '/verify-email');
      check(token !== null, 'the sign-up mail with its link is in the mail folder');
      await page.goto(new URL(`/verify-email?token=${token}`, base).href);
      await page.locator('button[type="submit"]').click();
      await page.locator('#email').waitFor();
      check((await page.locator('#email').innerText()) === `${name}@example.com`, 'the link proves the address');
      const jwt = (await registered.json()).user.token;
      const me = await (await fetch(new URL('/api/user', base), {
        headers: { authorization: `Token ${jwt}` },
      })).json();
      check(me.user.emailVerified === true, 'the user is verified afterwards');

      // Forgot the password: the page asks for a link, the link's page sets a new one.
      await page.goto(new URL('/reset-password', base).href);
      await page.locator('input[name="email"]').fill(`${name}@example.com`);
      await page.locator('button[type="submit"]').click();
      await page.locator('[role="status"]').waitFor();
      const resetToken = await mailedToken(`${name}@example.com`, '/reset-password');
      check(resetToken !== null, 'the reset mail with its link is in the mail folder');
      await page.goto(new URL(`/reset-password?token=${resetToken}`, base).href);
      await page.locator('input[name="password"]').fill('a new browser password');
      await page.locator('button[type="submit"]').click();
      await page.locator('[role="status"]').waitFor();
      const signIn = await fetch(new URL('/api/users/login', base), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ user: { email: `${name}@example.com`, password: 'a new browser password' } }),
      });
      check(signIn.status === 200, 'the new password signs in');
    } else {
      console.log('skip the verification link: no mail folder given');
    }
  } else {
    console.log('skip the consent page: no OAuth2 client id given');
  }
} catch (error) {
  failures.push(String(error));
  console.log(`FAIL ${error}`);
} finally {
  await browser.close();
  app.close();
}

check(foreign.length === 0, `no request left this server${foreign.length ? `: ${foreign.join(', ')}` : ''}`);
if (failures.length) {
  console.error(`${failures.length} browser check(s) failed`);
  process.exit(1);
}
