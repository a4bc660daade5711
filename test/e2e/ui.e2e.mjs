// UI end-to-end test of the Trove extension in a real VS Code (code-server) driven through Debian's
// Chromium with playwright-core. Each check prints "ok"/"FAIL"; the last line is
// "RESULT <passed> <failed>". Screenshots go to test/e2e/screenshots/.
// Env: CS_PORT, WS_FOLDER (a fresh demo workspace), STORE (its store), SHOTS (screenshot folder), and
//      EXT_INSTALLED (the folder code-server installed the VSIX into: the test runs against that copy)
//      or EXT_DEV (an extension folder loaded as the development path instead, for local runs).
//      code-server must run with --vscode-option enable-smoke-test-driver.
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const PORT = process.env.CS_PORT || '8090';
const FOLDER = process.env.WS_FOLDER;
const STORE = process.env.STORE;
const EXT_INSTALLED = process.env.EXT_INSTALLED;
const EXT_DEV = process.env.EXT_DEV;
const SHOTS = process.env.SHOTS;
for (const [k, v] of Object.entries({ WS_FOLDER: FOLDER, STORE, 'EXT_INSTALLED or EXT_DEV': EXT_INSTALLED || EXT_DEV, SHOTS })) if (!v) throw new Error(`set ${k}`);
fs.mkdirSync(SHOTS, { recursive: true });
const payload = JSON.stringify([...(EXT_INSTALLED ? [] : [['extensionDevelopmentPath', `vscode-remote://127.0.0.1:${PORT}${EXT_DEV}`]]), ['skipWelcome', 'true']]);
const URL = `http://127.0.0.1:${PORT}/?folder=${encodeURIComponent(FOLDER)}&payload=${encodeURIComponent(payload)}`;
const t0 = Date.now();
const log = (...a) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...a);
// The test's own view of the store: the repository's CLI, not the copy under test.
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = (...args) => execFileSync(process.execPath, [path.join(REPO, 'dist', 'cli.js'), ...args], { encoding: 'utf8', env: { ...process.env, TROVE_STORE: STORE, TROVE_RUN_ID: '' } });
const artifacts = (project) => JSON.parse(cli('ls', project, '--json')).map((a) => a.name);

let passed = 0;
let failed = 0;
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'trove-e2e-chrome-'));
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium', headless: true, viewport: { width: 1500, height: 950 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
// Copy Usage Snippet's text is read back from the clipboard.
await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: `http://127.0.0.1:${PORT}` });
const page = ctx.pages()[0] || await ctx.newPage();
page.setDefaultTimeout(20000);
const webviewErrors = [];
page.on('console', (m) => {
  if (m.type() === 'error' && /Content Security Policy|Refused to/.test(m.text())) webviewErrors.push(`${m.text().slice(0, 160)} at ${m.location().url}:${m.location().lineNumber}`);
});

/** One named check: its failure is reported with a screenshot and does not stop later checks. */
async function check(name, body) {
  // E2E_ONLY=<regex> runs only the checks whose name matches (while working on one part).
  if (process.env.E2E_ONLY && !new RegExp(process.env.E2E_ONLY).test(name)) return;
  const start = Date.now();
  try {
    await body();
    passed++;
    log(`ok   ${name} (${Date.now() - start} ms)`);
  } catch (e) {
    failed++;
    log(`FAIL ${name}: ${String(e?.message ?? e).split('\n').slice(0, 6).join(' | ')}`);
    const file = path.join(SHOTS, `fail-${name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}.png`);
    await page.screenshot({ path: file }).catch(() => {});
    await page.keyboard.press('Escape').catch(() => {});
  }
}

// ---- workbench helpers --------------------------------------------------------------------------

const quickInput = page.locator('.quick-input-widget .quick-input-box input');

async function runCommand(label) {
  // F1 is sometimes swallowed while an editor is still taking focus: try again.
  for (let attempt = 0; ; attempt++) {
    await page.keyboard.press('F1');
    try {
      await quickInput.waitFor({ timeout: 3000 });
      break;
    } catch (e) {
      if (attempt === 3) throw e;
      await page.locator('.monaco-workbench .part.statusbar').click({ position: { x: 5, y: 5 } }).catch(() => {});
    }
  }
  await quickInput.fill('>' + label);
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: label }).first();
  await row.waitFor();
  // The palette filters asynchronously: until it has, the list is the unfiltered one, whose first
  // row (the one Enter runs) is the most recently used command, often "Clear All Notifications"
  // (a clean-clone CI run lost a notification that way). Enter only once our command is first;
  // when another command ranks above it, click its row.
  const first = page.locator('.quick-input-list .monaco-list-row[data-index="0"]', { hasText: label });
  if (await first.waitFor({ timeout: 3000 }).then(() => true, () => false)) await page.keyboard.press('Enter');
  else await row.click();
}

