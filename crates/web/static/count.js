// Live counters for the composer: each channel's text counted as its
// network counts it, exactly as crates/networks/src/length.rs does (the
// server checks again before anything is stored; this only helps while
// typing). Tested against crates/networks/src/length_examples.json by
// e2e/unit/count.test.js.

const URL_LENGTH = 23;

const segmenter = typeof Intl !== 'undefined' && Intl.Segmenter
  ? new Intl.Segmenter(undefined, { granularity: 'grapheme' })
  : null;

/** Grapheme clusters (Bluesky, and Mastodon after its substitutions). */
export function graphemes(text) {
  if (!segmenter) return Array.from(text).length;
  let n = 0;
  for (const _ of segmenter.segment(text)) n += 1;
  return n;
}

function isAlnum(c) {
  return /[\p{Alphabetic}\p{Nd}\p{Nl}\p{No}]/u.test(c);
}

function wordChar(c) {
  return isAlnum(c) || c === '_';
}

const TRAILING = new Set(['.', ',', ';', ':', '!', '?', "'", ']', '*']);

function count(s, sub) {
  let n = 0;
  let i = -1;
  while ((i = s.indexOf(sub, i + 1)) !== -1) n += 1;
  return n;
}

/** Where a link starting at index `start` (UTF-16) of `text` ends. */
function urlEnd(text, start) {
  const rest = text.slice(start);
  let end = rest.length;
  for (let i = 0; i < rest.length; ) {
    const c = String.fromCodePoint(rest.codePointAt(i));
    if (/\s/u.test(c) || c === '<' || c === '>' || c === '"') {
      end = i;
      break;
    }
    i += c.length;
  }
  for (;;) {
    const s = rest.slice(0, end);
    const chars = Array.from(s);
    const last = chars[chars.length - 1];
    if (last === undefined) break;
    const unbalanced = last === ')' && count(s, '(') < count(s, ')');
    if (TRAILING.has(last) || unbalanced) end -= last.length;
    else break;
  }
  return start + end;
}

/** Where the web link starting at `i` ends, if one starts there. */
export function linkAt(text, i, prev) {
  const boundary = prev === undefined || (!wordChar(prev) && prev !== '/' && prev !== '@');
  const rest = text.slice(i);
  if (!boundary || !(rest.startsWith('https://') || rest.startsWith('http://'))) return null;
  const end = urlEnd(text, i);
  return end > i + rest.indexOf('//') + 2 ? end : null;
}

function lastChar(s) {
  const chars = Array.from(s);
  return chars[chars.length - 1];
}

function mastodon(text) {
  let countable = '';
  let i = 0;
  let prev;
  while (i < text.length) {
    const rest = text.slice(i);
    const boundary = prev === undefined || (!wordChar(prev) && prev !== '/' && prev !== '@');
    const end = linkAt(text, i, prev);
    if (end !== null) {
      countable += 'x'.repeat(URL_LENGTH);
      prev = lastChar(text.slice(0, end));
      i = end;
      continue;
    }
    if (boundary && rest.startsWith('@')) {
      const user = /^[A-Za-z0-9_]*/.exec(rest.slice(1))[0].length;
      if (user > 0) {
        let end2 = 1 + user;
        const after = rest.slice(1 + user);
        if (after.startsWith('@')) {
          const raw = /^[A-Za-z0-9.-]*/.exec(after.slice(1))[0];
          const d = raw.replace(/[.-]+$/, '').length;
          if (d > 0) end2 += 1 + d;
        }
        countable += rest.slice(0, 1 + user);
        prev = lastChar(rest.slice(0, end2));
        i += end2;
        continue;
      }
    }
    const c = String.fromCodePoint(text.codePointAt(i));
    countable += c;
    prev = c;
    i += c.length;
  }
  return graphemes(countable);
}

/** The length of `text` as a network counting by `counting` sees it. */
export function countText(text, counting) {
  switch (counting) {
    case 'graphemes': return graphemes(text);
    case 'mastodon': return mastodon(text);
    default: return Array.from(text).length;
  }
}

// UTM tagging as crates/networks/src/utm.rs does it, so a Bluesky count
// includes the campaign's tags.
const UNTAGGED = ['bsky.app', 'bsky.social', 'x.com', 'twitter.com', 'facebook.com', 'fb.com',
  'instagram.com', 'linkedin.com', 'youtube.com', 'youtu.be', 'tiktok.com', 'threads.net', 't.me',
  'wa.me', 'whatsapp.com', 'pinterest.com'];

