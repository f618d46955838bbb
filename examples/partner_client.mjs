// A partner's server-side client of the assessment API (Node.js 18+, no dependencies).
// The same conventions as examples/partner_client.py and docs/PARTNERS.md: a fresh
// Idempotency-Key per submission, reused on its retries; waiting for Retry-After on 429 and
// 503; the RateLimit headers; walking a list by its next_cursor.
//
//   make run   # in another terminal
//   .venv/bin/python -m chalicelib.cli partner create --name Shop --scopes submit,read
//   SMM_PARTNER_KEY=smmk_... node examples/partner_client.mjs [http://127.0.0.1:8000]
//
// Never run this in a browser: a partner key is a server-side secret.
// The last line printed is a JSON summary (the test reads it).

import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';

const MAX_WAIT_SECONDS = 60;

/** '"rate";r=41;t=30, "quota";r=999;t=50000' -> { rate: { r: 41, t: 30 }, quota: {...} } */
export function parseRateLimit(value) {
  const out = {};
  for (const [, name, params] of (value || '').matchAll(/"([^"]+)"((?:;[a-z]+=\d+)*)/g)) {
    out[name] = Object.fromEntries(
      [...params.matchAll(/;([a-z]+)=(\d+)/g)].map(([, k, v]) => [k, Number(v)]),
    );
  }
  return out;
}

export class PartnerClient {
  constructor(baseUrl, key, { maxRetries = 3, sleep } = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.key = key;
    this.maxRetries = maxRetries;
    this.sleep = sleep || ((s) => new Promise((resolve) => setTimeout(resolve, s * 1000)));
    this.rateLimit = {};
  }

  /** One call; 429/503 and network errors are retried after Retry-After (bounded). */
  async request(method, path, body, headers = {}) {
    const init = {
      method,
      headers: { Authorization: `Bearer ${this.key}`, Accept: 'application/json', ...headers },
    };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers['Content-Type'] = 'application/json';
    }
    for (let attempt = 0; ; attempt++) {
      let res;
      try {
        res = await fetch(this.baseUrl + path, init);
      } catch (err) {
        if (attempt >= this.maxRetries) throw err;
        await this.sleep(Math.min(2 ** attempt, MAX_WAIT_SECONDS));
        continue;
      }
      this.rateLimit = parseRateLimit(res.headers.get('RateLimit'));
      const text = await res.text();
      const answer = { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
      if ((res.status === 429 || res.status === 503) && attempt < this.maxRetries) {
        const wait = Number(res.headers.get('Retry-After')) || 1;
        await this.sleep(Math.min(Math.max(wait, 1), MAX_WAIT_SECONDS));
        continue;
      }
      return answer;
    }
  }

  /** A retry with the same key and body within 24 h replays the original result. */
  submit(submission, idempotencyKey = randomUUID()) {
    return this.request('POST', '/v1/partner/assessments', submission, {
      'Idempotency-Key': idempotencyKey,
    });
  }

  /** Every assessment of this partner, newest first, page by page. */
  async *assessments({ limit = 20, ...filters } = {}) {
    const query = new URLSearchParams({ limit: String(limit), ...filters });
    for (;;) {
      const answer = await this.request('GET', `/v1/partner/assessments?${query}`);
      if (answer.status !== 200) throw new Error(`listing failed: ${answer.status}`);
      yield* answer.body.items;
      if (answer.body.next_cursor === null) return;
      query.set('cursor', answer.body.next_cursor); // same filters: the cursor is bound to them
    }
  }
}

async function main() {
  const base = process.argv[2] || process.env.SMM_BASE_URL || 'http://127.0.0.1:8000';
  const key = process.env.SMM_PARTNER_KEY;
  if (!key) {
    console.log('set SMM_PARTNER_KEY to a partner key with the scopes submit and read');
    return 2;
  }
  const client = new PartnerClient(base, key);
  const submission = JSON.parse(
    await readFile(new URL('./assessment.json', import.meta.url), 'utf-8'),
  );
  const idempotencyKey = randomUUID(); // one per submission, kept for its retries
  const first = await client.submit(submission, idempotencyKey);
  if (first.status !== 201) {
    console.log(`submission failed: ${first.status} ${JSON.stringify(first.body)}`);
    return 1;
  }
  const assessment = first.body;
  console.log(`stored ${assessment.id}: phase ${assessment.result.phase.number}`);
  const retry = await client.submit(submission, idempotencyKey);
  const replayed = retry.headers.get('Idempotent-Replayed') === 'true';
  console.log(`retry: ${retry.status}, replayed: ${replayed}`);
  const listed = [];
  for await (const a of client.assessments({ limit: 2, since: assessment.created_at })) listed.push(a.id);
  console.log(`${listed.length} assessment(s) since ${assessment.created_at}`);
  console.log(JSON.stringify({ id: assessment.id, replayed, listed, rate_limit: client.rateLimit }));
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main();
}
