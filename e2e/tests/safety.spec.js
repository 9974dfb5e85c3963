// Everything from outside is hostile: a mention full of markup and a
// sender whose name hides an image with a handler arrive through a real
// Mastodon API server (mastodon-mock). In a real browser no script of
// theirs runs (no dialog), the markup shows as text, and our own pages
// cause no Content Security Policy violation.
import { test, expect, startMastodon } from './fixtures.js';

const PASSWORD = 'paars-fietsje-42';
const HOSTILE = '@ada <script>alert(1)</script> "><img src=x onerror=alert(2)> <a href="javascript:alert(3)">klik</a> <style>body{display:none}</style>';

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

test('a hostile mention runs nothing and breaks no policy', async ({ page, server }) => {
  test.skip(process.env.DIALOOG_TEST_MASTODON_SKIP === '1' && process.env.CI !== 'true', 'no Mastodon test server');
  test.setTimeout(90_000);
  const mastodon = await startMastodon();
  const dialogs = [];
  const violations = [];
  page.on('dialog', async (d) => { dialogs.push(d.message()); await d.dismiss(); });
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) violations.push(m.text()); });
  try {
    const { token } = await api(server, 'POST', '/api/v1/setup', null,
      { organisation: 'Bakkerij De Vries', name: 'Anna de Vries', email: 'anna@bakkerij.nl', password: PASSWORD });
    const channel = await api(server, 'POST', '/api/v1/workspaces/1/channels', token,
      { network: 'mastodon', instance_url: mastodon.url, access_token: 'ada_token' });
    const sync = () => api(server, 'POST', `/api/v1/workspaces/1/channels/${channel.id}/sync`, token);
    await sync();
    const named = await fetch(`${mastodon.url}/api/v1/accounts/update_credentials`, {
      method: 'PATCH',
      headers: { Authorization: 'Bearer grace_token', 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'display_name=' + encodeURIComponent('Grace\u202E"><img src=x onerror=alert(4)>'),
    });
    const posted = await fetch(`${mastodon.url}/api/v1/statuses`, {
      method: 'POST',
      headers: { Authorization: 'Bearer grace_token', 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'status=' + encodeURIComponent(HOSTILE),
    });
    expect(posted.ok).toBeTruthy();
    await sync();

    await page.goto(`${server.url}/sign-in`);
    await page.getByLabel('E-mailadres').fill('anna@bakkerij.nl');
    await page.getByLabel('Wachtwoord').fill(PASSWORD);
    await page.getByRole('button', { name: 'Aanmelden' }).click();
    await page.goto(`${server.url}/w/1/inbox`);
    await expect(page.getByText('<script>alert(1)</script>', { exact: false }).first()).toBeVisible();
    await page.locator('.conversation-link').first().click();
    await expect(page.locator('.message-text').first()).toContainText('"><img src=x onerror=alert(2)>');
    await expect(page.locator('.message-text').first()).toContainText('<style>body{display:none}</style>');
    await expect(page.locator('body')).toBeVisible();
    if (named.ok) {
      const heading = await page.getByRole('heading', { level: 1 }).textContent();
      expect(heading).not.toContain('\u202E');
      expect(heading).toContain('Grace');
    }
    // Nothing of theirs became an element: no image, no link to script.
    await expect(page.locator('img[src="x"]')).toHaveCount(0);
    await expect(page.locator('a[href^="javascript:"]')).toHaveCount(0);
    await expect(page.locator('style')).toHaveCount(0);
    await page.getByRole('link', { name: /Contactkaart/ }).click();
    await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
    await page.waitForTimeout(300);
    expect(dialogs).toEqual([]);
    expect(violations).toEqual([]);
  } finally {
    mastodon.stop();
  }
});
