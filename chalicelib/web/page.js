// The page frame: language, title, white label, loading and error views.

import { destroyCharts } from './charts.js';
import { $, h, setView } from './dom.js';
import { EMBED } from './frame.js';
import { t } from './i18n.js';
import { LANGS, STORE_LANG, state, storageGet, storageSet } from './state.js';

export function initialLang() {
  if (EMBED && LANGS.includes(EMBED.lang)) return EMBED.lang;
  const saved = storageGet(STORE_LANG);
  if (LANGS.includes(saved)) return saved;
  if (state.brand && LANGS.includes(state.brand.language)) return state.brand.language;
  const nav = (navigator.languages && navigator.languages[0]) || navigator.language || 'en';
  return nav.toLowerCase().startsWith('de') ? 'de' : 'en';
}

export function applyLang(lang) {
  state.lang = LANGS.includes(lang) ? lang : 'en';
  storageSet(STORE_LANG, state.lang);
  document.documentElement.lang = state.lang;
  const tx = t();
  $('#brand-name').textContent = state.brand ? state.brand.display_name : tx.brand;
  $('#skip-link').textContent = tx.skip;
  $('#footer-text').textContent = tx.footer;
  renderFooterLinks();
  $('.lang-switch').setAttribute('aria-label', tx.langGroup);
  for (const b of document.querySelectorAll('.lang-switch button')) {
    b.setAttribute('aria-pressed', String(b.dataset.lang === state.lang));
  }
  setTitle();
}

export function setTitle(part) {
  const brand = state.brand ? state.brand.display_name : t().brand;
  document.title = part ? `${part} – ${brand}` : brand;
}

export function hexToRgb(hex) {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

export function mix(rgb, other, share) {
  const c = rgb.map((v, i) => Math.round(v * (1 - share) + other[i] * share));
  return `rgb(${c.join(', ')})`;
}

/** The partner's display name, logo, colour and imprint/privacy links (chalicelib/branding.py:
 * validated server side; the logo is a data: URL, allowed by img-src 'self' data:). */
export function applyBranding(b) {
  if (!b || typeof b.display_name !== 'string') return;
  state.brand = b;
  const root = document.documentElement;
  root.classList.add('branded');
  if (/^#[0-9a-f]{6}$/i.test(b.primary_color || '')) {
    const rgb = hexToRgb(b.primary_color);
    root.style.setProperty('--accent', b.primary_color);
    root.style.setProperty('--accent-dark', mix(rgb, [0, 0, 0], 0.25));
    root.style.setProperty('--accent-mid', mix(rgb, [255, 255, 255], 0.7));
    root.style.setProperty('--accent-soft', mix(rgb, [255, 255, 255], 0.88));
    root.style.setProperty('--accent-fill', `rgba(${rgb.join(', ')}, 0.18)`);
    root.style.setProperty('--focus', mix(rgb, [0, 0, 0], 0.35));
  }
  const brand = $('.brand');
  const old = $('#brand-logo');
  if (old) old.remove();
  if (typeof b.logo === 'string' && b.logo.startsWith('data:image/')) {
    const mark = $('.brand-mark');
    if (mark) mark.hidden = true;
    brand.prepend(h('img', { id: 'brand-logo', class: 'brand-logo', src: b.logo, alt: '' }));
  }
  $('#brand-name').textContent = b.display_name;
  renderFooterLinks();
  setTitle();
}

/** The operator's settings put into <html data-site="..."> by the server
 * (chalicelib/web.page: IMPRINT_URL, PRIVACY_URL, k); empty in a partner's frame. */
export const SITE = readSite();

function readSite() {
  try {
    const s = JSON.parse(document.documentElement.dataset.site || '{}');
    return s && typeof s === 'object' ? s : {};
  } catch {
    return {};
  }
}

/** Imprint and privacy-policy links in the footer: a partner's own (white label) where it
 * has them, else the operator's. */
export function renderFooterLinks() {
  const https = (u) => typeof u === 'string' && /^https:\/\/[^\s]+$/.test(u);
  const b = state.brand || {};
  const imprint = https(b.imprint_url) ? b.imprint_url : SITE.imprint_url;
  const privacy = https(b.privacy_url) ? b.privacy_url : SITE.privacy_url;
  const tx = t();
  const items = [];
  if (https(imprint)) items.push(h('a', { href: imprint, target: '_blank', rel: 'noopener noreferrer', id: 'imprint-link' }, tx.imprint));
  if (https(privacy)) items.push(h('a', { href: privacy, target: '_blank', rel: 'noopener noreferrer', id: 'privacy-link' }, tx.privacy));
  let links = $('#footer-links');
  if (!items.length) {
    if (links) links.remove();
    return;
  }
  if (!links) {
    links = h('p', { id: 'footer-links', class: 'footer-links' });
    $('.site-footer .wrap').append(links);
  }
  links.replaceChildren(...items.flatMap((a, i) => (i ? [' · ', a] : [a])));
}

export function renderLoading() {
  destroyCharts();
  setView(h('p', { class: 'loading', role: 'status' }, t().loading));
}

export function renderLoadError(message, retry) {
  destroyCharts();
  state.view = 'message';
  state.retry = retry;
  const btn = h('button', { type: 'button', class: 'btn btn-primary', onclick: () => retry() }, t().tryAgain);
  setView(
    h('div', { class: 'panel alert alert-error', role: 'alert' }, h('p', {}, message), h('p', {}, btn)),
  );
}
