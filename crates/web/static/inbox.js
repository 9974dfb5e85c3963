// The inbox, live and by keyboard. Every form works without this script;
// it adds: the list (and an open conversation) refreshing itself when a
// conversation changes (server-sent events), the reply counter as the
// network counts, and shortcuts (j/k to move through the list, / to
// search, r to reply, n for a note, u back to the list).

import { countText } from './count.js';

// A picture from outside that Dialoog could not fetch (or would not:
// not an image, too large, a private address) becomes a sentence in the
// reader's language instead of a broken image. Capture, since `error`
// does not bubble; it also covers pictures that arrive with a refresh.
document.addEventListener('error', (e) => {
  const img = e.target;
  if (!(img instanceof HTMLImageElement) || !img.dataset.failed) return;
  const note = document.createElement('span');
  note.className = 'media-failed';
  note.textContent = img.alt ? `${img.dataset.failed} (${img.alt})` : img.dataset.failed;
  img.replaceWith(note);
}, true);

const typing = (el) => el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));

async function refresh(selector) {
  const res = await fetch(window.location.href, { credentials: 'same-origin' });
  if (!res.ok) return false;
  const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
  const fresh = doc.querySelector(selector);
  const here = document.querySelector(selector);
  if (!fresh || !here) return false;
  here.replaceChildren(...Array.from(fresh.childNodes).map((n) => document.importNode(n, true)));
  return true;
}

function live(url, selector, onChange) {
  if (!url || typeof EventSource === 'undefined') return;
  const events = new EventSource(url);
  let busy = false;
  events.addEventListener('changed', async () => {
    if (busy) return;
    busy = true;
    try {
      if (await refresh(selector)) onChange();
    } finally {
      busy = false;
    }
  });
}

const list = document.getElementById('inbox-list');
if (list) {
  const status = document.getElementById('inbox-live');
  live(list.dataset.events, '#inbox-list', () => {
    if (status) status.textContent = list.dataset.new || '';
  });
  document.addEventListener('keydown', (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
    const links = Array.from(list.querySelectorAll('.conversation-link'));
    const at = links.indexOf(document.activeElement);
    if (e.key === 'j' || e.key === 'k') {
      const next = links[e.key === 'j' ? Math.min(at + 1, links.length - 1) : Math.max(at - 1, 0)];
      if (next) { next.focus(); e.preventDefault(); }
    } else if (e.key === '/') {
      const q = document.getElementById('inbox-q');
      if (q) { q.focus(); e.preventDefault(); }
    }
  });
}

const messages = document.getElementById('messages');
if (messages) {
  const reply = document.getElementById('f-reply');
  const out = document.getElementById('reply-count');
  if (reply && out && reply.dataset.counting) {
    const max = Number(reply.dataset.max || 0);
    const update = () => {
      const n = countText(reply.value, reply.dataset.counting);
      out.textContent = max ? `${n} / ${max}` : String(n);
      out.classList.toggle('over', max > 0 && n > max);
    };
    reply.addEventListener('input', update);
    update();
  }
  // Tell the server the page is open (and when its reader types), and
  // show who else is here.
  const presence = document.getElementById('presence');
  if (presence) {
    let typedAt = 0;
    const beat = async (typing) => {
      const body = new URLSearchParams({ _csrf: presence.dataset.csrf, typing: typing ? '1' : '0' });
      try {
        const r = await fetch(presence.dataset.url, { method: 'POST', body, credentials: 'same-origin' });
        if (!r.ok) return;
        const text = await r.text();
        presence.textContent = text;
        presence.hidden = text === '';
      } catch {
        // offline for a moment: the next beat tries again
      }
    };
    setInterval(() => beat(Date.now() - typedAt < 10_000), 5_000);
    if (reply) {
      reply.addEventListener('input', () => {
        const now = Date.now();
        if (now - typedAt > 4_000) beat(true);
        typedAt = now;
      });
    }
  }
  const back = document.getElementById('back-to-inbox');
  const ws = back ? back.getAttribute('href') : '';
  if (ws) live(`${ws}/events?since=${Date.now()}`, '#messages', () => {});
  document.addEventListener('keydown', (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
    const go = { r: 'f-reply', n: 'f-note' }[e.key];
    if (go) {
      const el = document.getElementById(go);
      if (el) { el.focus(); e.preventDefault(); }
    } else if (e.key === 'u' && back) {
      back.click();
    }
  });
}