async function pick(label) {
  const row = page.locator('.quick-input-list .monaco-list-row', { has: page.locator('.label-name', { hasText: new RegExp(`^${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) }) }).first();
  await row.waitFor();
  await row.click();
}

async function answer(text) {
  await quickInput.waitFor();
  await quickInput.fill(text);
  await page.keyboard.press('Enter');
}

/** Notifications sit in the Notification Center when the smoke-test driver is on. */
async function expectNotification(text, timeout = 20000) {
  await runCommand('Notifications: Show Notifications');
  const item = page.locator('.notifications-center .notification-list-item-message', { hasText: text }).first();
  try {
    await item.waitFor({ timeout });
  } catch (e) {
    await page.keyboard.press('Escape');
    throw e;
  }
  const shown = (await item.innerText()).trim();
  await runCommand('Notifications: Clear All Notifications');
  await page.keyboard.press('Escape');
  return shown;
}

/**
 * Clicks (`click`) and expects the notification `text`: a click on a webview button right after the
 * webview took the focus can be taken as focusing it alone (seen in a clean-clone run: the button
 * shows focus and nothing happened), so the click is made again, up to three times, when the
 * notification has not come within 8 s. The notification must still appear.
 */
async function clickUntilNotified(click, text) {
  for (let attempt = 1; ; attempt++) {
    await click();
    try {
      return await expectNotification(text, attempt < 3 ? 8000 : 20000);
    } catch (e) {
      if (attempt === 3) throw e;
      log(`  no "${text}" notification after click ${attempt}: clicking again`);
    }
  }
}

const exact = (text) => new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
const troveTree = page.locator('.pane', { has: page.locator('.pane-header', { hasText: 'Artifacts' }) });
const treeRow = (label) => troveTree.locator('.monaco-list-row', { has: page.locator('.label-name', { hasText: exact(label) }) }).first();
const explorerRow = (label) => page.locator('.explorer-folders-view .monaco-list-row', { has: page.locator('.label-name', { hasText: exact(label) }) }).first();

/** Shows the Trove view; clicking its activity-bar icon while it is shown would hide it. */
async function showTroveView() {
  if (await troveTree.locator('.monaco-list-row').first().isVisible().catch(() => false)) return;
  await page.locator('.activitybar .action-item a[aria-label^="Trove"]').click();
  await troveTree.locator('.monaco-list-row').first().waitFor();
}

async function expandTreeRow(label) {
  const row = treeRow(label);
  // A click that lands while the tree re-renders (a refresh after a store change) is lost: retry.
  for (let attempt = 0; ; attempt++) {
    await row.waitFor();
    if ((await row.getAttribute('aria-expanded')) === 'true') return;
    await row.click();
    try {
      await page.waitForFunction((el) => el.getAttribute('aria-expanded') === 'true', await row.elementHandle(), { timeout: 5000 });
      return;
    } catch (e) {
      if (attempt === 3) throw e;
    }
  }
}

/**
 * Shows the Explorer and waits for the row `label` (a file just written may take a moment to
 * appear). A reveal in the Trove tree that an earlier action started (Go to Definition, a log)
 * can take the side bar away from the Explorer meanwhile: show the Explorer again and wait again.
 */
async function showInExplorer(label) {
  const row = explorerRow(label);
  for (let attempt = 0; ; attempt++) {
    await page.keyboard.press('Control+Shift+E');
    try {
      await row.waitFor({ timeout: 8000 });
      return row;
    } catch (e) {
      if (attempt >= 4) throw e;
    }
  }
}

async function logFolderFromExplorer(folderLabel, name) {
  // A log reveals its version in the Trove tree a moment after its notification, which can take the
  // side bar away from the Explorer mid-click: show the Explorer again and retry.
  for (let attempt = 0; ; attempt++) {
    await page.keyboard.press('Control+Shift+E');
    const row = explorerRow(folderLabel);
    await row.waitFor();
    try {
      await row.click({ button: 'right', timeout: 4000 });
      break;
    } catch (e) {
      if (attempt >= 3) throw e;
    }
  }
  const item = page.locator('.monaco-menu .action-item', { hasText: 'Log Folder as Artifact' }).first();
  await item.waitFor();
  await item.hover();
  await page.waitForTimeout(300); // a click right after the menu opens is sometimes swallowed
  await item.click();
  await quickInput.waitFor();
  await quickInput.fill(name);
}

async function finishLogPrompts() {
  await page.keyboard.press('Enter'); // name
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'dataset' }).first().waitFor();
  await page.keyboard.press('Enter'); // type: the remembered one is first
  await page.locator('.quick-input-widget', { hasText: 'Aliases' }).waitFor();
  await page.keyboard.press('Enter'); // aliases
  await page.locator('.quick-input-widget', { hasText: 'Description' }).waitFor();
  await page.keyboard.press('Enter'); // description
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
}

function webviewFrame() {
  return page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
}

const listFiles = (dir, prefix = '') => fs.readdirSync(dir, { withFileTypes: true })
  .flatMap((e) => (e.isDirectory() ? listFiles(path.join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`])).sort();

// ---- lineage: readability, themes, navigation and actions (issue 14) ----------------------------
// Each part is a function of its own; they need only the demo store (plus the 500-node project
// "scale" that test/e2e/make-scale-lineage.ts adds) and leave no editor open.

/** Opens the lineage of `artifact`:`version` through the palette and waits for its nodes. */
async function openLineage(artifact, version) {
  await page.locator('.statusbar-item', { hasText: 'Trove: embedded' }).first().waitFor({ timeout: 30000 }); // activated
  await runCommand('View: Close All Editors');
  await runCommand('Trove: Show Lineage');
  // The list is long with the 500-node project: filter it, once the artifact picker is open.
  await page.locator('.quick-input-widget input[placeholder="Pick an artifact"]').waitFor();
  await quickInput.fill(artifact);
  await pick(artifact);
  await pick(version);
  const f = webviewFrame();
  await f.locator('#graph g.node').first().waitFor({ timeout: 30000 });
  return f;
}

/** On-screen font sizes (px) of the node labels in view, and how much of the canvas the graph covers. */
async function measureLabels(f) {
  return f.locator('#graph').evaluate((svg) => {
    const canvas = document.getElementById('canvas').getBoundingClientRect();
    const sizes = [];
    for (const t of svg.querySelectorAll('g.node text')) {
      const r = t.getBoundingClientRect();
      if (r.right < canvas.left || r.left > canvas.right || r.bottom < canvas.top || r.top > canvas.bottom) continue;
      const m = t.getScreenCTM();
      sizes.push(parseFloat(getComputedStyle(t).fontSize) * Math.hypot(m.a, m.b));
    }
    const g = document.getElementById('viewport').getBoundingClientRect();
    const cover = { w: Math.min(g.width, canvas.width) / canvas.width, h: Math.min(g.height, canvas.height) / canvas.height };
    return { sizes, cover, nodes: svg.querySelectorAll('g.node').length };
  });
}

/** WCAG contrast of the edges and arrow heads against the webview's background (alpha blended). */
async function edgeContrast(f) {
  const colours = await f.locator('#graph').evaluate((svg) => ({
    background: getComputedStyle(document.body).backgroundColor,
    edge: getComputedStyle(svg.querySelector('path.edge')).stroke,
    edgeOpacity: getComputedStyle(svg.querySelector('path.edge')).opacity,
    arrow: getComputedStyle(svg.querySelector('marker path')).fill,
    edgeWidth: getComputedStyle(svg.querySelector('path.edge')).strokeWidth,
  }));
  const rgba = (c) => {
    const v = c.match(/[\d.]+/g).map(Number);
    return { r: v[0], g: v[1], b: v[2], a: v.length > 3 ? v[3] : 1 };
  };
  const bg = rgba(colours.background);
  const over = (c, opacity = 1) => {
    const a = c.a * opacity;
    return { r: c.r * a + bg.r * (1 - a), g: c.g * a + bg.g * (1 - a), b: c.b * a + bg.b * (1 - a) };
  };
  const lum = ({ r, g, b }) => {
    const ch = (x) => { const s = x / 255; return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * ch(r) + 0.7152 * ch(g) + 0.0722 * ch(b);
  };
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  return {
    ...colours,
    edgeRatio: ratio(over(rgba(colours.edge), Number(colours.edgeOpacity)), bg),
    arrowRatio: ratio(over(rgba(colours.arrow)), bg),
  };
}

async function withWorkspaceSettings(extra, body) {
  const settingsFile = path.join(FOLDER, '.vscode', 'settings.json');
  const original = fs.readFileSync(settingsFile, 'utf8');
  fs.writeFileSync(settingsFile, JSON.stringify({ ...JSON.parse(original), ...extra }, null, 2));
  try {
    return await body();
  } finally {
    fs.writeFileSync(settingsFile, original);
  }
}

async function checkLineageReadableAtFit() {
  await check('lineage at Fit: labels at least 11 px on screen, the graph uses the canvas, details only after a click', async () => {
    const f = await openLineage('processed-data', 'v0');
    assert.equal(await f.locator('#details').isVisible(), false, 'no details pane before a node is clicked');
    const demo = await measureLabels(f);
    const smallest = Math.min(...demo.sizes);
    log(`  demo pipeline: ${demo.nodes} nodes, smallest label ${smallest.toFixed(1)} px on screen, graph covers ${(demo.cover.w * 100).toFixed(0)}% × ${(demo.cover.h * 100).toFixed(0)}% of the canvas`);
    assert.ok(demo.sizes.length >= 2 * demo.nodes, `every node's two labels are in view (${demo.sizes.length})`);
    assert.ok(smallest >= 11, `smallest label ${smallest.toFixed(2)} px`);
    assert.ok(Math.max(demo.cover.w, demo.cover.h) >= 0.7, `the graph fills the canvas in one direction: ${JSON.stringify(demo.cover)}`);
    assert.equal(await f.locator('#overview').isVisible(), false, 'a graph that fits needs no overview');
    await f.locator('#graph g.node[data-id="version:mnist-demo/raw-data:v0"]').click();
    await f.locator('#details h2', { hasText: 'mnist-demo/raw-data:v0' }).waitFor();
    await f.locator('#details vscode-button.close').click();
    await f.locator('#details').waitFor({ state: 'hidden' });

    const s = await openLineage('source', 'v0');
    for (let i = 0; Number(await s.locator('#graph').getAttribute('data-nodes')) < 500; i++) {
      assert.ok(i < 100, 'the 500-node graph is drawn');
      await page.waitForTimeout(200);
    }
    const big = await measureLabels(s);
    const bigSmallest = Math.min(...big.sizes);
    log(`  500-node graph: ${big.nodes} nodes, ${big.sizes.length / 2} in view at Fit, smallest label ${bigSmallest.toFixed(1)} px`);
    assert.ok(bigSmallest >= 11, `smallest label ${bigSmallest.toFixed(2)} px`);
    assert.ok(big.sizes.length > 0, 'part of the graph is in view');
    // Too large to fit readably: an overview moves around it.
    await s.locator('#overview').waitFor();
    const before = await s.locator('#viewport').getAttribute('transform');
    const ov = await s.locator('#overview').boundingBox();
    await s.locator('#overview').click({ position: { x: ov.width / 2, y: ov.height - 4 } });
    const after = await s.locator('#viewport').getAttribute('transform');
    assert.notEqual(after, before, 'a click in the overview moves the view');
    await page.screenshot({ path: path.join(SHOTS, 'lineage-500-overview.png') });
    await runCommand('View: Close All Editors');
  });
}

const THEMES = [
  { name: 'Default Light Modern', file: 'readme-lineage-light.png' },
  { name: 'Default Dark Modern', file: 'readme-lineage-dark.png' },
  { name: 'Default High Contrast', file: 'readme-lineage-high-contrast.png' },
  { name: 'Default High Contrast Light', file: 'readme-lineage-high-contrast-light.png' },
];

async function checkLineageThemes() {
  await check('lineage edges and arrows keep a contrast of at least 3:1 in Light Modern, Dark Modern and both high-contrast themes (screenshots for the README)', async () => {
    const f = await openLineage('mnist-cnn', 'v1');
    await f.locator('#whole').click();
    await f.locator('#graph g.node[data-id="version:mnist-demo/raw-data:v0"]').waitFor();
    for (const theme of THEMES) {
      await withWorkspaceSettings({ 'workbench.colorTheme': theme.name }, async () => {
        await page.locator(`.monaco-workbench.${theme.name.includes('Light') ? (theme.name.includes('High') ? 'hc-light' : 'vs') : theme.name.includes('High') ? 'hc-black' : 'vs-dark'}`).waitFor();
        await page.waitForTimeout(500); // the webview gets the new theme variables after the workbench
        const c = await edgeContrast(f);
        const fonts = await measureLabels(f);
        log(`  ${theme.name}: background ${c.background}, edge ${c.edge} (${c.edgeWidth}) ${c.edgeRatio.toFixed(2)}:1, arrow ${c.arrowRatio.toFixed(2)}:1, smallest label ${Math.min(...fonts.sizes).toFixed(1)} px`);
        assert.ok(c.edgeRatio >= 3, `${theme.name}: edge contrast ${c.edgeRatio.toFixed(2)}`);
        assert.ok(c.arrowRatio >= 3, `${theme.name}: arrow contrast ${c.arrowRatio.toFixed(2)}`);
        assert.ok(Math.min(...fonts.sizes) >= 11, `${theme.name}: labels ${Math.min(...fonts.sizes)} px`);
        await f.locator('#graph g.node[data-id="version:mnist-demo/mnist-cnn:v1"]').click();
        await f.locator('#details h2', { hasText: 'mnist-demo/mnist-cnn:v1' }).waitFor();
        // The README's copies (tracked in git) are replaced only when asked, so a test run leaves the checkout clean.
        await page.screenshot({ path: path.join(SHOTS, process.env.TROVE_README_SHOTS === '1' ? theme.file : theme.file.replace(/^readme-/, '')) });
        await f.locator('#details vscode-button.close').click();
      });
    }
    await runCommand('View: Close All Editors');
  });
}

async function checkLineageSaysWhatEachNodeIs() {
  await check('lineage nodes say what they are: colour and icon by type and for runs, a legend, run names, one date format in tree, hover and graph', async () => {
    const f = await openLineage('processed-data', 'v0');
    const style = (id) => f.locator(`#graph g.node[data-id="${id}"] rect.band`).evaluate((r) => getComputedStyle(r).fill);
    const runId = await f.locator('#graph g.node[data-kind="run"]', { hasText: 'preprocess' }).getAttribute('data-id');
    const colours = {
      dataset: await style('version:mnist-demo/raw-data:v0'),
      model: await style('version:mnist-demo/mnist-cnn:v1'),
      run: await style(runId),
    };
    log('  colours:', JSON.stringify(colours));
    assert.equal(new Set(Object.values(colours)).size, 3, 'datasets, models and runs differ in colour');
    for (const c of Object.values(colours)) assert.match(c, /^rgb\(/, `an opaque colour: ${c}`);
    for (const [id, cat] of [['version:mnist-demo/raw-data:v0', 'dataset'], ['version:mnist-demo/mnist-cnn:v1', 'model'], [runId, 'run']]) {
      assert.equal(await f.locator(`#graph g.node[data-id="${id}"]`).getAttribute('data-category'), cat);
      assert.equal(await f.locator(`#graph g.node[data-id="${id}"] g.icon path`).count(), 1, `${cat} has its icon`);
    }
    const legend = (await f.locator('#legend').innerText()).replace(/\s+/g, ' ');
    for (const entry of ['Dataset', 'Model', 'Other artifact', 'Run', 'Folded versions', 'Data flow']) assert.ok(legend.includes(entry), `legend names ${entry}: ${legend}`);
    assert.equal(await f.locator('#graph g.node[data-kind="run"] text.label', { hasText: 'train-lr-0.003' }).count(), 1);

    // One date format: the graph's details, the tree's tooltip and the editor hover.
    const DATE = /\d{4}-\d\d-\d\d \d\d:\d\d UTC/;
    await f.locator('#graph g.node[data-id="version:mnist-demo/mnist-cnn:v1"]').click();
    await f.locator('#details h2', { hasText: 'mnist-demo/mnist-cnn:v1' }).waitFor();
    const details = await f.locator('#details').innerText();
    const graphDate = DATE.exec(details)?.[0];
    assert.ok(graphDate, `the details pane shows the date as YYYY-MM-DD hh:mm UTC: ${details.slice(0, 300)}`);
    const runDetails = await (async () => {
      await f.locator(`#graph g.node[data-id="${runId}"]`).click();
      await f.locator('#details h2', { hasText: 'preprocess' }).waitFor();
      return f.locator('#details').innerText();
    })();
    assert.match(runDetails, /Started\s+\d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    await runCommand('View: Close All Editors');
    await showTroveView();
    // Collapse the tree first, so that the only "v1" row shown is mnist-cnn's.
    await page.locator('.part.sidebar .composite.title').hover();
    await page.locator('.part.sidebar .title-actions .action-label[aria-label="Collapse All"]').click();
    await expandTreeRow('mnist-demo');
    await expandTreeRow('model');
    await expandTreeRow('mnist-cnn');
    await treeRow('v1').hover();
    const tip = page.locator('.monaco-hover, .workbench-hover', { hasText: 'mnist-cnn:v1' }).first();
    await tip.waitFor({ timeout: 10000 });
    const tipText = await tip.innerText();
    log('  tree tooltip date:', DATE.exec(tipText)?.[0], '· graph:', graphDate);
    assert.equal(DATE.exec(tipText)?.[0], graphDate, `tree tooltip: ${tipText}`);
    await page.mouse.move(700, 5);
  });
}

async function checkLineageNavigation() {
  await check('lineage navigation: expand says when there is nothing more, a cluster folds back, filters bridge, whole pipeline reaches raw-data', async () => {
    let f = await openLineage('processed-data', 'v0');
    const node = (id) => f.locator(`#graph g.node[data-id="${id}"]`);
    // Nothing more upstream of raw-data (its ingest run is shown and used nothing).
    await node('version:mnist-demo/raw-data:v0').click();
    await f.locator('#details h2', { hasText: 'raw-data:v0' }).waitFor();
    await f.locator('vscode-button', { hasText: 'Expand up' }).click();
    await f.locator('#status', { hasText: 'Nothing more upstream of raw-data:v0' }).waitFor();
    log('  status:', (await f.locator('#status').innerText()).trim());
    // A cluster opens on click and folds back from its frame.
    await f.locator('#graph g.node[data-kind="cluster"]').click();
    await node('version:mnist-demo/mnist-ckpt:v3').waitFor();
    await f.locator('#graph .cluster-frame text.fold', { hasText: 'Fold 7 versions' }).click();
    await f.locator('#graph g.node[data-kind="cluster"]').waitFor();
    assert.equal(await node('version:mnist-demo/mnist-ckpt:v3').count(), 0);
    // Hiding the preprocess runs bridges raw-data to processed-data instead of leaving raw-data alone.
    await f.locator('vscode-checkbox', { hasText: 'preprocess' }).click();
    await f.locator('#graph path.edge.bridged[data-from="version:mnist-demo/raw-data:v0"][data-to="version:mnist-demo/processed-data:v0"]').waitFor({ state: 'attached' });
    assert.match(await f.locator('#legend').innerText(), /Through hidden nodes/);
    // Hiding models leaves no run or version hanging on nothing.
    await f.locator('vscode-checkbox', { hasText: 'model' }).click();
    await page.waitForTimeout(300);
    const dangling = await f.locator('#graph').evaluate((svg) => {
      const linked = new Set([...svg.querySelectorAll('path.edge')].flatMap((p) => [p.getAttribute('data-from'), p.getAttribute('data-to')]));
      return [...svg.querySelectorAll('g.node')].map((g) => g.getAttribute('data-id')).filter((id) => !linked.has(id));
    });
    assert.deepEqual(dangling, [], 'no orphaned node');
    await page.screenshot({ path: path.join(SHOTS, 'lineage-filtered.png') });

    // Whole pipeline: the lineage of mnist-cnn:v1 reaches raw-data:v0.
    f = await openLineage('mnist-cnn', 'v1');
    assert.equal(await node('version:mnist-demo/raw-data:v0').count(), 0, 'three hops do not reach raw-data');
    await f.locator('#whole').click();
    await node('version:mnist-demo/raw-data:v0').waitFor();
    await f.locator('#graph g.node[data-kind="cluster"]').waitFor(); // the sweep's checkpoints, a cousin branch
    assert.match(await f.locator('#status').innerText(), /whole pipeline/);
    await runCommand('View: Close All Editors');
  });
}

async function checkLineageActions() {
  await check('lineage details act: Copy Reference, Reveal in Tree, Compare with Previous, Download (recorded, left out of the default view); a run shows command, commit, used and made', async () => {
    let f = await openLineage('mnist-cnn', 'v1');
    const v1 = f.locator('#graph g.node[data-id="version:mnist-demo/mnist-cnn:v1"]');
    await v1.click();
    await f.locator('#details h2', { hasText: 'mnist-demo/mnist-cnn:v1' }).waitFor();
    const action = (a) => f.locator(`#details vscode-button[data-action="${a}"]`);
    for (const a of ['download', 'reveal', 'copyReference', 'comparePrevious']) await action(a).waitFor();
    log('  notification:', await clickUntilNotified(() => action('copyReference').click(), 'Copied mnist-demo/mnist-cnn:v1'));
    await action('reveal').click();
    await troveTree.locator('.monaco-list-row[aria-selected="true"]', { has: page.locator('.label-name', { hasText: exact('v1') }) }).waitFor({ timeout: 15000 });
    assert.equal(await troveTree.locator('.monaco-list-row[aria-selected="true"]').count(), 1);
    await page.locator('.tabs-container .tab', { hasText: 'Lineage: mnist-cnn:v1' }).click();
    await action('comparePrevious').click();
    await pick('model.json');
    await page.locator('.tabs-container .tab', { hasText: 'mnist-cnn/model.json (v0 ↔ v1)' }).waitFor();
    await page.locator('.tabs-container .tab', { hasText: 'Lineage: mnist-cnn:v1' }).click();
    f = webviewFrame();
    await f.locator('#graph g.node[data-id="version:mnist-demo/mnist-cnn:v1"]').click();
    await action('download').click();
    await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'mnist-cnn-v1' }).first().waitFor(); // revealed when done
    await page.locator('.tabs-container .tab', { hasText: 'Lineage: mnist-cnn:v1' }).click();
    log('  notification:', await expectNotification('mnist-cnn:v1 downloaded'));
    // The download is a run in the store, but the default view leaves it out.
    const lineage = JSON.parse(cli('lineage', 'mnist-demo/mnist-cnn:v1', '--depth', '1', '--json'));
    assert.ok(lineage.nodes.some((n) => n.kind === 'run' && /^download: download-/.test(n.label)), `the download is recorded: ${JSON.stringify(lineage.nodes)}`);
    await page.locator('.tabs-container .tab', { hasText: 'Lineage: mnist-cnn:v1' }).click();
    f = webviewFrame();
    const toggle = f.locator('#show-downloads');
    await toggle.waitFor();
    assert.equal(await f.locator('#graph g.node.view-only').count(), 0, 'not drawn by default');
    await toggle.click();
    await f.locator('#graph g.node.view-only').first().waitFor();
    await toggle.click();

    // A run: its command, git commit, and the versions it used and made, each a link.
    const run = f.locator('#graph g.node[data-kind="run"]', { hasText: 'train-lr-0.003' });
    await run.click();
    await f.locator('#details h2', { hasText: 'train-lr-0.003' }).waitFor();
    const text = await f.locator('#details').innerText();
    assert.match(text, /Command\s+bash scripts\/train\.sh/);
    assert.match(text, /Git commit\s+[0-9a-f]{40}/);
    assert.equal((await f.locator('#details ul[data-list="Used"] a').allTextContents()).join(','), 'processed-data:v0');
    assert.equal((await f.locator('#details ul[data-list="Made"] a').allTextContents()).join(','), 'mnist-cnn:v1');
    await page.screenshot({ path: path.join(SHOTS, 'lineage-run-details.png') });
    await f.locator('#details ul[data-list="Used"] a').click();
    await f.locator('#details h2', { hasText: 'mnist-demo/processed-data:v0' }).waitFor();
    await runCommand('View: Close All Editors');
  });
}

async function checkLineageDeveloperFigures() {
  await check('lineage timings go to the output channel, not the status line', async () => {
    const f = await openLineage('processed-data', 'v0');
    const status = (await f.locator('#status').innerText()).trim();
    assert.doesNotMatch(status, /\bms\b|laid out/, status);
    assert.match(status, /\d+ nodes · \d+ edges/);
    await runCommand('View: Close All Editors');
    await runCommand('Trove: Show Output');
    await page.locator('.panel .view-lines .view-line', { hasText: 'laid out in' }).first().waitFor();
    await page.keyboard.press('Control+j');
  });
}

// ---- one version card (issue 14, item 6) -------------------------------------------------------

/** Opens train.py and shows the editor hover of the reference `text` (the server may still be starting). */
async function editorHover(text) {
  await runCommand('Go to File...');
  await quickInput.fill('train.py');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'train.py' }).first().waitFor();
  await page.keyboard.press('Enter');
  const ref = page.locator('.editor-container .view-line span[class^="mtk"]', { hasText: text }).first();
  await ref.waitFor();
  for (let attempt = 0; ; attempt++) {
    await ref.click();
    await runCommand('Show or Focus Hover');
    try {
      await page.locator('.monaco-hover:visible', { hasText: 'Produced by run' }).first().waitFor({ timeout: 4000 });
      break;
    } catch (e) {
      if (attempt === 5) throw e;
      await page.keyboard.press('Escape');
    }
  }
  return { ref, text: await page.locator('.monaco-hover:visible', { hasText: 'Produced by run' }).first().innerText() };
}

const oneLine = (s) => s.replace(/\s+/g, ' ').trim();

async function checkVersionCard() {
  await check('one version card: the tree tooltip shows what the hover shows; Open Details and Go to Definition open the card rendered', async () => {
    await runCommand('View: Close All Editors');
    const hover = await editorHover('mnist-cnn:best');
    await page.keyboard.press('Escape');
    await runCommand('View: Close All Editors');
    await showTroveView();
    await expandTreeRow('mnist-demo');
    await expandTreeRow('model');
    await expandTreeRow('mnist-cnn');
    const tip = page.locator('.monaco-hover:visible, .workbench-hover:visible', { hasText: 'Produced by run' }).first();
    // A tooltip comes when the mouse enters the row; seen twice under load: the row hovered and no
    // tooltip. Move the mouse away first, and hover once more if none came.
    for (let attempt = 0; ; attempt++) {
      await page.mouse.move(700, 5);
      await treeRow('v1').hover();
      try {
        await tip.waitFor({ timeout: 7500 });
        break;
      } catch (e) {
        if (attempt === 1) throw e;
      }
    }
    const tipText = await tip.innerText();
    log('  tree tooltip:', oneLine(tipText).slice(0, 160));
    assert.equal(oneLine(tipText), oneLine(hover.text), 'the tree tooltip and the hover say the same');
    assert.match(tipText, /train-lr-0\.003/);
    assert.match(tipText, /accuracy/);
    await page.mouse.move(700, 5);
    await page.screenshot({ path: path.join(SHOTS, 'tree-tooltip.png') });

    // Open Details from the version's context menu: the card, rendered.
    await treeRow('v1').click({ button: 'right' });
    const item = page.locator('.monaco-menu .action-item', { hasText: 'Open Details' }).first();
    await item.waitFor();
    await item.hover();
    await page.waitForTimeout(300);
    await item.click();
    await page.locator('.tabs-container .tab', { hasText: 'Preview v1.md' }).waitFor();
    const preview = page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
    await preview.locator('h1', { hasText: 'mnist-demo/mnist-cnn:v1' }).waitFor();
    assert.ok(await preview.locator('table').count() >= 2, 'the details and the files are tables');
    await page.screenshot({ path: path.join(SHOTS, 'version-card.png') });
    await runCommand('View: Close All Editors');

    // Go to Definition on a reference opens the same card rendered, not its Markdown source.
    const again = await editorHover('mnist-cnn:best');
    await page.keyboard.press('Escape');
    await again.ref.click();
    await runCommand('Go to Definition');
    await page.locator('.tabs-container .tab', { hasText: 'Preview v1.md' }).waitFor();
    await page.locator('.tabs-container .tab', { hasText: exact('v1.md') }).waitFor({ state: 'detached' });
    await page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame').locator('h1', { hasText: 'mnist-demo/mnist-cnn:v1' }).waitFor();
    await runCommand('View: Close All Editors');
  });
}

// ---- logging again, Back, moving aliases (issue 14, item 9) ---------------------------------------

const squash = (s) => s.replace(/\s+/g, ' ').trim();

async function treeMenu(row, label) {
  await row.click({ button: 'right' });
  const item = page.locator('.monaco-menu .action-item', { hasText: label }).first();
  await item.waitFor();
  await item.hover();
  await page.waitForTimeout(300); // a click right after the menu opens is sometimes swallowed
  await item.click();
}

async function confirmDialog(text, button) {
  const dialog = page.locator('.monaco-dialog-box', { hasText: text });
  await dialog.waitFor();
  log('  asked:', squash(await dialog.innerText()).slice(0, 160));
  await dialog.locator('.monaco-button', { hasText: exact(button) }).click();
  await dialog.waitFor({ state: 'detached' });
}

async function checkLogAgainAndAliases() {
  await check('logging a folder again proposes its artifact and says which version it equals; Back goes one step back; moving an alias asks first and says from where', async () => {
    cli('alias', 'add', 'mnist-demo/my-dataset:v0', 'gold');
    await page.keyboard.press('Control+Shift+E');
    await treeMenu(explorerRow('incoming'), 'Log Folder as Artifact');
    await quickInput.waitFor();
    assert.equal(await quickInput.inputValue(), 'my-dataset', 'the artifact this folder was last logged as');
    await page.keyboard.press('Enter');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'dataset' }).first().waitFor();
    await page.keyboard.press('Enter');
    const aliases = page.locator('.quick-input-widget', { hasText: 'Aliases' });
    await aliases.waitFor();
    const said = squash(await aliases.innerText());
    log('  aliases step:', said.slice(0, 140));
    assert.match(said, /Unchanged: this folder equals v1 of my-dataset/);
    // Back returns to the type step; forward again keeps the answers.
    await page.locator('.quick-input-widget .codicon-quick-input-back, .quick-input-widget .action-label[aria-label^="Back"]').first().click();
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'dataset' }).first().waitFor();
    await page.keyboard.press('Enter');
    await aliases.waitFor();
    await quickInput.fill('gold');
    await page.keyboard.press('Enter');
    await confirmDialog('Move "gold" from v0 of my-dataset to v1?', 'Move');
    const description = page.locator('.quick-input-widget', { hasText: 'Description' });
    await description.waitFor();
    assert.match(await description.innerText(), /equals v1/);
    await page.keyboard.press('Enter');
    log('  notification:', await expectNotification('gold moved from v0'));
    const holder = () => JSON.parse(cli('ls', 'mnist-demo/my-dataset', '--json')).find((v) => v.aliases.includes('gold'))?.version;
    assert.equal(holder(), 1);

    // Add Alias on v0 from the tree: the move is asked first, then reported.
    await showTroveView();
    await expandTreeRow('mnist-demo');
    await expandTreeRow('dataset');
    await expandTreeRow('my-dataset');
    await treeMenu(treeRow('v0'), 'Add Alias');
    await quickInput.waitFor();
    await quickInput.fill('gold');
    await page.keyboard.press('Enter');
    await confirmDialog('"gold" is on v1 of my-dataset. Move it to v0?', 'Move');
    log('  notification:', await expectNotification('gold moved from v1 to v0 of my-dataset'));
    assert.equal(holder(), 0);
  });
}

