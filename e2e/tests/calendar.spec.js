// Composing a post for a minute from now, seeing it on the calendar, and
// seeing it published there, in a real browser against a real Mastodon API
// server (mastodon-mock, started for the test); then the same day on a
// 360-pixel phone.
import { test, expect, startMastodon } from './fixtures.js';

const PASSWORD = 'paars-fietsje-42';

/** The wall-clock date and time in Amsterdam `ms` from now. */
function amsterdam(ms) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Europe/Amsterdam', year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
  }).formatToParts(new Date(Date.now() + ms)).map((p) => [p.type, p.value]));
  return { date: `${parts.year}-${parts.month}-${parts.day}`, time: `${parts.hour}:${parts.minute}` };
}

test('compose for a minute from now, see it on the calendar, see it published', async ({ page, server }) => {
  test.skip(process.env.DIALOOG_TEST_MASTODON_SKIP === '1' && process.env.CI !== 'true', 'no Mastodon test server');
  test.setTimeout(180_000);
  const mastodon = await startMastodon();
  try {
    await page.goto(server.url);
    await page.getByLabel('Organisatie').fill('Bakkerij De Vries');
    await page.getByLabel('Naam').fill('Anna de Vries');
    await page.getByLabel('E-mailadres').fill('anna@bakkerij.nl');
    await page.getByLabel('Nieuw wachtwoord').fill(PASSWORD);
    await page.getByRole('button', { name: 'Dialoog inrichten' }).click();

    // The Mastodon account is connected through the API with its token
    // (the sign-in at the server has its own browser test).
    let r = await fetch(`${server.url}/api/v1/auth/tokens`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email: 'anna@bakkerij.nl', password: PASSWORD, name: 'e2e' }),
    });
    expect(r.status).toBe(201);
    const { token } = await r.json();
    r = await fetch(`${server.url}/api/v1/workspaces/1/channels`, {
      method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body: JSON.stringify({ network: 'mastodon', instance_url: mastodon.url, access_token: 'ada_token' }),
    });
    expect(r.status).toBe(201);
    const channel = (await r.json()).name;

    // Compose for the next minute (at least 15 seconds away), Amsterdam time.
    const seconds = new Date().getSeconds();
    const when = amsterdam((seconds > 45 ? 120 : 60) * 1000);
    await page.getByRole('navigation', { name: 'Werkruimte' }).getByRole('link', { name: 'Publiceren' }).click();
    await page.getByLabel('Tekst', { exact: true }).fill('Vandaag in de etalage: kerststol met amandelspijs 🎄 Tot straks!');
    await page.getByRole('checkbox', { name: channel }).check();
    await page.getByLabel('Op een tijdstip').check();
    const planned = page.getByRole('group', { name: 'Wanneer' });
    await planned.getByLabel('Datum', { exact: true }).fill(when.date);
    await planned.getByLabel('Tijd', { exact: true }).fill(when.time);
    await page.getByRole('button', { name: 'Opslaan', exact: true }).click();
    await expect(page.getByText('Het bericht is opgeslagen.')).toBeVisible();

    // On the calendar: today's cell, the time, the channel, planned.
    await page.getByRole('link', { name: 'Kalender' }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Kalender' })).toBeVisible();
    const day = page.locator(`#d-${when.date}`);
    const entry = day.locator('li.entry', { hasText: 'Vandaag in de etalage: kerststol' });
    await expect(entry).toBeVisible();
    await expect(entry.locator('time')).toHaveText(when.time);
    await expect(entry.getByText(channel)).toBeVisible();
    await expect(entry.getByText('Ingepland')).toBeVisible();

    // The dispatcher sends it at its time; the calendar says so.
    await expect(async () => {
      await page.reload();
      await expect(entry.getByText('Gepubliceerd')).toBeVisible({ timeout: 1000 });
    }).toPass({ timeout: 150_000, intervals: [2000] });
    await expect(entry).toHaveClass(/state-published/);

    // It really is on Mastodon.
    const auth = { headers: { Authorization: 'Bearer ada_token' } };
    const me = await (await fetch(`${mastodon.url}/api/v1/accounts/verify_credentials`, auth)).json();
    const statuses = await (await fetch(`${mastodon.url}/api/v1/accounts/${me.id}/statuses`, auth)).json();
    expect(statuses.some((s) => s.content.includes('kerststol met amandelspijs'))).toBeTruthy();

    // Week view and the list, by keyboard-reachable links.
    await page.getByRole('navigation', { name: 'Weergave' }).getByRole('link', { name: 'Week' }).click();
    await expect(page.locator(`#d-${when.date} li.entry`, { hasText: 'kerststol' })).toBeVisible();
    await page.getByRole('navigation', { name: 'Weergave' }).getByRole('link', { name: 'Lijst' }).click();
    await expect(page.locator(`#d-${when.date} li.entry`, { hasText: 'kerststol' })).toBeVisible();

    // On a 360-pixel phone the month is a list of days, nothing too wide.
    await page.setViewportSize({ width: 360, height: 740 });
    await page.getByRole('navigation', { name: 'Weergave' }).getByRole('link', { name: 'Maand' }).click();
    await expect(page.locator(`#d-${when.date} li.entry`, { hasText: 'kerststol' })).toBeVisible();
    const wide = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(wide).toBeLessThanOrEqual(360);
  } finally {
    mastodon.stop();
  }
});
