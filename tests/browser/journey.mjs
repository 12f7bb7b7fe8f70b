// A reader's journey through the site in Debian's headless chromium, driven
// over the DevTools protocol by playwright-core (tests/site_test.cc runs it
// against a real network of origin, mirror and indexer).
//
//   node journey.mjs CONFIG.json
//
// CONFIG names the site, the origin and an account on it, the zip to upload
// during the journey, the names the pages must show and where screenshots go
// (see tests/site_test.cc, JourneyConfig). The journey opens the home page,
// searches every index through the forms, opens a result, switches releases,
// reads an extension's doc and follows a link in it to another, opens a
// special file under /src/, downloads the zip and checks its SHA-256 against
// the page, opens the user and tag pages, the lists and prose pages, pages
// without their trailing slash, the 404 page and a README full of script
// payloads (also with the CSP bypassed, so the sanitizer alone must stop
// them), then uploads a release and waits until /recent/ lists it and a
// blank page's EventSource on the mirror's /feed receives it.
//
// On every page: no request leaves the node (all are intercepted), no
// console error, no uncaught exception, no failed request or error response,
// no dialog and no script from a README run, every link to the site leads to
// a page, no serious or critical axe-core violation at 390 and 1280 px, and a
// full-page screenshot at both widths.
// Prints what it did and exits 1 with every problem found, 2 on bad usage.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);

if (process.argv.length !== 3) {
  console.error('usage: node journey.mjs CONFIG.json');
  process.exit(2);
}
const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const site = new URL(config.site);
const widths = [
  { name: '390', width: 390, height: 844 },
  { name: '1280', width: 1280, height: 900 },
];
const kTimeout = 60_000;  // per action: generous, a loaded 2-core machine
const kRecentTimeout = config.recent_timeout_ms ?? 30_000;
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

mkdirSync(config.out, { recursive: true });

const problems = [];    // each fails the journey
const notes = [];       // axe findings below serious, reported only
const visited = [];     // [label, url, status]
let step = 'start';     // what the journey is doing, for the problems' context
let shots = 0;

function problem(message) {
  problems.push(`${step}: ${message}`);
  console.log(`PROBLEM ${step}: ${message}`);
}

function expect(condition, message) {
  if (!condition) problem(message);
  return condition;
}

function isOnSite(url) {
  // data: URLs stay in the page (the CSP allows them for images).
  if (url.startsWith('data:') || url.startsWith('about:')) return true;
  try {
    return new URL(url).origin === site.origin;
  } catch {
    return false;
  }
}

// Everything a page does that counts against it, recorded on `problems`.
// `allowed` lists error responses the current step expects (the 404 page).
const allowed = { statuses: new Map() };
const blocked = new Set();

function watch(page, name) {
  // A request the browser drops because the page it was for is being left
  // (a late favicon) did not fail: count the main frame's navigations.
  let navigations = 0;
  const startedAt = new WeakMap();
  page.on('request', (request) => {
    if (request.isNavigationRequest() && request.frame() === page.mainFrame()) ++navigations;
    startedAt.set(request, navigations);
  });
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const text = message.text();
    const where = message.location()?.url ?? '';
    // Chromium logs every error response as a console error; the expected
    // ones are allowed through `allowed`, and an unexpected one is reported
    // by the 'response' listener below with its URL.
    if (/^Failed to load resource: the server responded with a status of \d+/.test(text)) {
      const expected = allowed.statuses.get(where);
      if (expected !== undefined && text.includes(`status of ${expected}`)) return;
    }
    problem(`${name}: console error: ${text}${where ? ` (${where})` : ''}`);
  });
  page.on('pageerror', (error) => problem(`${name}: uncaught exception: ${error.message}`));
  page.on('requestfailed', (request) => {
    if (blocked.has(request.url())) return;  // reported when it was intercepted
    if (request.failure()?.errorText === 'net::ERR_ABORTED' && !request.isNavigationRequest() &&
        startedAt.get(request) !== navigations) {
      return;
    }
    problem(`${name}: request failed: ${request.method()} ${request.url()}: ` +
            `${request.failure()?.errorText}`);
  });
  page.on('response', (response) => {
    const status = response.status();
    if (status < 400) return;
    if (allowed.statuses.get(response.url()) === status) return;
    problem(`${name}: ${response.request().method()} ${response.url()} answered ${status}`);
  });
  page.on('dialog', async (dialog) => {
    problem(`${name}: a script opened a ${dialog.type()} dialog: ${JSON.stringify(dialog.message())}`);
    await dialog.dismiss().catch(() => {});
  });
  page.on('popup', (popup) => problem(`${name}: a popup opened: ${popup.url()}`));
}