// ---- deleting and undoing (issue 14, item 8) -----------------------------------------------------

/** A tree row's context-menu command, chosen again when what it brings (`expect`) does not come: a tree refresh can swallow the click. */
async function treeMenuExpecting(row, label, expect) {
  for (let attempt = 0; ; attempt++) {
    await treeMenu(row, label);
    try {
      return await expect();
    } catch (e) {
      if (attempt === 2) throw e;
      log(`  ${label}: nothing came (${String(e.message).split('\n')[0].slice(0, 80)}); choosing it again`);
      await page.keyboard.press('Escape');
    }
  }
}

async function checkDeleteAndUndo() {
  await check('Delete Version from the tree: a protected alias refuses, the confirmation names what goes, Undo brings it back, the tree and the CLI agree', async () => {
    // A throwaway artifact of its own type group, so the demo's versions (other checks use them) stay.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trove-e2e-throwaway-'));
    fs.writeFileSync(path.join(dir, 'a.txt'), 'zero\n');
    cli('log', dir, '--name', 'throwaway', '--type', 'scratch', '--project', 'mnist-demo', '--alias', 'production');
    fs.writeFileSync(path.join(dir, 'a.txt'), 'one\n');
    cli('log', dir, '--name', 'throwaway', '--type', 'scratch', '--project', 'mnist-demo');
    fs.rmSync(dir, { recursive: true, force: true });
    const versions = () => JSON.parse(cli('ls', 'mnist-demo/throwaway', '--json')).map((v) => `v${v.version}:${v.aliases.join(',')}`);
    assert.deepEqual(versions(), ['v1:latest', 'v0:production']);
    await showTroveView();
    // Collapse everything, so that "v0" and "v1" below are the throwaway's rows.
    // (The view is alone in its container: its actions sit in the side bar's title.)
    await page.locator('.part.sidebar .composite.title').hover();
    await page.locator('.part.sidebar .composite.title .codicon-collapse-all').click();
    await expandTreeRow('mnist-demo');
    await expandTreeRow('scratch');
    await expandTreeRow('throwaway');

    log('  refused:', await treeMenuExpecting(treeRow('v0'), 'Delete Version', () => expectNotification('has the protected alias "production"', 8000)));
    assert.deepEqual(versions(), ['v1:latest', 'v0:production'], 'nothing was deleted');

    const asked = (text) => () => page.locator('.monaco-dialog-box', { hasText: text }).waitFor({ timeout: 8000 });
    await treeMenuExpecting(treeRow('v1'), 'Delete Version', asked('Delete mnist-demo/throwaway:v1 (aliases latest; 1 file, 4 B); latest moves to v0?'));
    await confirmDialog('Delete mnist-demo/throwaway:v1 (aliases latest; 1 file, 4 B); latest moves to v0?', 'Delete');
    await treeRow('v1').waitFor({ state: 'detached', timeout: 30000 });
    assert.deepEqual(versions(), ['v0:latest,production']);
    await page.screenshot({ path: path.join(SHOTS, 'deleted-version.png') });

    // Undo on the notification restores it, with latest.
    await runCommand('Notifications: Show Notifications');
    const note = page.locator('.notifications-center .notification-list-item', { hasText: 'Deleted mnist-demo/throwaway:v1; latest names v0.' }).first();
    await note.waitFor();
    await note.hover();
    await note.locator('.monaco-button', { hasText: exact('Undo') }).click();
    // The centre hides itself once its last notification is acted on: show it again.
    log('  undone:', await expectNotification('Restored mnist-demo/throwaway:v1 with its aliases latest.', 30000));
    await treeRow('v1').waitFor({ timeout: 30000 });
    assert.deepEqual(versions(), ['v1:latest', 'v0:production']);

    // Deleted for good this time: the lineage of what it was keeps its tombstone.
    await treeMenuExpecting(treeRow('v1'), 'Delete Version', asked('Delete mnist-demo/throwaway:v1'));
    await confirmDialog('Delete mnist-demo/throwaway:v1', 'Delete');
    await treeRow('v1').waitFor({ state: 'detached', timeout: 30000 });
    assert.deepEqual(versions(), ['v0:latest,production']);
    assert.match(cli('lineage', 'mnist-demo/throwaway:v1', '--depth', '1'), /throwaway:v1 \(deleted\)/);
  });
}

