// Moving planned posts on the calendar by dragging them with the mouse: to
// another day in the month view (the time of day stays), to another hour in
// the week view; a drop in the past, or in the hour the clock skips, is
// refused next to the post, in Dutch.
import { test, expect } from './fixtures.js';

const PASSWORD = 'paars-fietsje-42';

// A desktop screen tall enough to hold the whole month and the whole week:
// Chromium drops only where the pointer is on screen.
test.use({ viewport: { width: 1400, height: 2000 } });

/** First-run setup in the browser, then an API token for making posts. */
async function setUp(page, server) {
  await page.goto(server.url);
  await page.getByLabel('Organisatie').fill('Bakkerij De Vries');
  await page.getByLabel('Naam').fill('Anna de Vries');
  await page.getByLabel('E-mailadres').fill('anna@bakkerij.nl');
  await page.getByLabel('Nieuw wachtwoord').fill(PASSWORD);
  await page.getByRole('button', { name: 'Dialoog inrichten' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Bakkerij De Vries');
  const r = await fetch(`${server.url}/api/v1/auth/tokens`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: 'anna@bakkerij.nl', password: PASSWORD, name: 'e2e' }),
  });
  expect(r.status).toBe(201);
  return (await r.json()).token;
}

/** A planned draft at `at` (UTC); its id. */
async function draft(server, token, text, at) {
  const r = await fetch(`${server.url}/api/v1/workspaces/1/posts`, {
    method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify({ text, draft: true, scheduled_at: at }),
  });
  expect(r.status).toBe(201);
  return (await r.json()).id;
}

test('drag a post to another day and hour; drops in the past or in the skipped hour are refused', async ({ page, server }) => {
  const token = await setUp(page, server);
  // 10:00 in Amsterdam (winter time).
  const bread = await draft(server, token, 'Kerstbrood bestellen kan weer', '2041-03-10T09:00:00Z');
  const old = await draft(server, token, 'Paasbrood van vorig jaar', '2020-03-10T09:00:00Z');
  // 02:30 in Amsterdam on Thursday 28 March 2041; that Sunday the clock skips 02:00–03:00.
  const night = await draft(server, token, 'Nachtbakkers gezocht', '2041-03-28T01:30:00Z');

  // Month view: to the 20th, still at 10:00.
  await page.goto(`${server.url}/w/1/calendar?month=2041-03`);
  await expect(page.getByText('Sleep een bericht aan de eerste regel')).toBeVisible();
  const entry = page.locator(`#post-${bread}`);
  await expect(page.locator('#d-2041-03-10').locator(`#post-${bread} time`)).toHaveText('10:00');
  await entry.locator('.entry-head').dragTo(page.locator('#d-2041-03-20'));
  await expect(page.getByText('Het bericht is verplaatst.')).toBeVisible();
  await page.reload();
  await expect(page.locator('#d-2041-03-20').locator(`#post-${bread} time`)).toHaveText('10:00');
  await expect(page.locator('#d-2041-03-10 li.entry')).toHaveCount(0);

  // Week view: to Thursday at three, the minutes kept.
  await page.goto(`${server.url}/w/1/calendar?week=2041-W12`);
  await expect(page.locator('#d-2041-03-20').locator(`#post-${bread} time`)).toHaveText('10:00');
  await page.locator(`#post-${bread} .entry-head`).dragTo(page.locator('#d-2041-03-21 li.hour[data-hour="15"]'));
  await expect(page.getByText('Het bericht is verplaatst.')).toBeVisible();
  await page.reload();
  await expect(page.locator('#d-2041-03-21 li.hour[data-hour="15"]').locator(`#post-${bread} time`)).toHaveText('15:00');

  // Into the hour the clock skips: refused in place, in words.
  await page.goto(`${server.url}/w/1/calendar?week=2041-W13`);
  await page.locator(`#post-${night} .entry-head`).dragTo(page.locator('#d-2041-03-31 li.hour[data-hour="02"]'));
  await expect(page.locator(`#post-${night}`).getByRole('alert')).toHaveText(/02:30 bestaat niet op die dag/);
  await page.reload();
  await expect(page.locator('#d-2041-03-28').locator(`#post-${night} time`)).toHaveText('02:30');

  // In the past: refused next to the post, and it stays where it was.
  await page.goto(`${server.url}/w/1/calendar?month=2020-03`);
  await page.locator(`#post-${old} .entry-head`).dragTo(page.locator('#d-2020-03-20'));
  await expect(page.locator(`#post-${old}`).getByRole('alert')).toHaveText(/Dit tijdstip is al voorbij/);
  await expect(page.getByText('Het bericht is niet verplaatst.')).toBeVisible();
  await page.reload();
  await expect(page.locator('#d-2020-03-10').locator(`#post-${old}`)).toBeVisible();
  await expect(page.locator('#d-2020-03-20 li.entry')).toHaveCount(0);
});
