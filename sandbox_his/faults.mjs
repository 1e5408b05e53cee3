// Fault injection for robustness tests (POST /__admin/faults).
//
// Two kinds, both applied to FHIR requests only (never to /__admin or /oauth2):
//  - the original settings {delay_ms, fail_status, fail_count}: every request
//    waits delay_ms; the next fail_count requests answer fail_status;
//  - rules {match: "METHOD path-regex", action, count}: the first rule whose
//    method (or *) and regular expression (tested against the path after the
//    FHIR base, e.g. "/" for a transaction, "/Patient/123") match fires, at
//    most `count` times (default 1).
export const ACTIONS = ['status:NNN', 'delay:MS', 'lose_reply', 'html', 'invalid_json', 'truncate', 'bundle_without_ids',
  'first_entry_only'];

function checkAction(action) {
  if (/^status:[1-5]\d\d$/.test(action) || /^delay:\d+$/.test(action)) return;
  if (!action.includes(':') && ACTIONS.includes(action)) return; // the plain actions of the list above
  throw new Error(`unknown fault action "${action}" (known: ${ACTIONS.join(', ')})`);
}

export class Faults {
  constructor() {
    this.clear();
  }

  clear() {
    this.legacy = { delay_ms: 0, fail_status: 0, fail_count: 0 };
    this.rules = [];
  }

  setLegacy(body) {
    const next = { delay_ms: 0, fail_status: 0, fail_count: 0 };
    for (const key of Object.keys(next)) {
      if (body[key] === undefined) continue;
      if (!Number.isInteger(body[key]) || body[key] < 0) throw new Error(`${key} must be a non-negative integer`);
      next[key] = body[key];
    }
    this.legacy = next;
  }

  addRule({ match, action, count = 1 }) {
    const m = /^(\*|[A-Z]+)\s+(.+)$/.exec(String(match || ''));
    if (!m) throw new Error('match must be "METHOD path-regex", e.g. "POST /$" or "GET /Patient"');
    checkAction(String(action));
    if (!Number.isInteger(count) || count < 1) throw new Error('count must be a positive integer');
    const rule = { match, action, count, method: m[1], regex: new RegExp(m[2]) };
    this.rules.push(rule);
    return rule;
  }

  /** The rule that fires for this request (its count used up by one), or null. */
  take(method, path) {
    const rule = this.rules.find((r) => (r.method === '*' || r.method === method) && r.regex.test(path));
    if (!rule) return null;
    rule.count -= 1;
    if (rule.count <= 0) this.rules.splice(this.rules.indexOf(rule), 1);
    return rule;
  }

  state() {
    return { ...this.legacy, rules: this.rules.map(({ match, action, count }) => ({ match, action, count })) };
  }
}

const HTML = '<!DOCTYPE html><html><head><title>Service Unavailable</title></head>'
  + '<body><h1>Hospital network gateway</h1><p>The application is not responding. Please try again later.</p></body></html>';

/** The reply a fault puts in place of processing, or null when the request must be processed. */
export function replyBefore(action) {
  if (action.startsWith('status:')) {
    const status = Number(action.slice(7));
    return { status, body: { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'transient', details: { text: 'injected fault' } }] } };
  }
  if (action === 'html') return { status: 200, contentType: 'text/html; charset=utf-8', text: HTML };
  return null;
}

/** Changes the processed reply (or how it is sent) for the after-processing actions. */
export function alterReply(action, reply) {
  if (action === 'lose_reply') return { ...reply, lose: true };
  if (action === 'truncate') return { ...reply, truncate: true };
  if (action === 'invalid_json') {
    return { ...reply, text: '{"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": {"resourceType": ', body: undefined };
  }
  if (action === 'bundle_without_ids' && reply.body?.resourceType === 'Bundle' && reply.body.type === 'searchset') {
    const entry = (reply.body.entry || []).map(({ fullUrl, resource, ...rest }) => {
      const { id, ...withoutId } = resource || {};
      return { ...rest, resource: withoutId };
    });
    return { ...reply, body: { ...reply.body, ...(entry.length ? { entry } : {}) } };
  }
  return reply;
}
