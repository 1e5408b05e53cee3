// Test-only endpoints under /__admin/ (loopback only, never behind a profile,
// sign-in or fault). Each is documented in README.md.
import { getStatus } from '@medplum/core';

const JSON_TYPE = 'application/json';

function ok(body, status = 200) {
  return { status, contentType: JSON_TYPE, body };
}

function bad(message, status = 400) {
  return { status, contentType: JSON_TYPE, body: { error: message } };
}

function resolveRefs(node, refs) {
  if (Array.isArray(node)) return node.map((v) => resolveRefs(v, refs));
  if (!node || typeof node !== 'object') return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) out[k] = k === 'reference' && refs[v] ? refs[v] : resolveRefs(v, refs);
  return out;
}

/**
 * Stores a transaction Bundle of (conditional) creates entry by entry, resolving
 * its urn:uuid references, with the engine's plain semantics whatever the
 * profile: the launcher's way of loading demo data.
 */
async function seed(ctx, bundle) {
  if (bundle?.resourceType !== 'Bundle') throw new Error('seed takes a Bundle');
  return ctx.repo.withTransaction(() => seedEntries(ctx, bundle.entry || []));
}

async function seedEntries(ctx, entries) {
  const refs = {};
  let created = 0;
  let existing = 0;
  for (const [i, entry] of entries.entries()) {
    const resource = resolveRefs(entry.resource, refs);
    const headers = entry.request?.ifNoneExist ? { 'if-none-exist': entry.request.ifNoneExist } : {};
    const req = { method: 'POST', url: `/${resource?.resourceType}`, body: resource, params: {}, query: {}, headers, config: {} };
    const [result, stored] = await ctx.router.handleRequest(req, ctx.repo);
    const status = getStatus(result);
    if (status >= 300) throw new Error(`entry ${i}: ${status} ${result.issue?.[0]?.details?.text || ''}`);
    if (status === 201) created += 1;
    else existing += 1;
    if (entry.fullUrl) refs[entry.fullUrl] = `${stored.resourceType}/${stored.id}`;
  }
  return { created, existing, references: refs };
}

export async function handleAdmin(ctx, req, what, bodyText) {
  let body = {};
  if (bodyText) {
    try {
      body = JSON.parse(bodyText);
    } catch {
      return bad('body is not valid JSON');
    }
  }
  const route = `${req.method} ${what}`;
  try {
    switch (route) {
      case 'GET stats':
        return ok(ctx.stats.toJSON());
      case 'POST reset-stats':
        ctx.stats.reset();
        return ok(ctx.stats.toJSON());
      case 'GET faults':
        return ok(ctx.faults.state());
      case 'POST faults':
        if (Array.isArray(body.rules)) body.rules.forEach((r) => ctx.faults.addRule(r));
        else if (body.match !== undefined || body.action !== undefined) ctx.faults.addRule(body);
        else ctx.faults.setLegacy(body);
        return ok(ctx.faults.state());
      case 'DELETE faults':
        ctx.faults.clear();
        return ok(ctx.faults.state());
      case 'GET clients':
        return ok({ clients: [...(ctx.oauth?.clients.keys() || [])] });
      case 'POST clients':
        if (!ctx.oauth) return bad('the token profile is off', 409);
        return ok({ registered: ctx.oauth.register(body) });
      case 'POST expire-tokens':
        if (!ctx.oauth) return bad('the token profile is off', 409);
        return ok({ expired: ctx.oauth.expireAll() });
      case 'POST seed':
        return ok(await seed(ctx, body));
      case 'GET info':
        return ok({
          pid: process.pid,
          profile: [...ctx.profile].sort(),
          base: ctx.base,
          baseUrl: ctx.baseUrl,
          tokenUrl: ctx.profile.has('token') ? ctx.tokenUrl : null,
          timezone: ctx.options.timezone,
          queueNumbers: ctx.queueNumbers
            ? { system: ctx.queueNumbers.queueSystem, departmentSystem: ctx.queueNumbers.departmentSystem, counters: ctx.queueNumbers.snapshot() }
            : null,
        });
      default:
        return bad('unknown admin endpoint', 404);
    }
  } catch (err) {
    return bad(String(err?.message || err));
  }
}