async function newContext(browser, options) {
  const context = await browser.newContext({
    viewport: { width: widths[1].width, height: widths[1].height },
    acceptDownloads: true,
    serviceWorkers: 'block',
    ...options,
  });
  context.setDefaultTimeout(kTimeout);
  context.setDefaultNavigationTimeout(kTimeout);
  // Every request the pages make goes through here: only the site's own.
  await context.route('**/*', async (route) => {
    const request = route.request();
    if (isOnSite(request.url())) return route.continue();
    blocked.add(request.url());
    problem(`a request left the node: ${request.method()} ${request.url()}`);
    return route.abort('blockedbyclient');
  });
  return context;
}

// ---------------------------------------------------------------------------
// Checks of one visited page

async function axe(page, label, width, exclude) {
  // Evaluated over the DevTools protocol, which the page's CSP
  // (default-src 'none') does not govern; a <script> tag would be refused.
  const present = await page.evaluate(() => typeof window.axe === 'object');
  if (!present) await page.evaluate(axeSource);
  const results = await page.evaluate(async (exclude) => {
    const context = exclude.length > 0 ? { exclude: exclude.map((s) => [s]) } : document;
    const run = await window.axe.run(context, { resultTypes: ['violations'] });
    return run.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      targets: v.nodes.slice(0, 5).map((n) => `${n.target.join(' ')}${n.failureSummary ? ` (${n.failureSummary.replace(/\s+/g, ' ').trim()})` : ''}`),
      count: v.nodes.length,
    }));
  }, exclude);
  for (const v of results) {
    const text = `axe ${v.impact} ${v.id} on ${label} at ${width} px (${v.count} elements): ` +
                 `${v.help}: ${v.targets.join('; ')}`;
    if (v.impact === 'serious' || v.impact === 'critical') {
      problem(text);
    } else {
      notes.push(text);
    }
  }
}

// Every link of the page to the site itself leads somewhere: each distinct
// URL is fetched once (outside the browser, following redirects). Links to
// other sites are never requested.
const linkStatus = new Map();

async function checkLinks(page, label) {
  const hrefs = await page.evaluate(() => [...document.querySelectorAll('a[href]')].map((a) => a.href));
  for (const href of new Set(hrefs)) {
    let url;
    try {
      url = new URL(href);
    } catch {
      problem(`${label}: a link to "${href}" is not a URL`);
      continue;
    }
    if (url.origin !== site.origin) continue;
    url.hash = '';
    const here = new URL(page.url());
    here.hash = '';
    if (url.href === here.href) continue;  // a fragment of this page ("#main")
    if (!linkStatus.has(url.href)) {
      const response = await fetch(url.href, { method: 'HEAD', redirect: 'follow' });
      linkStatus.set(url.href, response.status);
    }
    const status = linkStatus.get(url.href);
    expect(status < 400, `${label}: the link to ${href} (from ${page.url()}) answers ${status}`);
  }
}

// The checks every page gets once the journey has reached it.
// `exclude`: selectors of elements axe leaves out (content whose author made
// it inaccessible on purpose).
async function checkPage(page, label, { status = 200, response = null, exclude = [] } = {}) {
  const url = page.url();
  const got = response ? response.status() : null;
  visited.push([label, url, got]);
  console.log(`visit ${label}: ${url}${got !== null ? ` (${got})` : ''}`);
  if (response) expect(got === status, `${url} answered ${got}, not ${status}`);
  expect(isOnSite(url), `left the site for ${url}`);
  const layout = await page.evaluate(() => ({
    header: !!document.querySelector('header.site nav'),
    main: !!document.querySelector('main#main h1'),
    footer: !!document.querySelector('footer.site'),
    title: document.title,
    lang: document.documentElement.lang,
    pwned: window.__pwned,
    stylesheet: [...document.styleSheets].some((s) => {
      try { return s.cssRules.length > 0; } catch { return false; }
    }),
  }));
  expect(layout.header && layout.main && layout.footer,
         `${url} is not in the layout (header nav, main h1, footer)`);
  expect(layout.title.length > 0, `${url} has no title`);
  expect(layout.stylesheet, `${url} has no stylesheet applied`);
  expect(layout.pwned === undefined, `${url}: a script ran (window.__pwned = ${layout.pwned})`);
  await checkLinks(page, label);
  const slug = label.replace(/[^A-Za-z0-9._-]+/g, '-');
  ++shots;
  for (const size of [widths[0], widths[1]]) {
    await page.setViewportSize({ width: size.width, height: size.height });
    await axe(page, label, size.width, exclude);
    await page.screenshot({
      path: path.join(config.out, `${String(shots).padStart(2, '0')}-${slug}-${size.name}.png`),
      fullPage: true,
    });
  }
  return layout;
}

