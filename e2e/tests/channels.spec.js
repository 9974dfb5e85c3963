// Connecting a Mastodon account by signing in at the server, and its
// mentions arriving, in a real browser against a real Mastodon API server
// (mastodon-mock, started for the test).
import { test, expect, startMastodon } from './fixtures.js';

const PASSWORD = 'paars-fietsje-42';

test('connect Mastodon by signing in there, and see a mention arrive', async ({ page, server }) => {
  test.skip(process.env.DIALOOG_TEST_MASTODON_SKIP === '1' && process.env.CI !== 'true', 'no Mastodon test server');
  const mastodon = await startMastodon();
  try {
    await page.goto(server.url);
    await page.getByLabel('Organisatie').fill('Bakkerij De Vries');
    await page.getByLabel('Naam').fill('Anna de Vries');
    await page.getByLabel('E-mailadres').fill('anna@bakkerij.nl');
    await page.getByLabel('Nieuw wachtwoord').fill(PASSWORD);
    await page.getByRole('button', { name: 'Dialoog inrichten' }).click();
    await page.getByRole('navigation', { name: 'Werkruimte' }).getByRole('link', { name: 'Kanalen' }).click();

    await page.getByText('Een Mastodon-account koppelen').click();
    const form = page.locator('form[action$="/channels/mastodon"]');
    await form.getByLabel('Mastodon-server').fill(mastodon.url);
    await form.getByRole('button', { name: 'Koppelen' }).click();
    // Dialoog says where Anna goes to sign in.
    await page.getByRole('link', { name: `Verder naar ${new URL(mastodon.url).host}` }).click();
    // At the Mastodon server: Anna picks her account and allows Dialoog.
    await expect(page.getByText('Authorize this app as:')).toBeVisible();
    await page.getByRole('button', { name: 'Ada Lovelace (@ada)' }).click();
    // Back in Dialoog.
    await expect(page.getByText('Het kanaal is toegevoegd.')).toBeVisible();
    await expect(page.getByRole('heading', { name: /@ada@localhost/ })).toBeVisible();

    // A customer mentions the account; "Nu ophalen" brings it in.
    const r = await fetch(`${mastodon.url}/api/v1/statuses`, {
      method: 'POST',
      headers: { Authorization: 'Bearer grace_token', 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'status=' + encodeURIComponent('@ada is de appeltaart vandaag vers?'),
    });
    expect(r.ok).toBeTruthy();
    await page.getByRole('button', { name: 'Nu ophalen' }).click();
    await expect(page.getByText('@ada is de appeltaart vandaag vers?')).toBeVisible();
    await expect(page.getByText('werkt', { exact: true })).toBeVisible();
  } finally {
    mastodon.stop();
  }
});
