// Monitoring in a real browser: a marketer writes a query with a typo and
// is told where, fixes it, adds a forum's feed as a source, fetches it, and
// sees the negative Dutch post about the brand with its sentiment, while
// none of our pages breaks the Content Security Policy.
import { createServer } from 'node:http';
import { test, expect } from './fixtures.js';

const PASSWORD = 'paars-fietsje-42';
const ANGRY = 'Wat een slechte service bij Bakkerij De Vries, nooit meer!';

function feedServer() {
  const body = `<?xml version="1.0"?><rss version="2.0"><channel><title>Forum</title><link>https://forum.example/</link>
<item><guid>https://forum.example/t/1</guid><link>https://forum.example/t/1</link><title>Klacht</title><description>${ANGRY}</description><pubDate>${new Date(Date.now() - 2 * 3600e3).toUTCString()}</pubDate></item>
<item><guid>https://forum.example/t/2</guid><link>https://forum.example/t/2</link><title>Weer</title><description>Het regent in Utrecht</description><pubDate>${new Date(Date.now() - 3600e3).toUTCString()}</pubDate></item>
</channel></rss>`;
  const srv = createServer((_, res) => { res.writeHead(200, { 'Content-Type': 'application/rss+xml' }); res.end(body); });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${srv.address().port}/feed.xml`, stop: () => srv.close() })));
}

test('a query with a typo is explained, a feed is heard, a negative mention is shown', async ({ page, server }) => {
  const violations = [];
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) violations.push(m.text()); });
  const feed = await feedServer();
  try {
    const r = await fetch(`${server.url}/api/v1/setup`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ organisation: 'Bakkerij De Vries', name: 'Anna de Vries', email: 'anna@bakkerij.nl', password: PASSWORD }),
    });
    expect(r.status).toBe(201);
    await page.goto(`${server.url}/sign-in`);
    await page.getByLabel('E-mailadres').fill('anna@bakkerij.nl');
    await page.getByLabel('Wachtwoord').fill(PASSWORD);
    await page.getByRole('button', { name: 'Aanmelden' }).click();
    await page.getByRole('navigation', { name: 'Werkruimte' }).getByRole('link', { name: 'Monitoring' }).click();
    await page.getByRole('link', { name: 'Zoekvraag toevoegen' }).click();

    await page.locator('#f-new-name').fill('Merk');
    await page.locator('#f-new-query').fill('"bakkerij de vries');
    await page.getByRole('button', { name: 'Zoekvraag toevoegen' }).click();
    await expect(page.getByText('Het aanhalingsteken op positie 1 wordt niet afgesloten.')).toBeVisible();
    await page.locator('#f-new-query').fill('"bakkerij de vries" OR #devries');
    await page.getByRole('button', { name: 'Zoekvraag toevoegen' }).click();
    await expect(page.getByText('De zoekvraag is opgeslagen')).toBeVisible();

    await page.getByRole('link', { name: 'Terug naar monitoring' }).click();
    await page.getByRole('link', { name: 'Bronnen' }).click();
    await page.getByLabel('Adres').fill(feed.url);
    await page.getByRole('button', { name: 'Bron toevoegen' }).click();
    await expect(page.getByText('De bron is toegevoegd')).toBeVisible();
    await page.getByRole('button', { name: 'Nu ophalen' }).click();
    await expect(page.getByText('De bron is opgehaald.')).toBeVisible();
    await expect(page.getByRole('cell', { name: 'Werkt' })).toBeVisible();

    await page.getByRole('link', { name: 'Terug naar monitoring' }).click();
    const mention = page.locator('.mention').filter({ hasText: ANGRY });
    await expect(mention).toBeVisible();
    await expect(mention.getByText('Negatief')).toBeVisible();
    await expect(page.getByText('Het regent in Utrecht')).toHaveCount(0);
    await page.getByRole('link', { name: 'Negatief' }).click();
    await expect(mention).toBeVisible();

    // Alerts: the first query brought two rules; a watched word is added.
    await page.getByRole('link', { name: 'Waarschuwingen' }).click();
    await expect(page.getByText('Piek in alle vermeldingen: minstens 10 vermeldingen in 60 minuten en 3 keer het gewone')).toBeVisible();
    await page.getByLabel('Soort', { exact: true }).selectOption('words');
    await page.getByLabel('Gevolgde woorden, één per regel (gevolgde woorden)').fill('schimmel');
    await page.getByRole('button', { name: 'Regel toevoegen' }).click();
    await expect(page.getByText('De regel is toegevoegd.')).toBeVisible();
    await expect(page.getByText('Gevolgde woorden in alle vermeldingen: schimmel')).toBeVisible();

    // Share of voice: the brand query against nobody yet, with its share.
    await page.getByRole('link', { name: 'Terug naar monitoring' }).click();
    await page.getByRole('link', { name: 'Aandeel in het gesprek' }).click();
    await expect(page.getByRole('heading', { name: 'Aandeel in het gesprek' })).toBeVisible();
    await expect(page.getByRole('cell', { name: '100%' })).toBeVisible();
    expect(violations).toEqual([]);
  } finally {
    feed.stop();
  }
});