// Clicks `locator` and waits for the page it leads to; returns its response.
async function follow(page, locator, what) {
  const count = await locator.count();
  if (count === 0) throw new Error(`no ${what} to click on ${page.url()}`);
  const [response] = await Promise.all([
    page.waitForNavigation({ waitUntil: 'load' }),
    locator.first().click(),
  ]);
  return response;
}

// The text of each element, whitespace collapsed (textContent: as written,
// whatever text-transform the stylesheet applies).
async function text(locator) {
  return (await locator.allTextContents()).map((s) => s.replace(/\s+/g, ' ').trim());
}

function linkNamed(page, scope, name) {
  return page.locator(scope).getByRole('link', { name, exact: true });
}

// ---------------------------------------------------------------------------
// The journey

async function upload(zipPath) {
  const form = new FormData();
  form.append('submit', 'Release It!');
  form.append('archive', new Blob([readFileSync(zipPath)], { type: 'application/zip' }),
              path.basename(zipPath));
  const response = await fetch(new URL('/upload', config.origin), {
    method: 'POST',
    body: form,
    headers: {
      Authorization: 'Basic ' + Buffer.from(`${config.user}:${config.password}`).toString('base64'),
      'X-Requested-With': 'XMLHttpRequest',
    },
  });
  const body = await response.text();
  if (response.status !== 200) {
    throw new Error(`uploading ${zipPath} answered ${response.status}: ${body}`);
  }
}

