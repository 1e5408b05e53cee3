// Fault injection for robustness tests (POST /__admin/faults).
//
// Two kinds, both applied to FHIR requests only (never to /__admin or /oauth2):
//  - the original settings {delay_ms, fail_status, fail_count}: every request
//    waits delay_ms; the next fail_count requests answer fail_status;
//  - rules {match: "METHOD path-regex", action, count}: the first rule whose
//    method (or *) and regular expression (tested against the path after the
//    FHIR base, e.g. "/" for a transaction, "/Patient/123") match fires, at
//    most `count` times (default 1).
//  Size and time: huge (the reply, then 50 MB of JSON whitespace, chunked),
//  endless (the reply's start, then whitespace for ever, chunked), trickle
//  (the reply one byte every 100 ms), huge_field (names of the resources in
//  the reply made 20,000 characters long).
export const ACTIONS = ['status:NNN', 'delay:MS', 'lose_reply', 'html', 'invalid_json', 'truncate', 'bundle_without_ids',
  'first_entry_only', 'huge', 'endless', 'trickle', 'huge_field'];

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
  if (action === 'huge' || action === 'endless' || action === 'trickle') return { ...reply, misbehave: action };
  if (action === 'huge_field' && reply.body) return { ...reply, body: withHugeNames(reply.body) };
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

const HUGE_NAME = 'Nguyễn Văn Rất Dài '.repeat(20000 / 19); // under his.max_answer_bytes: it is read, then cut

/** A copy of a resource or Bundle whose names (Patient.name, Location and HealthcareService name) are huge. */
function withHugeNames(body) {
  if (body.resourceType === 'Bundle') {
    return { ...body, entry: (body.entry || []).map((e) => (e.resource ? { ...e, resource: withHugeNames(e.resource) } : e)) };
  }
  if (body.resourceType === 'Patient') return { ...body, name: [{ text: HUGE_NAME, family: 'Nguyễn', given: [HUGE_NAME] }] };
  if (body.resourceType === 'Location' || body.resourceType === 'HealthcareService') {
    return { ...body, name: HUGE_NAME, description: HUGE_NAME };
  }
  return body;
}

const HUGE_BYTES = 50 * 1024 * 1024;
const SPACES = Buffer.alloc(64 * 1024, 0x20);

/** Sends a reply that misbehaves in size or time (huge, endless, trickle); stops when the client hangs up. */
export function sendMisbehaving(req, res, status, headers, buf, kind) {
  const { 'Content-Length': _, ...rest } = headers;
  res.writeHead(status, rest); // no Content-Length: chunked
  let gone = false;
  req.socket.on('close', () => { gone = true; });
  if (kind === 'trickle') {
    let i = 0;
    const timer = setInterval(() => {
      if (gone || i >= buf.length) { clearInterval(timer); if (!gone) res.end(); return; }
      res.write(buf.subarray(i, i + 1));
      i += 1;
    }, 100);
    return;
  }
  res.write(kind === 'endless' ? buf.subarray(0, Math.floor(buf.length / 2)) : buf);
  if (kind === 'endless') { // 1 KB every 20 ms for ever: under any size cap for minutes
    const timer = setInterval(() => (gone ? clearInterval(timer) : res.write(SPACES.subarray(0, 1024))), 20);
    return;
  }
  let sent = 0;
  const more = () => {
    while (!gone) {
      if (sent >= HUGE_BYTES) { res.end(); return; }
      sent += SPACES.length;
      if (!res.write(SPACES)) { res.once('drain', more); return; }
    }
  };
  more();
}