// ---- menus and settings (issue 14, item 10) ------------------------------------------------------

async function checkMenusAndSettings() {
  await check('trove.diagnostics.enabled turns the warnings off and on; Sign In/Out only with a server; Select Backend asks user or workspace; no raw backticks in the welcome view', async () => {
    // Diagnostics follow their setting (train.py holds an unknown alias since the hover check).
    await runCommand('Go to File...');
    await quickInput.fill('train.py');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'train.py' }).first().waitFor();
    await page.keyboard.press('Enter');
    await runCommand('View: Focus Problems');
    const problem = page.locator('.markers-panel .monaco-list-row', { hasText: 'no-such-alias' }).first();
    await problem.waitFor();
    await withWorkspaceSettings({ 'trove.diagnostics.enabled': false }, async () => {
      await problem.waitFor({ state: 'detached' });
    });
    await problem.waitFor(); // back when turned on again
    await runCommand('View: Hide Panel');
    await runCommand('View: Close All Editors');

    // With the embedded store as the backend, the palette offers no Sign In or Sign Out.
    await page.keyboard.press('F1');
    await quickInput.fill('>Trove: Sign');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Trove: Select Backend' }).first().waitFor({ state: 'detached' }).catch(() => {});
    await page.waitForTimeout(500);
    const offered = await page.locator('.quick-input-list .monaco-list-row').allInnerTexts();
    assert.ok(!offered.some((t) => /Sign (In|Out)/.test(t)), `no Sign In/Out: ${offered.join(' | ')}`);
    await page.keyboard.press('Escape');

    // Select Backend asks where to keep the choice; User settings leaves the project's file alone.
    const settingsFile = path.join(FOLDER, '.vscode', 'settings.json');
    const before = fs.readFileSync(settingsFile, 'utf8');
    await runCommand('Trove: Select Backend');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Embedded store' }).filter({ hasText: 'current' }).first().click();
    await page.locator('.quick-input-widget', { hasText: 'Save the Trove backend in' }).waitFor();
    const where = (await page.locator('.quick-input-list .monaco-list-row').allInnerTexts()).map(squash);
    log('  asked:', where.join(' | '));
    assert.ok(where.some((w) => w.startsWith('User settings')) && where.some((w) => w.startsWith('Workspace settings')));
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'User settings' }).first().click();
    await page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
    assert.equal(fs.readFileSync(settingsFile, 'utf8'), before, 'the workspace settings file is unchanged');

    // Welcome views and pickers show no raw Markdown backticks.
    const emptyStore = fs.mkdtempSync(path.join(os.tmpdir(), 'trove-e2e-empty-'));
    try {
      await showTroveView();
      await withWorkspaceSettings({ 'trove.storePath': emptyStore }, async () => {
        const welcome = troveTree.locator('.welcome-view-content', { hasText: 'No artifacts yet in this store.' });
        await welcome.waitFor();
        const text = await welcome.innerText();
        assert.ok(!text.includes('`'), text);
      });
    } finally {
      fs.rmSync(emptyStore, { recursive: true, force: true });
    }
    await treeRow('mnist-demo').waitFor();
  });
}