async function journey(browser) {
  const context = await newContext(browser, {});
  const page = await context.newPage();
  watch(page, 'journey');
  const d = config.dist;

  step = 'home';
  let response = await page.goto(config.site + '/');
  await checkPage(page, 'home', { response });
  expect((await text(page.locator('ul.releases a'))).some((t) => t.startsWith(`${d.name} `)),
         `the home page lists no release of ${d.name}`);

  // Each index through a form: the home page's, then the search page's own,
  // and last the one in the header of other pages (from the About page).
  for (const [i, search] of config.searches.entries()) {
    step = `search in ${search.in}`;
    const last = i === config.searches.length - 1;
    const prefix = i === 0 ? 'home' : last ? 'site' : 'search';
    if (last) {
      response = await follow(page, linkNamed(page, 'header.site nav', 'About'), 'the About link');
      await checkPage(page, 'about', { response });
    }
    await page.locator(`#${prefix}-q`).fill(search.q);
    await page.locator(`#${prefix}-in`).selectOption(search.in);
    response = await follow(page, page.locator(`form:has(#${prefix}-q) button[type=submit]`),
                            `${prefix} search button`);
    await checkPage(page, `search-${search.in}`, { response });
    const url = new URL(page.url());
    expect(url.pathname === '/search' && url.searchParams.get('in') === search.in &&
           url.searchParams.get('q') === search.q,
           `the ${prefix} form went to ${page.url()}`);
    const hits = await text(page.locator('ol.hits li.hit h2 a'));
    expect(hits.includes(search.expect),
           `no hit "${search.expect}" for "${search.q}" in ${search.in}: ${JSON.stringify(hits)}`);
    expect(await page.locator(`#search-in`).inputValue() === search.in,
           `the search page's form does not keep in=${search.in}`);
  }

  // The last search was of dists: open the dist.
  step = 'open a result';
  response = await follow(page, linkNamed(page, 'ol.hits', d.name), `hit ${d.name}`);
  await checkPage(page, `dist-${d.name}`, { response });
  expect(new URL(page.url()).pathname === `/dist/${d.name}/`, `the hit led to ${page.url()}`);
  let h1 = (await text(page.locator('main h1')))[0];
  expect(h1 === `${d.name} ${d.shown}`, `the dist page's h1 is "${h1}", not "${d.name} ${d.shown}"`);
  const readme = await text(page.locator('section.readme .doc :is(h3, h4)'));
  expect(readme.includes(d.readme_heading),
         `the README's headings ${JSON.stringify(readme)} lack "${d.readme_heading}"`);

  step = 'switch to an older release';
  response = await follow(page, linkNamed(page, 'section[aria-labelledby=releases-heading]', d.older),
                          `release ${d.older}`);
  await checkPage(page, `release-${d.name}-${d.older}`, { response });
  expect(new URL(page.url()).pathname === `/dist/${d.name}/${d.older}/`, `went to ${page.url()}`);
  h1 = (await text(page.locator('main h1')))[0];
  expect(h1 === `${d.name} ${d.older}`, `the older release's h1 is "${h1}"`);
  expect((await text(page.locator('.versions strong[aria-current=page]')))[0] === d.older,
         `the release list does not mark ${d.older} as current`);

  for (const [status, version] of Object.entries(d.prereleases)) {
    step = `open the ${status} release`;
    response = await follow(page, linkNamed(page, 'section[aria-labelledby=releases-heading]', version),
                            `release ${version}`);
    await checkPage(page, `release-${d.name}-${version}`, { response });
    h1 = (await text(page.locator('main h1')))[0];
    expect(h1 === `${d.name} ${version} ${status}`, `the ${status} release's h1 is "${h1}"`);
    expect(await page.locator(`h1 .status.${status}`).count() === 1,
           `the ${status} release has no status badge`);
    const install = (await text(page.locator('pre.install')))[0];
    expect(install.includes(`--${status}`), `the install line "${install}" lacks --${status}`);
  }

  step = 'back to the dist';
  response = await follow(page, linkNamed(page, 'nav.crumbs', d.name), 'the dist breadcrumb');
  await checkPage(page, `dist-${d.name}-again`, { response });

  step = "open an extension's doc";
  response = await follow(page, linkNamed(page, 'main', `Documentation for ${d.extension}`),
                          `the doc link of ${d.extension}`);
  await checkPage(page, `doc-${d.extension}`, { response });
  expect(new URL(page.url()).pathname === `/dist/${d.name}/${d.shown}/${d.doc.path}.html`,
         `the extension's doc is at ${page.url()}`);
  h1 = (await text(page.locator('main h1')))[0];
  expect(h1 === d.doc.title, `the doc's h1 is "${h1}", not "${d.doc.title}"`);

  step = 'follow a link inside the doc';
  response = await follow(page, linkNamed(page, 'article.doc', d.doc.link_text),
                          `link "${d.doc.link_text}" in the doc`);
  await checkPage(page, `doc-${d.doc.linked_path}`, { response });
  expect(new URL(page.url()).pathname === `/dist/${d.name}/${d.shown}/${d.doc.linked_path}.html`,
         `the link inside the doc led to ${page.url()}`);
  h1 = (await text(page.locator('main h1')))[0];
  expect(h1 === d.doc.linked_title, `the linked doc's h1 is "${h1}", not "${d.doc.linked_title}"`);

  step = 'open a special file';
  response = await follow(page, linkNamed(page, 'nav.crumbs', d.shown), 'the release breadcrumb');
  await checkPage(page, `release-${d.name}-${d.shown}`, { response });
  response = await follow(page, linkNamed(page, 'section[aria-labelledby=files-heading]', d.special.name),
                          `special file ${d.special.name}`);
  await checkPage(page, `src-${d.special.name}`, { response });
  expect(new URL(page.url()).pathname ===
         `/src/${d.name}/${d.name}-${d.shown}/${d.special.name}`, `the special file is at ${page.url()}`);
  const source = (await page.locator('pre.source').innerText()).trim();
  expect(source.includes(d.special.contains),
         `${d.special.name} shows ${JSON.stringify(source.slice(0, 200))}, without "${d.special.contains}"`);
  response = await follow(page, linkNamed(page, 'nav.crumbs', `${d.name}-${d.shown}`),
                          'the source breadcrumb');
  await checkPage(page, `src-${d.name}-${d.shown}`, { response });
  expect((await text(page.locator('table.listing a'))).includes('META.json'),
         'the source listing has no META.json');

  step = 'download the zip';
  response = await follow(page, linkNamed(page, 'nav.crumbs', d.name), 'the dist breadcrumb');
  await checkPage(page, `dist-${d.name}-download`, { response });
  const shown = (await page.locator('code.sha256').innerText()).trim();
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.locator('section.download a.button').click(),
  ]);
  const saved = await download.path();
  const failure = await download.failure();
  expect(failure === null, `the download failed: ${failure}`);
  if (saved) {
    const bytes = readFileSync(saved);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    console.log(`download ${download.suggestedFilename()}: ${bytes.length} bytes, sha256 ${sha256}`);
    expect(sha256 === shown, `the zip's SHA-256 is ${sha256}; the page shows ${shown}`);
    expect(download.suggestedFilename() === `${d.name}-${d.shown}.zip`,
           `the download is named ${download.suggestedFilename()}`);
    expect(bytes.subarray(0, 2).toString() === 'PK', 'the download is not a zip');
  }

  step = 'open the user page';
  response = await follow(page, linkNamed(page, 'header.dist', d.user), `user ${d.user}`);
  await checkPage(page, `user-${d.user}`, { response });
  expect(new URL(page.url()).pathname === `/user/${d.user}/`, `the user link led to ${page.url()}`);
  expect((await text(page.locator('dl.dists dt a'))).includes(d.name),
         `${d.user}'s page does not list ${d.name}`);

  step = 'open the tag page';
  response = await follow(page, linkNamed(page, 'dl.dists', d.name), `${d.name} on the user page`);
  await checkPage(page, `dist-${d.name}-from-user`, { response });
  response = await follow(page, linkNamed(page, 'section[aria-labelledby=tags-heading]', d.tag),
                          `tag ${d.tag}`);
  await checkPage(page, `tag-${d.tag}`, { response });
  expect(new URL(page.url()).pathname === `/tag/${encodeURIComponent(d.tag)}/`,
         `the tag link led to ${page.url()}`);
  expect((await text(page.locator('dl.dists dt a'))).includes(d.name),
         `the tag page of ${d.tag} does not list ${d.name}`);

  step = 'the lists';
  for (const [label, heading] of [['Tags', 'Tags'], ['Users', 'Users']]) {
    response = await follow(page, linkNamed(page, 'header.site nav', label), `the ${label} link`);
    await checkPage(page, label.toLowerCase(), { response });
    expect((await text(page.locator('main h1')))[0] === heading, `the ${label} page's h1`);
  }
  // The user's letter, unless the list shows it already.
  const letter = new RegExp(`^${d.user[0]}$`, 'i');
  if (await page.locator('nav.letters strong[aria-current=page]', { hasText: letter }).count() === 0) {
    response = await follow(page, page.locator('nav.letters').getByRole('link', { name: letter }),
                            `letter ${d.user[0]}`);
    await checkPage(page, `users-${d.user[0]}`, { response });
  }
  expect((await text(page.locator('ul.people a'))).includes(d.user), `the users list lacks ${d.user}`);
  for (const [label, pathname] of [['About', '/about/'], ['FAQ', '/faq/'], ['Feeds', '/feeds/']]) {
    response = await follow(page, linkNamed(page, 'header.site nav', label), `the ${label} link`);
    await checkPage(page, label.toLowerCase(), { response });
    expect(new URL(page.url()).pathname === pathname, `${label} led to ${page.url()}`);
  }
  for (const [label, pathname] of [['Mirroring', '/mirroring/'], ['Meta Spec', '/spec/']]) {
    response = await follow(page, linkNamed(page, 'footer.site', label), `the ${label} link`);
    await checkPage(page, label.toLowerCase().replace(' ', '-'), { response });
    expect(new URL(page.url()).pathname === pathname, `${label} led to ${page.url()}`);
  }

  // Pages without their trailing slash: their links lead where those of the
  // page with it do (relative links resolve against the address).
  const links = () => page.evaluate(() => [...document.querySelectorAll('main a[href]')]
    .map((a) => {
      const url = new URL(a.href);
      const here = new URL(location.href);
      const page = (u) => u.origin + u.pathname.replace(/\/$/, '');
      return page(url) === page(here) ? url.hash : a.href;
    }));
  for (const pathname of config.no_slash) {
    step = `without the trailing slash: ${pathname}`;
    response = await page.goto(new URL(pathname + '/', config.site).href);
    expect(response.status() === 200, `${pathname}/ answered ${response.status()}`);
    const want = await links();
    response = await page.goto(new URL(pathname, config.site).href);
    await checkPage(page, `no-slash${pathname}`, { response });
    const got = await links();
    const wrong = got.filter((href, i) => href !== want[i]);
    expect(got.length === want.length && wrong.length === 0,
           `${pathname} links to ${JSON.stringify(wrong)} where ${pathname}/ links to ` +
           `${JSON.stringify(want.filter((href, i) => href !== got[i]))}`);
  }

  step = 'the 404 page';
  for (const missing of config.missing) {
    const url = new URL(missing, config.site).href;
    allowed.statuses.set(url, 404);
    response = await page.goto(url);
    await checkPage(page, `404${missing}`, { status: 404, response });
    expect((await text(page.locator('main h1')))[0] === 'Not found', `${missing}: the h1`);
    expect(await page.locator('main form[role=search] input[name=q]').count() === 1,
           `${missing}: the 404 page has no search form`);
    allowed.statuses.delete(url);
  }

  await xssChecks(page, 'with the CSP');
  await recent(page);
  await context.close();
}

