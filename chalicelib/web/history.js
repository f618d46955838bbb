// Browser history: every questionnaire section is a history entry, so the browser's Back and
// Forward buttons (and the back gesture on phones) move between sections instead of leaving
// the page. Entries carry {smm: 'intro' | 'form' | 'result', section}; the address itself is
// kept by setUrl (draft.js) and never changes here.

import { state } from './state.js';

const here = () => `${location.pathname}${location.search}${location.hash}`;

/** Mark the current entry (no new entry): the page shows this view and section now. */
export function markEntry(view, section = null) {
  try {
    history.replaceState({ smm: view, section }, '', here());
  } catch {
    /* a sandboxed frame may refuse: history stays as it is */
  }
}

/** A new entry for a section the respondent moves to (none when it is the current one). */
export function pushSection(i) {
  const s = history.state;
  if (s && s.smm === 'form' && s.section === i) return;
  try {
    history.pushState({ smm: 'form', section: i }, '', here());
  } catch {
    /* as above */
  }
}

/** The section an entry names, within the questionnaire (null when it names none). */
export function entrySection(s) {
  if (!s || s.smm !== 'form' || !state.q || !Number.isInteger(s.section)) return null;
  return Math.max(0, Math.min(s.section, state.q.sections.length - 1));
}
