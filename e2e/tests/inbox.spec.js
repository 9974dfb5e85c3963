// The webcare inbox in a real browser against a real Mastodon API server
// (mastodon-mock): an agent sees a mention, sees a new one arrive live
// without reloading, and assigns, answers, notes and resolves; the answer
// is on Mastodon as a reply to the mention. Then the same page on a phone.
import { test, expect, startMastodon } from './fixtures.js';

const PASSWORD = 'paars-fietsje-42';

async function api(server, method, path, token, body) {
  const r = await fetch(`${server.url}${path}`, {
    method,
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

async function mention(mastodon, text) {
  const r = await fetch(`${mastodon.url}/api/v1/statuses`, {
    method: 'POST',
    headers: { Authorization: 'Bearer grace_token', 'Content-Type': 'application/x-www-form-urlencoded' },
    body: 'status=' + encodeURIComponent(text),
  });
  expect(r.ok).toBeTruthy();
  return (await r.json()).id;
}

test('an agent assigns, answers, notes and resolves, and sees a new mention arrive live', async ({ page, server }) => {
  test.skip(process.env.DIALOOG_TEST_MASTODON_SKIP === '1' && process.env.CI !== 'true', 'no Mastodon test server');
  test.setTimeout(90_000);
  const mastodon = await startMastodon();
  try {
    const { token } = await api(server, 'POST', '/api/v1/setup', null,
      { organisation: 'Bakkerij De Vries', name: 'Anna de Vries', email: 'anna@bakkerij.nl', password: PASSWORD });
    const invite = await api(server, 'POST', '/api/v1/workspaces/1/members', token, { email: 'joost@bakkerij.nl', role: 'agent' });
    const code = invite.invite_url.split('/').pop();
    await api(server, 'POST', `/api/v1/invites/${code}`, null, { name: 'Joost', password: PASSWORD });
    const channel = await api(server, 'POST', '/api/v1/workspaces/1/channels', token,
      { network: 'mastodon', instance_url: mastodon.url, access_token: 'ada_token' });
    const sync = () => api(server, 'POST', `/api/v1/workspaces/1/channels/${channel.id}/sync`, token);
    await sync();
    const first = await mention(mastodon, '@ada is de appeltaart vandaag vers?');
    await sync();

    await page.goto(`${server.url}/sign-in`);
    await page.getByLabel('E-mailadres').fill('joost@bakkerij.nl');
    await page.getByLabel('Wachtwoord').fill(PASSWORD);
    await page.getByRole('button', { name: 'Aanmelden' }).click();
    await page.getByRole('navigation', { name: 'Werkruimte' }).getByRole('link', { name: 'Inbox' }).click();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Inbox');
    await expect(page.getByText('@ada is de appeltaart vandaag vers?')).toBeVisible();

    // A new mention appears without a reload.
    await mention(mastodon, '@ada hebben jullie ook glutenvrij brood?');
    await sync();
    await expect(page.getByText('@ada hebben jullie ook glutenvrij brood?')).toBeVisible({ timeout: 5_000 });
    await expect(page.getByText('De lijst is bijgewerkt met nieuwe activiteit.')).toBeVisible();

    // Keyboard: j moves to the first conversation, Enter opens it.
    await page.locator('body').press('j');
    await page.locator('body').press('j');
    await expect(page.locator('.conversation-link').nth(1)).toBeFocused();
    await page.getByRole('link', { name: /is de appeltaart vandaag vers/ }).click();
    await expect(page.getByRole('heading', { level: 1 })).toContainText('Grace Hopper');

    await page.getByLabel('Toegewezen aan').selectOption({ label: 'Joost' });
    await page.getByRole('button', { name: 'Toewijzen' }).click();
    await expect(page.getByText('Toewijzing opgeslagen.')).toBeVisible();

    await page.locator('body').press('r');
    await expect(page.getByLabel(/Je antwoord/)).toBeFocused();
    await page.getByLabel(/Je antwoord/).fill('Ja, vanochtend gebakken!');
    await expect(page.locator('#reply-count')).toHaveText('24 / 500');
    await page.getByRole('button', { name: 'Versturen' }).click();
    await expect(page.getByText('Je antwoord is verstuurd.')).toBeVisible();
    await expect(page.getByText('Ja, vanochtend gebakken!')).toBeVisible();

    await page.getByLabel(/Interne notitie/).fill('Vaste klant, zaterdag weer langs.');
    await page.getByRole('button', { name: 'Notitie toevoegen' }).click();
    await expect(page.getByText('Notitie toegevoegd.')).toBeVisible();
    await expect(page.getByText('Vaste klant, zaterdag weer langs.')).toBeVisible();

    await page.getByRole('button', { name: 'Afhandelen', exact: true }).click();
    await expect(page.getByText('Gesprek afgehandeld.')).toBeVisible();

    // The answer is on Mastodon, as a reply to the mention.
    const context = await (await fetch(`${mastodon.url}/api/v1/statuses/${first}/context`,
      { headers: { Authorization: 'Bearer grace_token' } })).json();
    const replies = context.descendants.filter((d) => d.in_reply_to_id === first);
    expect(replies.length).toBe(1);
    expect(replies[0].content).toContain('vanochtend gebakken');

    // On a phone nothing needs sideways scrolling.
    await page.setViewportSize({ width: 360, height: 740 });
    await page.reload();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);

    // Back to the list (u): only the other mention is still open.
    await page.locator('body').press('u');
    await expect(page.getByText('@ada hebben jullie ook glutenvrij brood?')).toBeVisible();
    await expect(page.getByText('@ada is de appeltaart vandaag vers?')).toHaveCount(0);
  } finally {
    mastodon.stop();
  }
});