// The README of config.xss carries script in every form a README can; none of
// it may run. Checked as served (with the CSP) in the journey, and again with
// the CSP bypassed, so the sanitizer alone must stop it.
// The addresses the README's broken images end at, seen from page `url`.
function brokenImages(url) {
  return config.xss.broken_images.flatMap((image) => {
    const href = new URL(image, url).href;
    return href.endsWith('/') ? [href] : [href, href + '/'];
  });
}

async function xssChecks(page, how) {
  for (const pathname of config.xss.pages) {
    step = `script payloads ${how}: ${pathname}`;
    const url = new URL(pathname, config.site).href;
    // The payload's <img src=x> names no file: its 404 is the README's (after
    // the site's 301 to the address with a slash, as for any page path).
    for (const image of brokenImages(url)) allowed.statuses.set(image, 404);
    const response = await page.goto(url);
    // The payload's <img> has no alt text of its author's: the site gives it
    // alt="", so axe checks the whole page.
    await checkPage(page, `xss${pathname}-${how.replace(/ /g, '-')}`, { response });
    const found = await page.evaluate(() => {
      const main = document.querySelector('main');
      const all = [...main.querySelectorAll('*')];
      return {
        scripts: main.querySelectorAll('script').length,
        handlers: all.filter((e) => [...e.attributes].some((a) => /^on/i.test(a.name)))
          .map((e) => e.outerHTML.slice(0, 120)),
        javascript: all.filter((e) => [...e.attributes].some(
          (a) => /^\s*javascript:/i.test(a.value))).map((e) => e.outerHTML.slice(0, 120)),
      };
    });
    expect(found.scripts === 0, `${pathname} holds ${found.scripts} script elements`);
    expect(found.handlers.length === 0, `${pathname} holds event handlers: ${found.handlers}`);
    expect(found.javascript.length === 0, `${pathname} holds javascript: URLs: ${found.javascript}`);
    // The payload link: clicking it must do nothing a script would.
    // The payload links: clicking them must do nothing a script would.
    for (const linkText of config.xss.link_texts) {
      const link = page.locator('main').getByText(linkText, { exact: true });
      if (await link.count() === 0) continue;
      const before = page.url();
      await link.first().click({ noWaitAfter: true });
      await page.waitForLoadState('load');
      const pwned = await page.evaluate(() => window.__pwned);
      expect(pwned === undefined, `clicking "${linkText}" ran a script (__pwned = ${pwned})`);
      if (page.url() !== before) {
        problem(`clicking "${linkText}" went to ${page.url()}`);
        await page.goto(before);
      }
    }
    for (const image of brokenImages(url)) allowed.statuses.delete(image);
  }
}

