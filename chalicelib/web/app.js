// Social media maturity check: the web questionnaire. Vanilla JS, no build step (docs/WEB.md).
//
// Every URL is relative to the page ("v1/...", "static/..."), so the page also works below an
// API Gateway stage prefix such as /api/. The result token only ever travels in a request
// header (X-Result-Token) and in the URL fragment (#result=...), never in a request URL.
//
// This file is the entry point (<script type="module" src="static/app.js">); the other modules
// beside it are plain ES modules served by /static/{name} (chalicelib/web/__init__.py).

import { $, focusEl, h, setView } from './dom.js';
import { flushSave, resumeDraft, scheduleSave, setUrl } from './draft.js';
import { renderForm } from './form.js';
import { EMBED, EMBED_VERSION, embedSecret, emitHeight } from './frame.js';
import { entrySection } from './history.js';
import { TEXT, t } from './i18n.js';
import { parseOrgHash, showCreate, showOrg } from './org.js';
import { applyBranding, applyLang, initialLang, renderLoadError } from './page.js';
import { emitReady, loadQuestionnaire, renderIntro, setQuestionnaire, showIntro } from './questionnaire.js';
import { parseRespondHash, showRespondent } from './respondent.js';
import { parseResultHash, showResult } from './result.js';
import { LANGS, state } from './state.js';
import { clearAnswers } from './submit.js';

export async function switchLang(lang) {
  if (lang === state.lang || !LANGS.includes(lang)) return;
  applyLang(lang);
  if (state.brand) applyBranding(state.brand); // link texts
  if (['org', 'org-new', 'respondent'].includes(state.view)) {
    await routeOrganisation(); // reloads the view in the new language (answers kept in memory)
    return;
  }
  const seq = ++state.seq;
  if (state.view === 'result' && state.result) {
    await showResult(state.result.id, state.result.token, null, state.result.fresh);
    return;
  }
  if (state.view === 'form' || state.view === 'intro') {
    const version = state.q ? state.q.version : 'latest';
    const q = await loadQuestionnaire(lang, version);
    if (seq !== state.seq) return;
    if (!q) {
      renderLoadError(t().loadFailed, () => switchLang(lang));
      return;
    }
    setQuestionnaire(q);
    // server messages are English only; re-word the ones we know, keep the others
    for (const [qid, msg] of Object.entries(state.errors)) {
      if (msg === TEXT.en.required || msg === TEXT.de.required) state.errors[qid] = t().required;
    }
    state.submission = null; // the body names the language
    if (state.view === 'form') {
      renderForm(null);
      if (state.draft.id) scheduleSave();
    } else renderIntro();
    return;
  }
  if (state.view === 'message' && state.retry) state.retry();
}

/** #org-new, #org=<owner token>, #respond=<invite token>: the organisation pages (not in a
 * partner's frame); true when the address was one of them. */
async function routeOrganisation() {
  if (EMBED) return false;
  const org = parseOrgHash();
  if (org === 'new') {
    await showCreate();
    return true;
  }
  if (org) {
    await showOrg(org.token);
    return true;
  }
  const invite = parseRespondHash();
  if (invite) {
    await showRespondent(invite);
    return true;
  }
  return false;
}

export async function route() {
  if (await routeOrganisation()) return;
  if (EMBED && !EMBED.key && !embedSecret) {
    // session flow without its client secret: nothing could be submitted
    state.view = 'message';
    setView(h('div', { class: 'panel alert alert-error', role: 'alert', id: 'embed-error' }, h('p', {}, t().embedNoCredential)));
    emitReady();
    return;
  }
  const res = parseResultHash();
  if (res) {
    await showResult(res.id, res.token, null, false);
    return;
  }
  const draft = new URLSearchParams(location.search).get('draft');
  if (draft) {
    await resumeDraft(draft);
    return;
  }
  await showIntro();
}

export /** Back / Forward: between sections within the form; from or to another view, the entry's
 * address decides (a draft link, a result link, the start page). Entries without our state
 * (a fragment typed into the address bar) are left to hashchange. */
function onHistory(e) {
  const s = e.state;
  if (!s || !s.smm) return;
  if (s.smm === 'form' && state.view === 'form') {
    const i = entrySection(s);
    if (i === null) return;
    state.section = i;
    if (state.draft.id) setUrl({ draft: state.draft.id }); // entries from before the first save
    renderForm('heading');
    return;
  }
  if (s.smm === 'intro' && state.view === 'form') {
    showIntro(); // the answers stay; starting again keeps them
    return;
  }
  if (s.smm === 'result' && state.view === 'result' && parseResultHash()) return;
  // leaving a result through history: its answers are submitted, a later start is a new one
  if (state.view === 'result') clearAnswers();
  ++state.seq;
  route();
}

function bootEmbed() {
  if (!EMBED) return;
  document.documentElement.classList.add('embed');
  if (EMBED.branding) state.brand = EMBED.branding;
  window.addEventListener('message', (e) => {
    // only the embedding page (its window and its origin) may talk to the widget
    if (e.source !== window.parent || e.origin !== EMBED.parent_origin) return;
    const m = e.data;
    if (!m || typeof m !== 'object' || m.source !== 'smm-host' || m.version !== EMBED_VERSION) return;
    if (m.type === 'set_language' && LANGS.includes(m.language)) switchLang(m.language);
    else if (m.type === 'request_height') emitHeight(true);
  });
  if (typeof ResizeObserver === 'function') new ResizeObserver(() => emitHeight()).observe(document.body);
}

export function boot() {
  bootEmbed();
  applyLang(initialLang());
  if (state.brand) applyBranding(state.brand);
  for (const b of document.querySelectorAll('.lang-switch button')) {
    b.addEventListener('click', () => switchLang(b.dataset.lang));
  }
  $('#skip-link').addEventListener('click', (e) => {
    e.preventDefault(); // keep #result=... in the address bar
    const target = $('#view h1') || $('#main');
    focusEl(target);
  });
  window.addEventListener('hashchange', () => {
    if (parseResultHash() || parseOrgHash() || parseRespondHash()) route();
  });
  window.addEventListener('popstate', onHistory);
  window.addEventListener('pagehide', flushSave);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') flushSave();
  });
  route();
}

boot();
