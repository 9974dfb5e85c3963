// The first steps a small business takes with Dialoog, in a real browser.
import { test, expect } from './fixtures.js';

const PASSWORD = 'paars-fietsje-42';

async function setUp(page, server) {
  await page.goto(server.url);
  await expect(page).toHaveURL(/\/setup$/);
  await page.getByLabel('Organisatie').fill('Bakkerij De Vries');
  await page.getByLabel('Naam').fill('Anna de Vries');
  await page.getByLabel('E-mailadres').fill('anna@bakkerij.nl');
  await page.getByLabel('Nieuw wachtwoord').fill(PASSWORD);
  await page.getByRole('button', { name: 'Dialoog inrichten' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Bakkerij De Vries');
}

test('first-run setup, sign out and sign in again', async ({ page, server }) => {
  await page.goto(server.url);
  await expect(page.locator('html')).toHaveAttribute('lang', 'nl');
  // A weak password is refused with a message next to the field.
  await page.getByLabel('Organisatie').fill('Bakkerij De Vries');
  await page.getByLabel('Naam').fill('Anna de Vries');
  await page.getByLabel('E-mailadres').fill('anna@bakkerij.nl');
  await page.getByLabel('Nieuw wachtwoord').fill('wachtwoord');
  await page.getByRole('button', { name: 'Dialoog inrichten' }).click();
  await expect(page.getByText('Dit wachtwoord is te makkelijk te raden. Kies een ander.')).toBeVisible();
  await expect(page.getByLabel('E-mailadres')).toHaveValue('anna@bakkerij.nl');
  await page.getByLabel('Nieuw wachtwoord').fill(PASSWORD);
  await page.getByRole('button', { name: 'Dialoog inrichten' }).click();
  await expect(page.getByText('Jouw rol hier: Eigenaar.')).toBeVisible();
  // Monitoring starts by asking what to listen for.
  await page.getByRole('navigation', { name: 'Werkruimte' }).getByRole('link', { name: 'Monitoring' }).click();
  await expect(page.getByRole('heading', { name: 'Monitoring' })).toBeVisible();
  await expect(page.getByText('Nog geen zoekvragen').first()).toBeVisible();
  // The areas to come say what they will do.
  await page.getByRole('navigation', { name: 'Werkruimte' }).getByRole('link', { name: 'Campagnes' }).click();
  await expect(page.getByText('Aan dit deel van Dialoog wordt gebouwd.')).toBeVisible();

  await page.getByRole('button', { name: 'Afmelden' }).click();
  await expect(page.getByText('Je bent afgemeld.')).toBeVisible();
  await page.getByLabel('E-mailadres').fill('anna@bakkerij.nl');
  await page.getByLabel('Wachtwoord').fill('niet-mijn-wachtwoord');
  await page.getByRole('button', { name: 'Aanmelden' }).click();
  await expect(page.getByText('Dit e-mailadres en wachtwoord horen niet bij elkaar.')).toBeVisible();
  await page.getByLabel('Wachtwoord').fill(PASSWORD);
  await page.getByRole('button', { name: 'Aanmelden' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Bakkerij De Vries');
});

test('create a workspace, invite a colleague who accepts and signs in', async ({ page, browser, server }) => {
  await setUp(page, server);
  await page.goto(`${server.url}/workspaces`);
  await page.getByLabel('Naam van de werkruimte').fill('Fietsenwinkel Jansen');
  await page.getByLabel('Tijdzone').fill('Europe/Brussels');
  await page.getByRole('button', { name: 'Werkruimte aanmaken' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Fietsenwinkel Jansen');
  await expect(page.getByText('Tijdzone: Europe/Brussels')).toBeVisible();

  await page.getByRole('link', { name: 'Leden' }).click();
  await page.getByLabel('E-mailadres').fill('bob@jansen.be');
  await page.getByLabel('Rol', { exact: true }).selectOption('agent');
  await page.getByRole('button', { name: 'Toevoegen' }).click();
  const link = await page.getByLabel('Uitnodigingslink').inputValue();
  expect(link).toContain('/invite/');

  // The colleague opens the link in their own browser, in English.
  const bobContext = await browser.newContext({ locale: 'en-GB' });
  const bob = await bobContext.newPage();
  await bob.goto(link);
  await expect(bob.locator('html')).toHaveAttribute('lang', 'en');
  await expect(bob.getByText('You are invited to the workspace Fietsenwinkel Jansen as Webcare agent.')).toBeVisible();
  await bob.getByLabel('Name').fill('Bob Jansen');
  await bob.getByLabel('New password').fill('bob-fietst-naar-gent');
  await bob.getByRole('button', { name: 'Join' }).click();
  await expect(bob.getByRole('heading', { level: 1 })).toHaveText('Fietsenwinkel Jansen');
  await expect(bob.getByText('Your role here: Webcare agent.')).toBeVisible();
  // An agent has no settings or audit log.
  await expect(bob.getByRole('link', { name: 'Settings' })).toHaveCount(0);

  await bob.getByRole('button', { name: 'Sign out' }).click();
  await bob.getByLabel('E-mail address').fill('bob@jansen.be');
  await bob.getByLabel('Password').fill('bob-fietst-naar-gent');
  await bob.getByRole('button', { name: 'Sign in' }).click();
  await expect(bob.getByRole('heading', { level: 1 })).toHaveText('Fietsenwinkel Jansen');
  await bobContext.close();

  // The owner sees the new member and the audit trail.
  await page.reload();
  await expect(page.getByRole('cell', { name: 'bob@jansen.be' })).toBeVisible();
  await page.getByRole('link', { name: 'Logboek' }).click();
  await expect(page.getByRole('cell', { name: 'Uitnodiging aangenomen' })).toBeVisible();
});

test('switch the language, and keep it', async ({ page, server }) => {
  await setUp(page, server);
  await page.getByRole('button', { name: 'English' }).click();
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
  await expect(page.getByText('Your role here: Owner.')).toBeVisible();
  await page.getByRole('link', { name: /My account/ }).click();
  await expect(page.getByLabel('Language')).toHaveValue('en');
  await page.getByLabel('Language').selectOption('nl');
  await page.getByRole('button', { name: 'Save' }).first().click();
  await expect(page.locator('html')).toHaveAttribute('lang', 'nl');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Mijn account');
});

test('works on a 360-pixel phone and by keyboard alone', async ({ browser, server }) => {
  const context = await browser.newContext({ viewport: { width: 360, height: 740 }, locale: 'nl-NL' });
  const page = await context.newPage();
  await page.goto(server.url);
  // Keyboard only: tab from the top of the page through the setup form.
  await page.keyboard.press('Tab');
  await expect(page.getByRole('link', { name: 'Naar de inhoud' })).toBeFocused();
  await page.getByLabel('Organisatie').focus();
  await page.keyboard.type('Bakkerij De Vries');
  await page.keyboard.press('Tab');
  await page.keyboard.type('Anna');
  await page.keyboard.press('Tab');
  await page.keyboard.type('anna@bakkerij.nl');
  await page.keyboard.press('Tab');
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Bakkerij De Vries');
  // Nothing is wider than the screen.
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  // Focus is visible: the focused element has an outline.
  await page.getByRole('link', { name: 'Dialoog' }).focus();
  const outline = await page.getByRole('link', { name: 'Dialoog' }).evaluate((el) => getComputedStyle(el).outlineStyle);
  expect(outline).not.toBe('none');
  await context.close();
});