// Uploads config.upload and reloads /recent/ until it lists the release.
async function recent(page) {
  step = 'upload and /recent/';
  const { dist, version } = config.upload;
  const expected = `${dist} ${version}`;
  const feed = config.feed ? await subscribe(page.context().browser(), dist) : null;
  await upload(config.upload.zip);
  const accepted = performance.now();
  if (feed) await awaitFeed(feed, dist, version, accepted);
  let response = null;
  let polls = 0;
  for (;;) {
    response = await page.goto(config.site + '/recent/');
    ++polls;
    if (response.status() !== 200) break;
    const listed = await text(page.locator('ul.releases li > a'));
    if (listed.includes(expected)) break;
    if (performance.now() - accepted > kRecentTimeout) break;
    await page.waitForTimeout(10);  // the poll interval (tests/support/wait.h's kWaitPoll)
  }
  const elapsed = Math.round(performance.now() - accepted);
  const listed = await text(page.locator('ul.releases li > a'));
  if (expect(listed.includes(expected),
             `/recent/ does not list ${expected} ${elapsed} ms after the upload: ${listed}`)) {
    console.log(`recent: ${expected} listed on /recent/ ${elapsed} ms after the origin ` +
                `accepted it (${polls} loads)`);
    expect(listed[0] === expected, `/recent/ lists ${listed[0]} first, not ${expected}`);
  }
  await checkPage(page, 'recent', { response });
  response = await follow(page, linkNamed(page, 'ul.releases', expected), `${expected} on /recent/`);
  await checkPage(page, `dist-${dist}`, { response });
  expect(new URL(page.url()).pathname === `/dist/${dist}/${version}/`, `it led to ${page.url()}`);
}