// ---- compare like Git (issue 14, item 7, part) --------------------------------------------------

async function checkOpenAllChanges() {
  await check('Compare with Previous offers Open All Changes: every changed file in the multi-file diff editor', async () => {
    await runCommand('View: Close All Editors');
    await showTroveView();
    await page.locator('.part.sidebar .composite.title').hover();
    await page.locator('.part.sidebar .title-actions .action-label[aria-label="Collapse All"]').click();
    await expandTreeRow('mnist-demo');
    await expandTreeRow('dataset');
    await expandTreeRow('my-dataset');
    await treeMenu(treeRow('v1'), 'Compare with Previous Version');
    await page.locator('.quick-input-widget', { hasText: 'v0 (base) → v1' }).waitFor();
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Open All Changes' }).first().click();
    await page.locator('.tabs-container .tab', { hasText: 'my-dataset: v0 ↔ v1' }).waitFor();
    await page.locator('.editor-container .view-lines', { hasText: 'sample one, edited' }).first().waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'compare-all-changes.png') });
    await runCommand('View: Close All Editors');
  });
}

// ---- compare with the workspace; a file of a version (issue 14, items 7 and 10) -----------------

/** The rows of the open quick pick, squashed, and its title. */
async function quickPickShown() {
  const widget = page.locator('.quick-input-widget');
  await page.locator('.quick-input-list .monaco-list-row').first().waitFor();
  return { title: squash(await widget.locator('.quick-input-title').innerText().catch(() => '')), rows: (await page.locator('.quick-input-list .monaco-list-row').allInnerTexts()).map(squash) };
}

async function checkCompareWithWorkspace() {
  await check('Compare with Workspace Folder: an edited download against its version (the base) in the multi-file diff editor; the picker offers the copies first', async () => {
    const copy = path.join(FOLDER, 'artifacts', 'my-dataset-v1');
    fs.appendFileSync(path.join(copy, 'a.txt'), 'a line added in the workspace\n');
    fs.writeFileSync(path.join(copy, 'notes.txt'), 'a new file in the workspace\n');
    await runCommand('View: Close All Editors');
    await showTroveView();
    await page.locator('.part.sidebar .composite.title').hover();
    await page.locator('.part.sidebar .title-actions .action-label[aria-label="Collapse All"]').click();
    await expandTreeRow('mnist-demo');
    await expandTreeRow('dataset');
    await expandTreeRow('my-dataset');
    await treeMenu(treeRow('v1'), 'Compare with Workspace Folder');
    const shown = await quickPickShown();
    log('  picker:', shown.title, '|', shown.rows.slice(0, 3).join(' | '));
    assert.match(shown.title, /my-dataset:v1 \(base\)/, 'the picker says which side is the base');
    // A row's text is its label and its description (no space between them in innerText).
    assert.match(shown.rows[0], /^artifacts\/my-dataset-v1\s*downloaded v1$/, 'the downloaded copy first');
    assert.ok(shown.rows.some((r) => /^data\/incoming\s*logged as my-dataset$/.test(r)), 'and the folder it was logged from');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'artifacts/my-dataset-v1' }).first().click();
    await page.locator('.tabs-container .tab', { hasText: 'my-dataset:v1 (base) ↔ artifacts/my-dataset-v1' }).waitFor();
    await page.locator('.editor-container .view-lines', { hasText: 'a line added in the workspace' }).first().waitFor();
    await page.locator('.editor-container .view-lines', { hasText: 'a new file in the workspace' }).first().waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'compare-with-folder.png') });
    await runCommand('View: Close All Editors');
  });

  await check('a file of a version: Open to the Side, Copy Path, Compare with Workspace File (the base named), Save As', async () => {
    await showTroveView();
    await expandTreeRow('v1');
    const file = treeRow('a.txt');
    await treeMenu(file, 'Open to the Side');
    await page.locator('.editor-group-container').nth(1).locator('.tabs-container .tab', { hasText: 'a.txt' }).waitFor();
    assert.equal(await page.locator('.editor-group-container').count(), 2, 'a second editor group');
    await runCommand('View: Close All Editor Groups');

    await showTroveView();
    await treeMenu(treeRow('a.txt'), 'Copy Path');
    log('  notification:', await expectNotification('Copied a.txt (its path in my-dataset:v1)'));

    await showTroveView();
    await treeMenu(treeRow('a.txt'), 'Compare with Workspace File');
    const shown = await quickPickShown();
    log('  picker:', shown.title, '|', shown.rows.slice(0, 3).join(' | '));
    assert.match(shown.title, /my-dataset:v1\/a\.txt \(base\)/);
    assert.match(shown.rows[0], /^artifacts\/my-dataset-v1\/a\.txt\s*downloaded v1$/);
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'artifacts/my-dataset-v1/a.txt' }).first().click();
    await page.locator('.tabs-container .tab', { hasText: 'my-dataset/a.txt (v1, base) ↔ artifacts/my-dataset-v1/a.txt' }).waitFor();
    await page.locator('.editor-container .monaco-diff-editor .editor.modified .view-lines', { hasText: 'a line added in the workspace' }).waitFor();
    await runCommand('View: Close All Editors');

    // Save As: VS Code's save dialog (code-server's is a quick input holding the path).
    const saved = path.join(FOLDER, 'a-from-v1.txt');
    await showTroveView();
    await treeMenu(treeRow('a.txt'), 'Save As');
    await quickInput.waitFor();
    // The simple dialog writes its default path once it has read the folder, which under load can
    // come after our fill (a loaded run saved nothing): fill until the value stays, and press Enter
    // until the dialog has closed.
    for (let attempt = 0; attempt < 5; attempt++) {
      await quickInput.fill(saved);
      await page.waitForTimeout(500);
      if ((await quickInput.inputValue()) === saved) break;
    }
    for (let attempt = 0; attempt < 3 && (await quickInput.isVisible()); attempt++) {
      await page.keyboard.press('Enter');
      await quickInput.waitFor({ state: 'hidden', timeout: 5000 }).catch(() => {});
    }
    log('  notification:', await expectNotification('Saved a.txt of my-dataset:v1 as a-from-v1.txt'));
    assert.equal(fs.readFileSync(saved, 'utf8'), 'sample one, edited\n');
    assert.deepEqual(fs.readdirSync(FOLDER).filter((n) => n.includes('a-from-v1')), ['a-from-v1.txt'], 'no temporary file left');
  });
}

// ---- hover, lenses and the usage snippet (issue 14, item 10) ------------------------------------

/** Opens train.py and puts the cursor on the token that holds `text`, at `fraction` of its width. */
async function cursorInTrainPy(text, fraction) {
  await runCommand('Go to File...');
  await quickInput.fill('train.py');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'train.py' }).first().waitFor();
  await page.keyboard.press('Enter');
  const token = page.locator('.editor-container .view-line span[class^="mtk"]', { hasText: text }).first();
  // The editor renders the line again when the language server's diagnostics or lenses arrive, so
  // the span found may be gone a moment later (a CI run read no box): find it again until it has one.
  for (let attempt = 0; ; attempt++) {
    await token.waitFor();
    const box = await token.boundingBox();
    if (box) return page.mouse.click(box.x + box.width * fraction, box.y + box.height / 2);
    if (attempt === 10) throw new Error(`the token "${text}" of train.py is not on screen`);
    await page.waitForTimeout(200);
  }
}

