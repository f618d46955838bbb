// fetch with a time limit for the JSON API (relative URLs: the page also works below a stage prefix).

export const TIMEOUT_MS = 20000;
export const UNAVAILABLE = new Set([403, 404, 405, 501]); // route not (yet) deployed

/** fetch with a time limit; never throws. {ok, status, data, network} */
export async function api(path, { method = 'GET', body, headers = {}, timeout = TIMEOUT_MS, blob = false } = {}) {
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), timeout);
  const h2 = { Accept: blob ? 'application/pdf' : 'application/json', ...headers };
  if (body !== undefined) h2['Content-Type'] = 'application/json';
  try {
    const res = await fetch(path, {
      method,
      headers: h2,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: ctrl.signal,
      cache: 'no-store',
      credentials: 'same-origin',
      referrerPolicy: 'no-referrer',
    });
    let data = null;
    if (blob && res.ok) data = await res.blob();
    else {
      const text = await res.text();
      try {
        data = text ? JSON.parse(text) : null;
      } catch {
        data = null;
      }
    }
    return {
      ok: res.ok,
      status: res.status,
      data,
      type: res.headers.get('content-type') || '',
      disposition: res.headers.get('content-disposition') || '',
      network: false,
    };
  } catch {
    return { ok: false, status: 0, data: null, type: '', network: true };
  } finally {
    clearTimeout(timer);
  }
}
