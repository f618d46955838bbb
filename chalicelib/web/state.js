// The page's state: constants, the one mutable state object, the questionnaire cache and localStorage.

export const QUESTIONNAIRE_ID = 'smm';
export const LANGS = ['de', 'en'];
export const STORE_LANG = 'smm.lang';
export const STORE_DRAFT = 'smm.draft';
export const STORE_PREVIOUS = 'smm.previous'; // the result a re-assessment links (progress.js)
export const STORE_SUBMITTED = 'smm.submitted'; // submitted draft id -> its result (draft.js)
export const SUBMIT_TIMEOUT_MS = 30000;
export const SAVE_DELAY_MS = 800;
export const SELECT_MIN_OPTIONS = 12; // more options than this: a <select> instead of radio buttons
export const MAX_DURATION = 60 * 60 * 24 * 30;

export const state = {
  lang: 'en',
  view: 'boot', // intro | form | result | message
  q: null, // the questionnaire in the current language
  index: new Map(), // question id -> {question, section, number}
  section: 0,
  answers: {},
  errors: {}, // question id -> message
  generalErrors: [], // messages not tied to a question
  started: false, // the current assessment's clock runs (set on start or resume)
  startedAt: Date.now(), // when this session's part of the clock began
  elapsedBefore: 0, // seconds spent in earlier sessions (kept in the draft)
  submission: null, // {key, body}: kept for retries so a retry is byte-identical
  submitting: false,
  submitFailure: null, // {message}
  draft: { id: null, expiresAt: null, timer: null, saving: false, dirty: false, failures: 0, status: 'idle', disabled: false },
  result: null, // {id, token, data, fresh}
  charts: [],
  previous: null, // {id, token, created_at, draft}: the result this assessment re-assesses
  population: 'users', // peers: organisations that use social media (default) or all
  seq: 0, // increases on each navigation: late answers of older requests are dropped
  brand: null, // the partner's white label (embed mode, or a partner's result)
  emitted: { ready: false, section: -1 },
};

export const qCache = new Map();

/** Seconds spent on this assessment: earlier sessions (from the draft) plus this one. */
export function elapsedSeconds() {
  const now = Math.round((Date.now() - state.startedAt) / 1000);
  return Math.min(MAX_DURATION, Math.max(0, state.elapsedBefore + now));
}

export function storageGet(key) {
  try {
    return window.localStorage.getItem(key);
  } catch {
    return null;
  }
}

export function storageSet(key, value) {
  try {
    if (value === null) window.localStorage.removeItem(key);
    else window.localStorage.setItem(key, value);
  } catch {
    /* private mode: nothing to remember */
  }
}
