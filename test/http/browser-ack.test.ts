import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DETECTOR_REGISTRY } from '../../src/detect/detector-registry.js';
import { loadRuleSet } from '../../src/detect/rule-loader.js';
import { ReplayPipeline } from '../../src/pipeline/replay-pipeline.js';
import { startResponder, type ResponderFixture } from './responder-harness.js';

const RULES = fileURLToPath(new URL('../fixtures/http/rules/', import.meta.url));
const CORPUS_EXCERPT = fileURLToPath(new URL('../fixtures/replay/a1-brute-force.log', import.meta.url));
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));

let fx: ResponderFixture;
let browser: Browser | undefined;
let baseUrl: string;

beforeAll(async () => {
  fx = await startResponder();
  fx.clock.at = new Date('2026-11-29T18:00:00.000Z'); // the corpus excerpt's day
  const rules = await loadRuleSet({ ruleDirs: [RULES], overlayDirs: [], lists: {}, catalog: null, registry: DETECTOR_REGISTRY });
  const replay = await new ReplayPipeline({ rules: rules.rules, context: rules.context, enricher: null, store: fx.store }).run([CORPUS_EXCERPT], {
    format: 'stderr',
    logLinePrefix: '%m [%p] %q%u@%d %r %a: ',
    server: 'pg15',
  });
  expect(replay.incidents.length).toBeGreaterThan(0);
  baseUrl = await fx.server.listen();
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await fx?.close();
});

describe('web page in Chromium', () => {
  it('signs in, opens an incident raised from the corpus, acknowledges it and sees the new state and timeline row', async () => {
    const page = await browser!.newPage();
    const cspViolations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
    });
    await page.goto(`${baseUrl}/ui/incidents`);
    expect(new URL(page.url()).pathname).toBe('/ui/sign-in');
    await page.fill('input[name="token"]', fx.tokens.responder);
    await page.click('button:has-text("Sign in")');
    expect(new URL(page.url()).pathname).toBe('/ui/incidents');
    const row = page.locator('tbody tr', { hasText: 'Brute force' }).first();
    await expect(row.locator('td.status').textContent()).resolves.toBe('open');
    await row.locator('a').click();
    expect(new URL(page.url()).pathname).toMatch(/^\/ui\/incidents\/\d+$/);
    await expect(page.locator('#status').textContent()).resolves.toBe('open');
    await page.fill('form[action$="/ack"] input[name="note"]', 'checking with the DBA');
    await page.click('button[value="ack"]');
    await expect(page.locator('#status').textContent()).resolves.toBe('acknowledged');
    await expect(page.locator('p.notice').textContent()).resolves.toBe('Acknowledged.');
    const lastRow = page.locator('#timeline tbody tr').last();
    await expect(lastRow.locator('td').allTextContents()).resolves.toEqual([expect.stringMatching(/^2026-11-29T18:00:00\.000Z$/), 'acknowledged', 'responder:alice', 'checking with the DBA']);
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: `${ARTIFACTS}browser-ack.png`, fullPage: true });
    expect(cspViolations).toEqual([]);
  }, 60_000);
});