/** Asks for the hover at the cursor until one holding `text` shows; its text. */
async function hoverAtCursor(text) {
  for (let attempt = 0; ; attempt++) {
    await runCommand('Show or Focus Hover');
    try {
      const hover = page.locator('.monaco-hover:visible', { hasText: text }).first();
      await hover.waitFor({ timeout: 4000 });
      return await hover.innerText();
    } catch (e) {
      if (attempt === 5) throw e;
      await page.keyboard.press('Escape');
    }
  }
}

async function checkHoverOnceAndEditorSettings() {
  await check('the hover over a squiggle shows its message once; trove.hover.enabled and trove.codeLens.enabled turn the hover and the lenses off and on', async () => {
    // train.py holds "mnist-cnn:no-such-alias" since the hover check: the alias part is underlined.
    await cursorInTrainPy('no-such-alias', 0.8);
    // The squiggle drawn means its diagnostic has reached the client, whose hover middleware drops
    // a Trove hover that only repeats it. Hovering before that (train.py just reopened, its
    // diagnostics still on their way) would test a race, not the rule.
    await page.locator('.monaco-editor .view-overlays [class*="squiggly-"]').first().waitFor({ timeout: 30000 });
    const text = await hoverAtCursor('no-such-alias');
    const said = text.match(/has no alias "no-such-alias"/g) ?? [];
    log('  squiggle hover:', squash(text).slice(0, 200));
    assert.equal(said.length, 1, `the message once: ${squash(text)}`);
    await page.keyboard.press('Escape');

    // The lenses over a resolved reference, then none with trove.codeLens.enabled off.
    const lens = page.locator('.editor-container .contentWidgets .codelens-decoration', { hasText: 'Show Lineage' }).first();
    await lens.waitFor({ timeout: 30000 });
    await withWorkspaceSettings({ 'trove.codeLens.enabled': false }, async () => {
      await lens.waitFor({ state: 'detached', timeout: 30000 });
    });
    await lens.waitFor({ timeout: 30000 });

    // With trove.hover.enabled off, the resolved reference has no Trove hover; on again, it has.
    await withWorkspaceSettings({ 'trove.hover.enabled': false }, async () => {
      await page.waitForTimeout(1000); // the client reads the setting on each hover
      await cursorInTrainPy('processed-data:latest', 0.5);
      await runCommand('Show or Focus Hover');
      await page.waitForTimeout(2000);
      assert.equal(await page.locator('.monaco-hover:visible', { hasText: 'Show Lineage' }).count(), 0, 'no Trove hover');
      await page.keyboard.press('Escape');
    });
    await page.waitForTimeout(1000);
    await cursorInTrainPy('processed-data:latest', 0.5);
    assert.match(await hoverAtCursor('Show Lineage'), /processed-data/);
    await page.keyboard.press('Escape');
    await runCommand('View: Close All Editors');
  });
}

async function checkPythonUsageSnippet() {
  await check('Copy Usage Snippet → Python gives wandb code (run.use_artifact, artifact.download) that runs with Trove: the lineage shows the run that used the version', async () => {
    // processed-data:v0 has no download folder in the workspace yet (wandb would reuse one named processed-data-v0).
    const usedBy = () => JSON.parse(cli('show', 'mnist-demo/processed-data:v0', '--json')).usedBy ?? [];
    const before = new Set(usedBy().map((u) => u.runId));
    await runCommand('View: Close All Editors');
    await showTroveView();
    await page.locator('.part.sidebar .composite.title').hover();
    await page.locator('.part.sidebar .title-actions .action-label[aria-label="Collapse All"]').click();
    await expandTreeRow('mnist-demo');
    await expandTreeRow('dataset');
    await expandTreeRow('processed-data');
    await treeMenu(treeRow('v0'), 'Copy Usage Snippet');
    await pick('Python');
    log('  notification:', await expectNotification('Copied the Python snippet for processed-data:v0'));
    const snippet = await page.evaluate(() => navigator.clipboard.readText());
    log('  snippet:', squash(snippet).slice(0, 200));
    assert.match(snippet, /^run = wandb\.init\(project="mnist-demo", job_type="train"\)$/m);
    assert.match(snippet, /^artifact = run\.use_artifact\("mnist-demo\/processed-data:v0"\)$/m);
    assert.match(snippet, /^path = artifact\.download\(\)$/m);
    assert.doesNotMatch(snippet, /subprocess/);

    // Run as it was copied, with Run Python File with Trove (python3 there has the pinned wandb client).
    fs.writeFileSync(path.join(FOLDER, 'use_processed_data.py'), snippet);
    await treeMenu(await showInExplorer('use_processed_data.py'), 'Run Python File with Trove');
    const deadline = Date.now() + 120000;
    let use;
    while (!(use = usedBy().find((u) => !before.has(u.runId))) && Date.now() < deadline) await page.waitForTimeout(1000);
    assert.ok(use, `a new run used processed-data:v0: ${JSON.stringify(usedBy())}`);
    log('  used by:', JSON.stringify(use));
    assert.equal(use.jobType, 'train', 'the job type the snippet gives');
    // The run (the wandb run is the trove run) ends when the script has downloaded and finished.
    const runFile = path.join(STORE, 'runs', use.runId, 'run.json');
    const status = () => JSON.parse(fs.readFileSync(runFile, 'utf8')).status;
    for (let i = 0; i < 120 && status() === 'running'; i++) await page.waitForTimeout(1000);
    assert.equal(status(), 'finished');
    // wandb's default download folder, ./artifacts/processed-data:v0 beside the script, holds the version's files.
    const root = path.join(FOLDER, 'artifacts', 'processed-data:v0');
    log('  verify:', cli('verify', 'mnist-demo/processed-data:v0', '--root', root).trim().split('\n').pop());
    await runCommand('View: Close All Editors');
  });
}

// ---- the scenario -------------------------------------------------------------------------------

