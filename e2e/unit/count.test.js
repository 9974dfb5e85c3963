// The composer's live counter counts as the server does: every example the
// Rust counting is tested with (crates/networks/src/length_examples.json),
// and the campaign tags as crates/networks/src/utm.rs adds them.
// Run: node --test unit/ (scripts/test runs it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { countText, tagLinks } from '../../crates/web/static/count.js';

const examples = JSON.parse(
  readFileSync(new URL('../../crates/networks/src/length_examples.json', import.meta.url), 'utf8'),
);

test('every example counts as length.rs counts it', () => {
  assert.ok(examples.length >= 20);
  for (const e of examples) {
    assert.equal(countText(e.text, 'graphemes'), e.graphemes, `graphemes of ${JSON.stringify(e.text)}`);
    assert.equal(countText(e.text, 'mastodon'), e.mastodon, `Mastodon count of ${JSON.stringify(e.text)}`);
    assert.equal(countText(e.text, 'characters'), e.characters, `characters of ${JSON.stringify(e.text)}`);
  }
});

const tagging = JSON.parse(
  readFileSync(new URL('../../crates/networks/src/utm_examples.json', import.meta.url), 'utf8'),
);

test('links are tagged as utm.rs tags them', () => {
  assert.ok(tagging.length >= 5);
  for (const e of tagging) {
    assert.equal(tagLinks(e.text, e.source, e.campaign), e.tagged, `tagging ${JSON.stringify(e.text)}`);
  }
});
