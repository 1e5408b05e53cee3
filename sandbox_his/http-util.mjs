// Small helpers shared by the FHIR, admin and OAuth parts.
import http from 'node:http';

export const FHIR_JSON = 'application/fhir+json; charset=utf-8';

export function outcome(code, text, severity = 'error') {
  return { resourceType: 'OperationOutcome', issue: [{ severity, code, details: { text } }] };
}

export function reply(status, body, headers = {}) {
  return { status, headers, body };
}

export function statusText(code) {
  return `${code} ${http.STATUS_CODES[code] || ''}`.trim();
}

/** `Prefer: return=minimal, handling=strict` -> {return: 'minimal', handling: 'strict'} */
export function parsePrefer(header) {
  const out = {};
  for (const part of String(header || '').split(/[,;]/)) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim().toLowerCase();
    const value = part.slice(eq + 1).trim().replace(/^"|"$/g, '');
    if (key && value) out[key] = value;
  }
  return out;
}

/** What a request is, from its method and the path after the FHIR base. */
export function classify(method, path) {
  const segs = path.split('/').filter(Boolean);
  if (segs.length === 0) return { kind: method === 'POST' ? 'bundle' : 'system' };
  const [type, id, history, vid] = segs;
  if (!/^[A-Z][A-Za-z]+$/.test(type)) return { kind: 'other', type: segs[0] };
  if (segs.length === 1) {
    const kinds = { GET: 'search', POST: 'create', PUT: 'conditional-update', PATCH: 'conditional-patch', DELETE: 'conditional-delete' };
    return { type, kind: kinds[method] || 'other' };
  }
  if (segs.length === 2 && id === '_search') return { type, kind: method === 'POST' ? 'search' : 'other' };
  if (segs.length === 2) {
    const kinds = { GET: 'read', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };
    return { type, id, kind: kinds[method] || 'other' };
  }
  if (history === '_history' && method === 'GET' && segs.length <= 4) return { type, id, vid, kind: vid ? 'vread' : 'history' };
  return { type, kind: 'other' };
}

/** The stats key of a request: "GET Patient", "transaction", "batch", "GET metadata". */
export function requestKey(method, path, body) {
  const segs = path.split('/').filter(Boolean);
  if (segs.length === 0 && method === 'POST' && ['transaction', 'batch'].includes(body?.type)) return body.type;
  return `${method} ${segs[0] || '(base)'}`;
}

function withoutVersions(value) {
  if (Array.isArray(value)) return value.map(withoutVersions);
  if (!value || typeof value !== 'object') return value;
  const out = {};
  for (const [k, v] of Object.entries(value)) out[k] = withoutVersions(v);
  if (out.resourceType && out.meta && 'versionId' in out.meta) {
    const { versionId, ...meta } = out.meta;
    if (Object.keys(meta).length) out.meta = meta;
    else delete out.meta;
  }
  if (out.response && typeof out.response === 'object' && 'etag' in out.response) {
    const { etag, ...response } = out.response;
    out.response = response;
  }
  return out;
}

/** A resource (or Bundle) as the active profile shows it. */
export function present(ctx, resource) {
  if (!resource || !ctx.profile.has('no-versioning')) return resource;
  return withoutVersions(resource);
}

/** ETag / Last-Modified (and Location for writes) of a stored resource. */
export function resourceHeaders(ctx, resource, withLocation) {
  const headers = {};
  if (!resource?.id) return headers;
  const vid = ctx.profile.has('no-versioning') ? undefined : resource.meta?.versionId;
  if (vid) headers.ETag = `W/"${vid}"`;
  if (resource.meta?.lastUpdated) headers['Last-Modified'] = new Date(resource.meta.lastUpdated).toUTCString();
  if (withLocation) {
    headers.Location = `${ctx.baseUrl}/${resource.resourceType}/${resource.id}${vid ? `/_history/${vid}` : ''}`;
  }
  return headers;
}
