// Search parameters: which ones the sandbox processes, and the searchset it answers.
//
// A real server ignores parameters it does not support (lenient handling,
// the default) or refuses them (`Prefer: handling=strict`), and its
// `Bundle.link` self URL lists only the parameters it actually processed.
// The in-memory engine would instead treat an unknown parameter as a filter
// that matches nothing, so unsupported ones are taken out before it sees them.
import { globalSchema } from '@medplum/core';

const CONTROL = new Set(['_count', '_offset', '_sort', '_elements', '_summary', '_include', '_revinclude']);
const ENGINE_TYPES = new Set(['token', 'string', 'uri', 'reference', 'date']); // what MemoryRepository can match
const MODIFIERS = {
  string: ['exact', 'contains', 'missing'],
  token: ['not', 'missing'],
  uri: ['missing'],
  date: ['missing'],
  reference: ['missing'],
};
const SUBSETTED = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED' };

function searchParam(type, code) {
  return globalSchema.types[type]?.searchParams?.[code];
}

/** Search parameters the sandbox can process for a type, as [code, param]. */
export function supportedParams(type) {
  return Object.entries(globalSchema.types[type]?.searchParams || {}).filter(
    ([code, p]) => ENGINE_TYPES.has(p.type) && !['_compartment', '_project'].includes(code)
  );
}

function referenceTarget(type, code, explicit) {
  const p = searchParam(type, code);
  if (p?.type !== 'reference') return undefined;
  if (explicit) return p.target?.includes(explicit) ? explicit : undefined;
  return p.target?.length === 1 ? p.target[0] : undefined;
}

function includeOk(value, fromType) {
  const [type, code, target] = value.split(':');
  if (fromType && type !== fromType) return false;
  return Boolean(referenceTarget(type, code, target));
}

function filterOk(type, key) {
  const dot = key.indexOf('.');
  if (dot >= 0) {
    // forward chain, one level: ref[:Type].param
    const [code, explicit] = key.slice(0, dot).split(':');
    const target = referenceTarget(type, code, explicit);
    const rest = key.slice(dot + 1);
    return Boolean(target) && !rest.includes('.') && !rest.includes(':') && ENGINE_TYPES.has(searchParam(target, rest)?.type);
  }
  const [code, modifier] = key.split(':');
  const p = searchParam(type, code);
  if (!p || !ENGINE_TYPES.has(p.type) || ['_compartment', '_project'].includes(code)) return false;
  if (!modifier) return true;
  if (p.type === 'reference' && p.target?.includes(modifier)) return true;
  return (MODIFIERS[p.type] || []).includes(modifier);
}

function paramOk(type, key, value, { revinclude }) {
  const [code, modifier] = key.split(':');
  if (!CONTROL.has(code)) return filterOk(type, key);
  switch (code) {
    case '_count':
    case '_offset':
      return !modifier && /^\d+$/.test(value);
    case '_sort':
      return !modifier && value.split(',').every((f) => ENGINE_TYPES.has(searchParam(type, f.replace(/^-/, ''))?.type));
    case '_elements':
      return !modifier && /^[A-Za-z][A-Za-z0-9]*(,[A-Za-z][A-Za-z0-9]*)*$/.test(value);
    case '_summary':
      return !modifier && value === 'count';
    case '_include':
      return (!modifier || modifier === 'iterate') && includeOk(value, modifier ? undefined : type);
    case '_revinclude':
      return revinclude && (!modifier || modifier === 'iterate') && includeOk(value);
    default:
      return false;
  }
}

/**
 * Splits a search's parameters into those processed and those ignored.
 * `pairs` is a list of [key, value] in request order.
 */
export function planSearch(type, pairs, { revinclude = true } = {}) {
  const kept = [];
  const ignored = [];
  for (const [key, value] of pairs) {
    if (paramOk(type, key, value, { revinclude })) kept.push([key, value]);
    else if (!ignored.includes(key)) ignored.push(key);
  }
  return { kept, ignored };
}

// Percent-encoding, leaving the characters FHIR search values use (: | , /) readable.
const q = (s) => encodeURIComponent(s).replace(/%3A/g, ':').replace(/%7C/g, '|').replace(/%2C/g, ',').replace(/%2F/g, '/');

function encode(pairs) {
  return pairs.map(([k, v]) => `${q(k)}=${q(v)}`).join('&');
}

/**
 * Turns the engine's searchset into the one the sandbox answers: fullUrl on
 * every entry, self/next links with the processed parameters, `_elements`
 * applied, and — when the profile says so — no `search` element.
 */
export function finishSearchset(bundle, { type, kept, baseUrl, searchMode = true }) {
  const get = (k) => kept.filter(([key]) => key === k).map(([, v]) => v).pop();
  const elements = get('_elements')?.split(',');
  const count = get('_count') !== undefined ? Number(get('_count')) : undefined;
  const offset = Number(get('_offset') || 0);
  const entries = (bundle.entry || []).map((entry) => {
    let resource = entry.resource;
    const match = entry.search?.mode !== 'include';
    if (elements && match && resource) {
      resource = { resourceType: resource.resourceType, id: resource.id, meta: { ...resource.meta } };
      for (const name of elements) if (entry.resource[name] !== undefined) resource[name] = entry.resource[name];
      resource.meta.tag = [...(resource.meta.tag || []), SUBSETTED];
    }
    const out = { fullUrl: `${baseUrl}/${resource.resourceType}/${resource.id}`, resource };
    if (searchMode) out.search = { mode: match ? 'match' : 'include' };
    return out;
  });
  const link = [{ relation: 'self', url: `${baseUrl}/${type}${kept.length ? `?${encode(kept)}` : ''}` }];
  if (count && bundle.total > offset + count) {
    const next = [...kept.filter(([k]) => k !== '_offset'), ['_offset', String(offset + count)]];
    link.push({ relation: 'next', url: `${baseUrl}/${type}?${encode(next)}` });
  }
  const out = { resourceType: 'Bundle', type: 'searchset', total: bundle.total, link };
  if (entries.length) out.entry = entries;
  return out;
}