try {
  await page.goto(URL);
  await page.locator('.monaco-workbench').waitFor({ timeout: 60000 });
  await page.locator('.explorer-folders-view .monaco-list-row').first().waitFor({ timeout: 60000 });
  log('workbench loaded');

  await check('the tree shows the demo projects, artifacts and versions', async () => {
    await showTroveView();
    await treeRow('mnist-demo').waitFor();
    await treeRow('sandbox').waitFor();
    await expandTreeRow('mnist-demo');
    await expandTreeRow('model');
    await expandTreeRow('mnist-cnn');
    const v1 = treeRow('v1');
    await v1.waitFor();
    assert.equal((await v1.locator('.label-description').innerText()).trim(), 'latest, best');
    await treeRow('v0').waitFor();
    await treeRow('mnist-ckpt').waitFor();
    await expandTreeRow('dataset');
    await treeRow('raw-data').waitFor();
    await treeRow('processed-data').waitFor();
    const status = page.locator('.statusbar-item', { hasText: 'Trove: embedded' }).first();
    await status.waitFor();
    log('  status bar:', (await status.innerText()).trim());
    await page.screenshot({ path: path.join(SHOTS, 'tree.png') });
  });

  await check('activation takes under 200 ms (as VS Code measures it)', async () => {
    await runCommand('Developer: Show Running Extensions');
    // A development extension is listed by its id, an installed one by its display name and version.
    const row = page.locator('.monaco-list-row', { hasText: /trove\.trove|Trove\s*\d/ }).filter({ hasText: 'Activation' }).first();
    await row.waitFor();
    const vscodeMs = Number(/Activation:\s*(\d+)\s*ms/.exec(await row.innerText())?.[1]);
    // VS Code 1.139 shows Running Extensions as a modal editor: close it before using the palette.
    await page.keyboard.press('Escape');
    if (await row.isVisible()) await runCommand('View: Close All Editors');
    await row.waitFor({ state: 'hidden' });
    await runCommand('Trove: Show Output');
    const line = page.locator('.panel .view-lines .view-line', { hasText: 'Trove activated in' }).first();
    await line.waitFor();
    const text = (await line.innerText()).replace(/\s+/g, ' ');
    const ownMs = Number(/activated in ([\d.]+) ms/.exec(text)?.[1]);
    await page.keyboard.press('Control+j'); // hide the panel again
    log(`  activation time: ${vscodeMs} ms as reported by VS Code (Running Extensions); ${text.replace(/^.*?Trove/, 'Trove').trim()}`);
    assert.ok(vscodeMs < 200, `VS Code reports ${vscodeMs} ms`);
    assert.ok(ownMs < 200, `${ownMs} ms`);
  });

  if (EXT_INSTALLED) {
    await check('the installed VSIX runs; `trove` in an integrated terminal is its CLI, on the store the tree shows', async () => {
      const version = JSON.parse(fs.readFileSync(path.join(EXT_INSTALLED, 'package.json'), 'utf8')).version;
      assert.doesNotMatch(await page.locator('.part.titlebar').innerText(), /Extension Development Host/);
      await runCommand('Terminal: Create New Terminal');
      // The terminal draws with DOM rows (terminal.integrated.gpuAcceleration off): read them as lines.
      const screen = page.locator('.terminal-wrapper.active .xterm-rows');
      const lines = async () => (await screen.innerText()).split('\n').map((l) => l.replace(/\u00a0/g, ' ').trim()).filter(Boolean);
      const waitForLine = async (pattern) => {
        for (const end = Date.now() + 30000; ;) {
          const shown = await lines().catch(() => []);
          if (shown.some((l) => pattern.test(l))) return shown;
          if (Date.now() > end) throw new Error(`the terminal shows no line matching ${pattern}; its last lines: ${shown.slice(-6).join(' | ')}`);
          await page.waitForTimeout(250);
        }
      };
      const shell = async (command, expected) => {
        await page.keyboard.type(command);
        await page.keyboard.press('Enter');
        return waitForLine(expected);
      };
      const literal = (text) => new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
      await waitForLine(/[$#>]$/); // the shell's prompt
      await shell('trove --version', literal(`trove ${version}`));
      // Only the launcher's folder on PATH: the editor's own Node runs the bundled CLI.
      await shell('echo "no node on PATH: $(PATH=$(dirname "$(command -v trove)") trove --version)"', literal(`no node on PATH: trove ${version}`));
      await shell('echo "env: store=$TROVE_STORE project=$TROVE_PROJECT token=${TROVE_TOKEN:-none}"', literal(`env: store=${STORE} project=mnist-demo token=none`));
      await shell('echo "launcher: $(command -v trove)"', /^launcher: \/.*\/globalStorage\/trove\.trove\/bin\/trove$/);
      const shown = await shell('trove log scripts --name pipeline-scripts --type code', /^mnist-demo\/pipeline-scripts:v0 created/);
      log(`  terminal: ${shown.filter((l) => /^(trove \d|no node|env:|launcher:|mnist-demo\/)/.test(l)).join(' | ')}`);
      // The version logged in the terminal is in the extension's store, and the tree shows it.
      assert.ok(artifacts('mnist-demo').includes('pipeline-scripts'));
      await showTroveView();
      await expandTreeRow('code');
      await treeRow('pipeline-scripts').waitFor();
      await page.screenshot({ path: path.join(SHOTS, 'terminal.png') });
      await runCommand('Terminal: Kill All Terminals');
      await screen.waitFor({ state: 'detached' });
    });
  }

  await check('Explorer right-click "Log Folder as Artifact" creates a version shown in the tree', async () => {
    await page.keyboard.press('Control+Shift+E');
    await explorerRow('data').click();
    await logFolderFromExplorer('incoming', 'my-dataset');
    await finishLogPrompts();
    log('  notification:', await expectNotification('my-dataset:v0 created'));
    await showTroveView();
    await treeRow('my-dataset').waitFor();
    assert.deepEqual(artifacts('mnist-demo').includes('my-dataset'), true);
  });

  await check('logging the same folder again reports unchanged', async () => {
    await logFolderFromExplorer('incoming', 'my-dataset');
    await finishLogPrompts();
    log('  notification:', await expectNotification('unchanged: same as v0'));
    assert.equal(JSON.parse(cli('ls', 'mnist-demo/my-dataset', '--json')).length, 1);
  });

  await check('editing a file and logging again gives the next version', async () => {
    fs.writeFileSync(path.join(FOLDER, 'data', 'incoming', 'a.txt'), 'sample one, edited\n');
    await logFolderFromExplorer('incoming', 'my-dataset');
    await finishLogPrompts();
    log('  notification:', await expectNotification('my-dataset:v1 created'));
    const versions = JSON.parse(cli('ls', 'mnist-demo/my-dataset', '--json')).map((v) => v.version);
    assert.deepEqual(versions, [1, 0]);
    await showTroveView();
    // Logging revealed and selected the new version in the tree.
    const selected = troveTree.locator('.monaco-list-row[aria-selected="true"]');
    await page.waitForFunction((el) => el?.textContent?.includes('v1'), await selected.first().elementHandle());
    assert.equal((await selected.locator('.label-name').innerText()).trim(), 'v1');
    assert.equal((await selected.locator('.label-description').innerText()).trim(), 'latest');
    await page.screenshot({ path: path.join(SHOTS, 'tree-after-log.png') });
  });

  await check('an invalid artifact name shows a clear error and creates nothing', async () => {
    const before = artifacts('mnist-demo');
    await logFolderFromExplorer('incoming', 'bad name!');
    const message = page.locator('.quick-input-widget .quick-input-message', { hasText: 'Invalid artifact name' });
    await message.waitFor();
    log('  validation message:', (await message.innerText()).trim());
    await page.keyboard.press('Enter'); // refused while invalid
    await page.waitForTimeout(300);
    assert.ok(await message.isVisible(), 'the prompt stays open with its message');
    await page.screenshot({ path: path.join(SHOTS, 'invalid-name.png') });
    await page.keyboard.press('Escape');
    assert.deepEqual(artifacts('mnist-demo'), before);
  });

  await check('Cancel on a long log\'s progress notification stops it: no version, nothing left in the store', async () => {
    // A sparse 8 GiB file: reading it costs no disk, hashing and storing it takes seconds.
    const dir = path.join(FOLDER, 'data', 'huge');
    fs.mkdirSync(dir, { recursive: true });
    fs.closeSync(fs.openSync(path.join(dir, 'weights.bin'), 'w'));
    fs.truncateSync(path.join(dir, 'weights.bin'), 8 * 1024 ** 3);
    try {
      await logFolderFromExplorer('huge', 'huge-model');
      await finishLogPrompts();
      await runCommand('Notifications: Show Notifications');
      const item = page.locator('.notifications-center .notification-list-item', { hasText: 'Logging huge-model' }).first();
      // The bar moves while the one large file is stored: its bytes are reported as they go.
      await item.locator('.notification-list-item-message', { hasText: /[1-9][0-9.]* [kMG]B of 8\.6 GB/ }).waitFor();
      log('  progress:', (await item.locator('.notification-list-item-message').innerText()).trim());
      await page.screenshot({ path: path.join(SHOTS, 'log-progress.png') });
      await item.locator('.monaco-button', { hasText: 'Cancel' }).click();
      await item.waitFor({ state: 'detached' });
      await page.keyboard.press('Escape');
      assert.equal(artifacts('mnist-demo').includes('huge-model'), false, 'no artifact was created');
      // The half-copied blob is removed as the operation ends (the store's tmp folder is empty).
      // VS Code drops the notification at the click, before the extension's cleanup has run,
      // which under load takes a moment: wait for it, up to 15 s.
      const tmp = path.join(STORE, 'tmp');
      for (let waited = 0; fs.readdirSync(tmp).length && waited < 15000; waited += 250) await page.waitForTimeout(250);
      assert.deepEqual(fs.readdirSync(tmp), []);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  await checkLogAgainAndAliases();

  await check('Download Version writes identical files into the workspace', async () => {
    await runCommand('Trove: Download Version into Workspace');
    await pick('my-dataset');
    await pick('v1');
    // The download ends by revealing the folder in the Explorer, which takes the focus: wait for it
    // before opening the palette, whose typing it would otherwise interrupt.
    await explorerRow('my-dataset-v1').waitFor();
    log('  notification:', await expectNotification('my-dataset:v1 downloaded'));
    const root = path.join(FOLDER, 'artifacts', 'my-dataset-v1');
    const source = path.join(FOLDER, 'data', 'incoming');
    assert.deepEqual(listFiles(root), listFiles(source));
    for (const f of listFiles(source)) assert.ok(fs.readFileSync(path.join(root, f)).equals(fs.readFileSync(path.join(source, f))), f);
    await explorerRow('my-dataset-v1').waitFor(); // revealed in the Explorer
  });

  await check('a version item\'s context menu downloads it and compares it with the previous version; a file opens read-only', async () => {
    await showTroveView();
    // A container with one view shows the view's title actions in the side bar's title.
    await page.locator('.part.sidebar .composite.title').hover();
    await page.locator('.part.sidebar .title-actions .action-label[aria-label="Collapse All"]').click();
    await expandTreeRow('mnist-demo');
    await expandTreeRow('dataset');
    await expandTreeRow('my-dataset');
    const menuItem = async (row, label) => {
      await row.click({ button: 'right' });
      const item = page.locator('.monaco-menu .action-item', { hasText: label }).first();
      await item.waitFor();
      await item.hover();
      await page.waitForTimeout(300);
      await item.click();
    };
    await menuItem(treeRow('v0'), 'Download Version into Workspace');
    await explorerRow('my-dataset-v0').waitFor(); // revealed when done (it takes the focus)
    log('  notification:', await expectNotification('my-dataset:v0 downloaded'));
    const root = path.join(FOLDER, 'artifacts', 'my-dataset-v0');
    assert.equal(fs.readFileSync(path.join(root, 'a.txt'), 'utf8'), 'sample one\n');
    assert.equal(fs.readFileSync(path.join(root, 'nested', 'c.txt'), 'utf8'), 'nested sample\n');

    await showTroveView();
    await menuItem(treeRow('v1'), 'Compare with Previous Version');
    await pick('a.txt'); // the modified files are offered for the diff editor
    await page.locator('.tabs-container .tab', { hasText: 'my-dataset/a.txt (v0 ↔ v1)' }).waitFor();
    await page.locator('.tabs-container .tab', { hasText: 'v0..v1.txt' }).waitFor();
    const modifiedSide = page.locator('.editor-container .monaco-diff-editor .editor.modified .view-lines');
    await modifiedSide.filter({ hasText: 'sample one, edited' }).waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'compare.png') });
    await runCommand('View: Close All Editors');

    // Clicking a file of a version opens it read-only from the trove: file system.
    await showTroveView();
    await expandTreeRow('v1');
    await treeRow('a.txt').click();
    await page.locator('.tabs-container .tab', { hasText: 'a.txt' }).waitFor();
    await page.locator('.editor-container .view-lines', { hasText: 'sample one, edited' }).waitFor();
    await runCommand('View: Close All Editors');
  });

  await checkOpenAllChanges();
  await checkCompareWithWorkspace();

  await check('hovering a use_artifact("…") string in train.py shows the version; an unknown alias is a problem', async () => {
    // A reference the language server cannot resolve, added the way a user would type it.
    fs.appendFileSync(path.join(FOLDER, 'train.py'), 'old = run.use_artifact("mnist-cnn:no-such-alias")\n');
    await runCommand('Go to File...');
    await quickInput.fill('train.py');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'train.py' }).first().waitFor();
    await page.keyboard.press('Enter');
    // The token span of the string itself (the line's outer span would put the cursor mid-line).
    const ref = page.locator('.editor-container .view-line span[class^="mtk"]', { hasText: 'processed-data:latest' }).first();
    await ref.waitFor();
    // Put the cursor in the string and ask for the hover (the server may still be starting: ask again).
    for (let attempt = 0; ; attempt++) {
      await ref.click();
      await runCommand('Show or Focus Hover');
      try {
        await page.locator('.monaco-hover:visible', { hasText: 'processed-data' }).first().waitFor({ timeout: 4000 });
        break;
      } catch (e) {
        if (attempt === 5) throw e;
        await page.keyboard.press('Escape');
      }
    }
    const text = await page.locator('.monaco-hover:visible').first().innerText();
    assert.match(text, /processed-data/);
    assert.match(text, /v0/, `hover names the version: ${text.slice(0, 200)}`);
    assert.match(text, /dataset/, 'hover names the type');
    assert.match(text, /Show Lineage/, 'hover offers the lineage command');
    await page.screenshot({ path: path.join(SHOTS, 'hover.png') });
    await page.mouse.move(5, 5);
    await runCommand('View: Focus Problems');
    const problem = page.locator('.markers-panel .monaco-list-row', { hasText: 'no-such-alias' }).first();
    await problem.waitFor();
    assert.match(await problem.innerText(), /no-such-alias/);
    await page.screenshot({ path: path.join(SHOTS, 'problems.png') });
    await runCommand('View: Hide Panel');
    await runCommand('View: Close All Editors');
  });

  await checkHoverOnceAndEditorSettings();
  await checkMenusAndSettings();

  const frame = webviewFrame();
  await check('Show Lineage opens the webview with the expected run and version nodes', async () => {
    await runCommand('Trove: Show Lineage');
    await pick('processed-data');
    await pick('v0');
    await frame.locator('#graph g.node').first().waitFor({ timeout: 30000 });
    const labels = async (kind, cls = 'label') => (await frame.locator(`#graph g.node[data-kind="${kind}"] text.${cls}`).allTextContents()).map((s) => s.trim()).sort();
    assert.deepEqual(await labels('version'), ['mnist-cnn:v0', 'mnist-cnn:v1', 'processed-data:v0', 'raw-data:v0']);
    // Runs are labelled by their name, with their job type under it.
    assert.deepEqual(await labels('run'), ['ingest-raw', 'lr-sweep', 'preprocess', 'train-lr-0.003', 'train-lr-0.01']);
    assert.deepEqual(await labels('run', 'sub'), ['ingest run', 'preprocess run', 'sweep run', 'train run', 'train run']);
    assert.deepEqual(await labels('cluster'), ['mnist-ckpt ×7 (v0–v6)']);
    log('  status:', (await frame.locator('#status').innerText()).trim());
    await page.screenshot({ path: path.join(SHOTS, 'lineage.png') });
  });

  await check('clicking a node shows its details; a cluster expands on click; filters hide types', async () => {
    await frame.locator('#graph g.node[data-id="version:mnist-demo/mnist-cnn:v1"]').click();
    await frame.locator('#details h2', { hasText: 'mnist-demo/mnist-cnn:v1' }).waitFor();
    const details = await frame.locator('#details').innerText();
    assert.match(details, /Git commit\s+[0-9a-f]{12} \(main\)/);
    assert.match(details, /"accuracy": 0\.94/);
    assert.match(details, /model\.json/);
    await page.screenshot({ path: path.join(SHOTS, 'lineage-details.png') });
    await frame.locator('#graph g.node[data-kind="cluster"]').click();
    await frame.locator('#graph g.node[data-id="version:mnist-demo/mnist-ckpt:v6"]').waitFor();
    assert.equal(await frame.locator('#graph g.node[data-kind="cluster"]').count(), 0);
    await frame.locator('vscode-checkbox', { hasText: 'model' }).click();
    await frame.locator('#graph g.node[data-id="version:mnist-demo/mnist-cnn:v1"]').waitFor({ state: 'detached' });
    assert.equal(await frame.locator('#graph g.node[data-kind="version"]').count(), 2);
    await frame.locator('vscode-checkbox', { hasText: 'model' }).click();
    await frame.locator('#graph g.node[data-id="version:mnist-demo/mnist-cnn:v1"]').waitFor();
  });

  await check('the lineage panel is restored after a window reload', async () => {
    // Until the page has loaded again, the old workbench and its webview still answer every locator.
    const reloaded = page.waitForEvent('load', { timeout: 60000 });
    await runCommand('Developer: Reload Window');
    await reloaded;
    await page.locator('.monaco-workbench').waitFor({ timeout: 60000 });
    await webviewFrame().locator('#graph g.node[data-id="version:mnist-demo/processed-data:v0"]').waitFor({ timeout: 60000 });
    const tab = page.locator('.tabs-container .tab', { hasText: 'Lineage: processed-data:v0' });
    await tab.waitFor();
  });

  await check('Expand down on a node adds its consumers one hop away', async () => {
    await runCommand('View: Close All Editors');
    await runCommand('Trove: Show Lineage');
    await pick('mnist-cnn');
    await pick('v1');
    const f = webviewFrame();
    const node = (id) => f.locator(`#graph g.node[data-id="${id}"]`);
    await node('version:mnist-demo/processed-data:v0').waitFor({ timeout: 30000 });
    const runs = async () => (await f.locator('#graph g.node[data-kind="run"] text.label').allTextContents()).sort();
    assert.deepEqual(await runs(), ['preprocess', 'train-lr-0.003']);
    await node('version:mnist-demo/processed-data:v0').click();
    await f.locator('#details h2', { hasText: 'mnist-demo/processed-data:v0' }).waitFor();
    await f.locator('vscode-button', { hasText: 'Expand down' }).click();
    await f.locator('#graph g.node[data-kind="run"] text.label', { hasText: 'lr-sweep' }).waitFor();
    assert.deepEqual(await runs(), ['lr-sweep', 'preprocess', 'train-lr-0.003', 'train-lr-0.01']);
    // A run comes with what it made: the other training's model and the sweep's checkpoints.
    await node('version:mnist-demo/mnist-cnn:v0').waitFor();
    await f.locator('#graph g.node[data-kind="cluster"]').waitFor();
    log('  status:', (await f.locator('#status').innerText()).trim());
    await page.screenshot({ path: path.join(SHOTS, 'lineage-expanded.png') });
    await runCommand('View: Close All Editors');
  });

  await checkLineageReadableAtFit();
  await checkLineageThemes();
  await checkLineageSaysWhatEachNodeIs();
  await checkLineageNavigation();
  await checkLineageActions();
  await checkLineageDeveloperFigures();
  await checkVersionCard();

  await check('"Run Python File with Trove" on a wandb script (Explorer menu): the tree shows its artifact, the lineage its run with the job type', async () => {
    // The seed's snippet, unchanged, in the workspace; python3 on PATH is the pinned wandb client's (stage 30).
    fs.writeFileSync(path.join(FOLDER, 'wandb_prep.py'), [
      'import wandb', '', 'run = wandb.init(job_type="wandb-prep")', "artifact = wandb.Artifact('wandb-dataset', type='dataset')",
      "artifact.add_file('data/raw/labels.json')", 'run.log_artifact(artifact)', '',
    ].join('\n'));
    const row = await showInExplorer('wandb_prep.py');
    await row.click({ button: 'right' });
    const item = page.locator('.monaco-menu .action-item', { hasText: 'Run Python File with Trove' }).first();
    await item.waitFor();
    await item.hover();
    await page.waitForTimeout(300);
    await item.click();
    await page.locator('.terminal-tab, .single-terminal-tab, .terminal-tabs-entry', { hasText: 'Trove' }).first().waitFor({ timeout: 30000 }).catch(() => {});
    // The tree refreshes by itself when the version appears (the store is watched).
    await showTroveView();
    await expandTreeRow('mnist-demo');
    await expandTreeRow('dataset');
    await treeRow('wandb-dataset').waitFor({ timeout: 120000 });
    assert.deepEqual(artifacts('mnist-demo').includes('wandb-dataset'), true);
    await runCommand('Trove: Show Lineage');
    await pick('wandb-dataset');
    await pick('v0');
    await frame.locator('#graph g.node[data-id="version:mnist-demo/wandb-dataset:v0"]').waitFor({ timeout: 30000 });
    // The run node names the job type the script gave (the webview's look may change: only its text is checked).
    const runs = await frame.locator('#graph g.node[data-kind="run"]').allTextContents();
    assert.ok(runs.some((t) => t.includes('wandb-prep')), `run nodes: ${runs.join(' | ')}`);
    await page.screenshot({ path: path.join(SHOTS, 'wandb-lineage.png') });
  });

  await checkDeleteAndUndo();
  await checkPythonUsageSnippet();

  await check('welcome views and the status bar report an empty store and an unreachable backend', async () => {
    const settingsFile = path.join(FOLDER, '.vscode', 'settings.json');
    const original = fs.readFileSync(settingsFile, 'utf8');
    const withSettings = (extra) => fs.writeFileSync(settingsFile, JSON.stringify({ ...JSON.parse(original), ...extra }, null, 2));
    const emptyStore = fs.mkdtempSync(path.join(os.tmpdir(), 'trove-e2e-empty-'));
    try {
      await showTroveView();
      withSettings({ 'trove.storePath': emptyStore });
      await troveTree.locator('.welcome-view-content', { hasText: 'No artifacts yet in this store.' }).waitFor();
      await page.locator('.statusbar-item', { hasText: `Trove: embedded ${emptyStore}` }).first().waitFor();
      await page.screenshot({ path: path.join(SHOTS, 'welcome-empty.png') });
      withSettings({ 'trove.backend': 'http://127.0.0.1:9' });
      await troveTree.locator('.welcome-view-content', { hasText: 'The Trove backend cannot be reached' }).waitFor();
      const status = page.locator('.statusbar-item', { hasText: 'Trove: 127.0.0.1:9' }).first();
      await status.waitFor();
      assert.ok((await status.getAttribute('class')).includes('error-kind') || (await status.innerHTML()).includes('codicon-error'), 'the status bar item shows an error');
      await page.screenshot({ path: path.join(SHOTS, 'welcome-unreachable.png') });
    } finally {
      fs.writeFileSync(settingsFile, original);
      fs.rmSync(emptyStore, { recursive: true, force: true });
    }
    await treeRow('mnist-demo').waitFor();
  });

  await check('the webview runs under its strict CSP without violations', async () => {
    assert.deepEqual(webviewErrors, []);
  });
} catch (e) {
  failed++;
  log('FAIL (setup)', e);
  await page.screenshot({ path: path.join(SHOTS, 'fail-setup.png') }).catch(() => {});
} finally {
  await ctx.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
// A run that checked nothing (the check list was emptied, or set-up returned early) is a failure.
if (passed + failed === 0) { log('FAIL: no check ran'); failed = 1; }
log(`UI e2e: ${passed} passed, ${failed} failed`);
console.log(`RESULT ${passed} ${failed}`);
process.exit(failed ? 1 : 0);
