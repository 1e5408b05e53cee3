// FHIR requests: profile gates, the engine call, and the reply each profile gives.
//
// Replies are plain objects {status, headers, body | text, contentType} that
// server.mjs sends (and fault rules may change before it does).
import { getStatus } from '@medplum/core';
import { capabilityStatement, smartConfiguration } from './capability.mjs';
import { classify, outcome, parsePrefer, present, reply, resourceHeaders, statusText } from './http-util.mjs';
import { finishSearchset, planSearch } from './search.mjs';

const CONFIG = { transactions: true };
const WRITES = new Set(['create', 'update', 'patch', 'conditional-update', 'conditional-patch']);

function engine(ctx, method, url, body, headers = {}) {
  return ctx.router.handleRequest({ method, url, body, params: {}, query: {}, headers, config: CONFIG }, ctx.repo);
}

function notSupported(ctx, text) {
  ctx.stats.kind('not-supported');
  return reply(400, outcome('not-supported', text));
}

function returnPreference(ctx, prefer) {
  if (ctx.profile.has('minimal')) return 'minimal';
  const value = (prefer.return || '').toLowerCase();
  if (value === 'minimal') return 'minimal';
  if (value === 'operationoutcome') return 'OperationOutcome';
  return 'representation';
}

/** GET /metadata. Like many servers, the statement carries an ETag and
 * Last-Modified (it changes only when the server restarts) and a conditional
 * GET that matches answers 304 with no body; `no-versioning` sends neither. */
function metadataReply(ctx, req) {
  if (ctx.profile.has('no-versioning')) return reply(200, capabilityStatement(ctx));
  const etag = `W/"${Date.parse(ctx.startedAt)}"`;
  const modified = new Date(Math.floor(Date.parse(ctx.startedAt) / 1000) * 1000);
  const headers = { ETag: etag, 'Last-Modified': modified.toUTCString() };
  const noneMatch = req.headers['if-none-match'];
  const since = Date.parse(req.headers['if-modified-since'] || '');
  const unchanged = noneMatch !== undefined
    ? noneMatch.split(',').map((t) => t.trim()).includes(etag)
    : !Number.isNaN(since) && modified.getTime() <= since;
  return unchanged ? { status: 304, headers } : reply(200, capabilityStatement(ctx), headers);
}

/** Handles one request under the FHIR base; `parsed` is {body, pairs, error} from server.mjs. */
export async function handleFhir(ctx, req, path, search, parsed) {
  const { profile, stats } = ctx;
  const method = req.method;
  if (method === 'GET' && path === '/metadata') return metadataReply(ctx, req);
  if (method === 'GET' && path === '/.well-known/smart-configuration') {
    if (!profile.has('token')) return reply(404, outcome('not-found', 'this server does not use SMART sign-in'));
    return { status: 200, contentType: 'application/json', body: smartConfiguration(ctx) };
  }
  if (profile.has('token')) {
    const refused = ctx.oauth.check(req.headers.authorization);
    if (refused) {
      stats.kind('unauthorized');
      return refused;
    }
  }
  if (parsed.error) return reply(400, outcome('structure', parsed.error));
  const prefer = parsePrefer(req.headers.prefer);
  if (prefer.return) stats.kind(`prefer-return-${prefer.return}`);
  if (prefer.handling === 'strict') stats.kind('handling-strict');
  const c = classify(method, path);
  const ifMatch = req.headers['if-match'];
  if (ifMatch) stats.kind('if-match');
  if (profile.has('no-versioning')) {
    if (ifMatch) return notSupported(ctx, 'If-Match is not supported: this server keeps no versions');
    if (c.kind === 'history' || c.kind === 'vread') return notSupported(ctx, 'history and vread are not supported: this server keeps no versions');
  }
  if (c.kind === 'bundle') return handleBundle(ctx, parsed.body, prefer);
  if (c.kind === 'search') return handleSearch(ctx, c.type, parsed.pairs, prefer);
  if (c.kind === 'create' && req.headers['if-none-exist']) stats.kind('conditional-create');
  const existed = c.id ? Boolean(ctx.repo.peek(c.type, c.id)) : false;
  const headers = {};
  for (const h of ['if-none-exist', 'if-match']) if (req.headers[h]) headers[h] = req.headers[h];
  const [result, resource] = await engine(ctx, method, path + search, parsed.body, headers);
  let status = getStatus(result);
  if (status >= 400) return reply(status, result);
  if (c.kind === 'update' && status === 200 && !existed) status = 201; // update as create
  if (WRITES.has(c.kind)) return writeReply(ctx, c, status, resource, prefer);
  if (c.kind === 'read' || c.kind === 'vread') return reply(status, present(ctx, resource), resourceHeaders(ctx, resource, false));
  return reply(status, resource ? present(ctx, resource) : result);
}

function writeReply(ctx, c, status, resource, prefer) {
  const matched = c.kind === 'create' && status === 200;
  if (matched) ctx.stats.kind('conditional-create-matched');
  if (matched && ctx.profile.has('create-200')) return { status: 200 };
  const headers = resourceHeaders(ctx, resource, true);
  const wanted = returnPreference(ctx, prefer);
  if (wanted === 'minimal') return { status, headers };
  if (wanted === 'OperationOutcome') {
    return reply(status, outcome('informational', statusText(status), 'information'), headers);
  }
  return reply(status, present(ctx, resource), headers);
}

