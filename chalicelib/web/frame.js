// Embed mode (the page in a partner's iframe at /embed): the partner's settings from <html data-embed>, the session secret and postMessage events.

// At /embed the server puts the partner's validated settings into <html data-embed="...">
// (chalicelib/embed.py): the embedding page's origin (the only target of postMessage and the
// only accepted sender of messages), the publishable key, prefill answers, the partner's
// reference id and its white label. A session client secret arrives in the URL fragment
// (#client_secret=...), is kept in memory only and removed from the address at once.
export const EMBED_VERSION = 1;

export const EMBED = readEmbed();
export let embedSecret = null;

if (EMBED) {
  const m = /^#client_secret=([A-Za-z0-9_.-]{20,800})$/.exec(location.hash);
  if (m) embedSecret = m[1];
  if (location.hash) history.replaceState(null, '', `${location.pathname}${location.search}`);
}

export function readEmbed() {
  const raw = document.documentElement.dataset.embed;
  if (!raw) return null;
  try {
    const c = JSON.parse(raw);
    return c && c.v === EMBED_VERSION && typeof c.parent_origin === 'string' ? c : null;
  } catch {
    return null;
  }
}

/** Send an event to the embedding page: {source, version, type, ...data}, to its origin only. */
export function emit(type, data = {}) {
  if (!EMBED || window.parent === window) return;
  window.parent.postMessage({ source: 'smm-widget', version: EMBED_VERSION, type, ...data }, EMBED.parent_origin);
}

export let lastHeight = 0;

export function emitHeight(force = false) {
  const body = document.body;
  const style = getComputedStyle(body);
  const height = Math.ceil(body.getBoundingClientRect().height + parseFloat(style.marginTop) + parseFloat(style.marginBottom));
  if (!force && height === lastHeight) return;
  lastHeight = height;
  emit('height_changed', { height });
}