function host(link) {
  const i = link.indexOf('//');
  const rest = i >= 0 ? link.slice(i + 2) : link;
  const authority = rest.split(/[/?#]/)[0];
  const h = authority.split('@').pop().split(':')[0];
  return h.replace(/\.+$/, '').toLowerCase();
}

function encode(v) {
  let out = '';
  for (const b of new TextEncoder().encode(v)) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

function tagOne(link, source, campaign) {
  const h = host(link);
  if (UNTAGGED.some((u) => h === u || h.endsWith('.' + u))) return link;
  const hash = link.indexOf('#');
  const beforeFragment = hash >= 0 ? link.slice(0, hash) : link;
  const fragment = hash >= 0 ? link.slice(hash + 1) : null;
  const q = beforeFragment.indexOf('?');
  const base = q >= 0 ? beforeFragment.slice(0, q) : beforeFragment;
  const query = q >= 0 ? beforeFragment.slice(q + 1) : null;
  const has = (key) => query !== null &&
    query.split('&').some((pair) => pair.split('=')[0].toLowerCase() === key);
  const added = [['utm_source', source], ['utm_medium', 'social'], ['utm_campaign', campaign]]
    .filter(([k]) => !has(k))
    .map(([k, v]) => `${k}=${encode(v)}`);
  if (added.length === 0) return link;
  let out = base + '?';
  if (query) out += query.endsWith('&') ? query : query + '&';
  out += added.join('&');
  if (fragment !== null) out += '#' + fragment;
  return out;
}

/** `text` with every web link tagged for `source` and `campaign`. */
export function tagLinks(text, source, campaign) {
  const c = campaign.trim();
  if (!c) return text;
  let out = '';
  let i = 0;
  let prev;
  while (i < text.length) {
    const end = linkAt(text, i, prev);
    if (end !== null) {
      const link = text.slice(i, end);
      out += tagOne(link, source, c);
      prev = lastChar(link);
      i = end;
      continue;
    }
    const ch = String.fromCodePoint(text.codePointAt(i));
    out += ch;
    prev = ch;
    i += ch.length;
  }
  return out;
}

// In the page: each channel panel shows its count, and own texts take the
// place of the shared one. Panels of unchosen channels are hidden.
function wire(doc) {
  const form = doc.querySelector('form.compose');
  if (!form) return;
  const shared = form.querySelector('#f-post-text');
  const campaign = form.querySelector('#f-post-campaign');
  const panels = Array.from(form.querySelectorAll('[data-channel]'));
  const update = () => {
    for (const p of panels) {
      const own = p.querySelector('textarea');
      const box = form.querySelector(`input[name="channel"][value="${p.dataset.channel}"]`);
      p.hidden = box ? !box.checked : false;
      const body = (own && own.value.trim()) ? own.value.trim() : shared.value.trim();
      const text = tagLinks(body, p.dataset.network, campaign ? campaign.value : '');
      const n = countText(text, p.dataset.counting);
      const out = p.querySelector('output');
      const max = Number(p.dataset.max || 0);
      if (out) {
        out.textContent = max ? `${n} / ${max}` : String(n);
        out.classList.toggle('over', max > 0 && n > max);
      }
    }
  };
  // Tabs: one per chosen channel, each showing that channel's panel
  // (without script every chosen channel's panel shows, one below another).
  const group = form.querySelector('.per-channel');
  let current = null;
  const list = doc.createElement('div');
  list.setAttribute('role', 'tablist');
  list.className = 'tabs';
  if (group && panels.length > 0) group.insertBefore(list, panels[0]);
  const tabs = () => {
    const chosen = panels.filter((p) => !p.hidden);
    if (!chosen.some((p) => p.dataset.channel === current)) {
      current = chosen.length ? chosen[0].dataset.channel : null;
    }
    list.replaceChildren();
    for (const p of panels) {
      p.setAttribute('role', 'tabpanel');
      p.id = p.id || `panel-${p.dataset.channel}`;
      if (p.hidden) continue;
      const b = doc.createElement('button');
      b.type = 'button';
      b.setAttribute('role', 'tab');
      b.setAttribute('aria-controls', p.id);
      const on = p.dataset.channel === current;
      b.setAttribute('aria-selected', on ? 'true' : 'false');
      b.tabIndex = on ? 0 : -1;
      b.textContent = p.querySelector('label').textContent;
      b.addEventListener('click', () => { current = p.dataset.channel; refresh(); });
      list.appendChild(b);
      p.classList.toggle('tab-hidden', !on);
    }
  };
  list.addEventListener('keydown', (e) => {
    if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return;
    const all = Array.from(list.querySelectorAll('[role="tab"]'));
    const at = all.findIndex((b) => b.getAttribute('aria-selected') === 'true');
    const next = all[(at + (e.key === 'ArrowRight' ? 1 : all.length - 1)) % all.length];
    if (next) { next.click(); const again = list.querySelector('[aria-selected="true"]'); if (again) again.focus(); }
  });
  const refresh = () => { update(); tabs(); };
  form.addEventListener('input', update);
  form.addEventListener('change', refresh);
  refresh();
}

if (typeof document !== 'undefined') wire(document);