async function handleSearch(ctx, type, pairs, prefer) {
  const { profile, stats } = ctx;
  const revinclude = !profile.has('no-revinclude');
  const askedRevinclude = pairs.some(([k]) => k.startsWith('_revinclude'));
  if (askedRevinclude) stats.kind(revinclude ? 'revinclude' : 'revinclude-ignored');
  const { kept, ignored } = planSearch(type, pairs, { revinclude });
  if (ignored.length) {
    stats.kind('search-params-ignored');
    if (prefer.handling === 'strict') {
      return reply(400, outcome('not-supported', `search parameters not supported: ${ignored.join(', ')}`));
    }
  }
  const qs = new URLSearchParams(kept).toString();
  const [result, bundle] = await engine(ctx, 'GET', `/${type}${qs ? `?${qs}` : ''}`);
  const status = getStatus(result);
  if (status >= 400) return reply(status, result);
  const out = finishSearchset(bundle, { type, kept, baseUrl: ctx.baseUrl, searchMode: !profile.has('no-search-mode') });
  return reply(200, present(ctx, out));
}

async function handleBundle(ctx, bundle, prefer) {
  const { profile, stats } = ctx;
  if (profile.has('no-transaction')) return notSupported(ctx, 'transaction and batch are not supported by this server');
  if (bundle?.resourceType !== 'Bundle' || !['transaction', 'batch'].includes(bundle.type)) {
    return reply(400, outcome('invalid', 'POST to the base takes a Bundle of type transaction or batch'));
  }
  const entries = Array.isArray(bundle.entry) ? bundle.entry : [];
  const refused = new Map(); // entry index -> OperationOutcome (no-versioning: ifMatch)
  if (profile.has('no-versioning')) {
    entries.forEach((e, i) => {
      if (e?.request?.ifMatch) refused.set(i, outcome('not-supported', 'ifMatch is not supported: this server keeps no versions'));
    });
    if (refused.size && bundle.type === 'transaction') return notSupported(ctx, 'ifMatch is not supported: this server keeps no versions');
  }
  entries.forEach((e) => {
    if (e?.request?.ifNoneExist) stats.kind('conditional-create');
    if (e?.request?.ifMatch) stats.kind('if-match');
  });
  const existed = entries.map((e) => {
    const m = /^([A-Z][A-Za-z]+)\/([^/?]+)$/.exec(String(e?.request?.url || ''));
    return e?.request?.method === 'PUT' && m ? Boolean(ctx.repo.peek(m[1], m[2])) : true;
  });
  const sent = entries.filter((_, i) => !refused.has(i));
  let results = [];
  if (sent.length) {
    const [result, response] = await engine(ctx, 'POST', '/', { ...bundle, entry: sent });
    const status = getStatus(result);
    if (status >= 400) return reply(status, result); // a transaction: nothing of it remains
    results = response.entry || [];
  }
  let j = 0;
  const out = entries.map((e, i) => {
    if (refused.has(i)) return { response: { status: statusText(400), outcome: refused.get(i) } };
    return shapeEntry(ctx, e, results[j++], prefer, existed[i]);
  });
  return reply(200, { resourceType: 'Bundle', type: `${bundle.type}-response`, entry: out });
}

function shapeEntry(ctx, requestEntry, resultEntry, prefer, existed) {
  const r = resultEntry?.response || {};
  let code = Number(String(r.status || '500').split(' ')[0]);
  if (code >= 400) return { response: { status: statusText(code), outcome: r.outcome } };
  const method = requestEntry?.request?.method;
  const resource = resultEntry?.resource;
  if (!['POST', 'PUT', 'PATCH'].includes(method)) {
    const entry = { response: { status: statusText(code) } };
    if (resource) entry.resource = present(ctx, resource);
    return entry;
  }
  if (method === 'PUT' && code === 200 && !existed) code = 201;
  const matched = method === 'POST' && code === 200;
  if (matched) ctx.stats.kind('conditional-create-matched');
  if (matched && ctx.profile.has('create-200')) return { response: { status: statusText(200) } };
  const versioned = !ctx.profile.has('no-versioning');
  const vid = versioned ? resource?.meta?.versionId : undefined;
  const response = { status: statusText(code) };
  if (resource?.id) response.location = `${resource.resourceType}/${resource.id}${vid ? `/_history/${vid}` : ''}`;
  if (vid) response.etag = `W/"${vid}"`;
  if (resource?.meta?.lastUpdated) response.lastModified = resource.meta.lastUpdated;
  const wanted = returnPreference(ctx, prefer);
  if (wanted === 'OperationOutcome') response.outcome = outcome('informational', statusText(code), 'information');
  if (wanted !== 'representation' || !resource) return { response };
  return { fullUrl: `${ctx.baseUrl}/${resource.resourceType}/${resource.id}`, resource: present(ctx, resource), response };
}