// A web page of another origin (a blank one, of no origin) subscribes to a
// mirror's release stream with EventSource, as the README shows: the
// stream's CORS must let it, and the release uploaded next must arrive.
async function subscribe(browser, dist) {
  const page = await browser.newPage();
  await page.setContent('<!doctype html><title>release feed</title>');
  const url = `${config.feed}/feed?kind=release&dist=${encodeURIComponent(dist)}`;
  const opened = await page.evaluate((feedUrl) => new Promise((resolve) => {
    window.releases = [];
    const source = new EventSource(feedUrl);
    source.addEventListener('release', (message) => {
      window.releases.push({ id: message.lastEventId, data: JSON.parse(message.data) });
    });
    source.onopen = () => resolve(true);
    source.onerror = () => resolve(false);
  }), url);
  expect(opened, `EventSource could not open ${url}`);
  return page;
}

async function awaitFeed(page, dist, version, accepted) {
  try {
    await page.waitForFunction((v) => window.releases.some((r) => r.data.version === v), version,
                               { timeout: kRecentTimeout });
  } catch {
    problem(`EventSource did not receive ${dist} ${version} within ${kRecentTimeout} ms`);
    await page.close();
    return;
  }
  const elapsed = Math.round(performance.now() - accepted);
  const [release] = await page.evaluate(
      (v) => window.releases.filter((r) => r.data.version === v), version);
  const zip = `/dist/${dist}/${version}/${dist}-${version}.zip`;
  expect(release.id === String(release.data.seq), `its id ${release.id} is not its seq`);
  expect(release.data.dist === dist, `the event names ${release.data.dist}`);
  expect(release.data.zip_url === config.feed + zip, `its zip_url is ${release.data.zip_url}`);
  expect(release.data.files.some((f) => f.path === zip && f.sha256.length === 64),
         `its files do not list ${zip}`);
  console.log(`feed: ${dist} ${version} arrived by EventSource ${elapsed} ms after the origin ` +
              `accepted it`);
  await page.close();
}

async function main() {
  const browser = await chromium.launch({
    executablePath: config.chromium ?? '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync',
           '--disable-default-apps', '--disable-domain-reliability'],
    timeout: kTimeout,
  });
  console.log(`chromium ${browser.version()}, site ${site.origin}`);
  try {
    await journey(browser);
    const bare = await newContext(browser, { bypassCSP: true });
    const page = await bare.newPage();
    watch(page, 'without CSP');
    await xssChecks(page, 'without the CSP');
    await bare.close();
  } catch (error) {
    problem(`stopped: ${error.stack ?? error}`);
  } finally {
    await browser.close();
  }
  console.log(`${visited.length} page visits, ${shots * 2} screenshots in ${config.out}`);
  for (const note of notes) console.log(`note: ${note}`);
  if (problems.length > 0) {
    console.log(`FAILED: ${problems.length} problems:`);
    for (const p of problems) console.log(`  - ${p}`);
    process.exit(1);
  }
  console.log('PASSED');
}

await main();
