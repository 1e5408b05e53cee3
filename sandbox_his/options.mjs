// Command-line options and behaviour profiles of the sandbox HIS.
//
// A profile switches the server, for its whole life, to a documented behaviour
// of production FHIR servers (see README.md). Profiles combine: `--profile a,b`.
import fs from 'node:fs';

export const PROFILES = {
  honest: 'R4 as written: atomic transactions, Prefer honoured, versions, _revinclude, search.mode',
  minimal: 'ignores Prefer; writes answer with headers and an empty body; transaction entries carry only response',
  'no-revinclude': '_revinclude is not supported (ignored, or 400 with Prefer: handling=strict)',
  'no-versioning': 'versioning no-version: no ETag, no meta.versionId, If-Match refused, no vread/_history',
  'create-200': 'a conditional create that matched answers 200 with no body and no Location',
  'no-search-mode': 'searchset entries carry no search element',
  'no-transaction': 'no transaction or batch interaction',
  token: 'OAuth2 bearer tokens required (client credentials, SMART Backend Services)',
};

// Every behaviour a kiosk must cope with at once, except sign-in and a missing
// transaction interaction (those change what the kiosk can do at all).
export const ALIASES = {
  'production-like': ['minimal', 'no-revinclude', 'no-versioning', 'create-200', 'no-search-mode'],
};

/** `"a,b"` -> Set of behaviour names; throws on an unknown name. */
export function parseProfile(text) {
  const out = new Set();
  for (const raw of String(text || 'honest').split(',')) {
    const name = raw.trim();
    if (!name) continue;
    if (ALIASES[name]) ALIASES[name].forEach((n) => out.add(n));
    else if (PROFILES[name]) out.add(name);
    else throw new Error(`unknown profile "${name}" (known: ${[...Object.keys(PROFILES), ...Object.keys(ALIASES)].join(', ')})`);
  }
  out.delete('honest'); // honest is the absence of every other behaviour
  return out;
}

function arg(argv, name, fallback) {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : fallback;
}

function validTimeZone(tz) {
  try {
    new Intl.DateTimeFormat('en-CA', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Parses argv into the server's options; throws Error with a readable message. */
export function parseOptions(argv) {
  const profile = parseProfile(arg(argv, 'profile', 'honest'));
  const timezone = arg(argv, 'timezone', 'Asia/Ho_Chi_Minh');
  if (!validTimeZone(timezone)) throw new Error(`unknown --timezone ${timezone}`);
  const queueNumbers = arg(argv, 'queue-numbers', 'off');
  if (!['off', 'his'].includes(queueNumbers)) throw new Error('--queue-numbers must be "his" or "off"');
  const tokenTtl = Number(arg(argv, 'token-ttl', '3600'));
  if (!(tokenTtl > 0)) throw new Error('--token-ttl must be a positive number of seconds');
  const clientsFile = arg(argv, 'clients', '');
  let clients = [];
  if (clientsFile) {
    clients = JSON.parse(fs.readFileSync(clientsFile, 'utf8'));
    if (!Array.isArray(clients)) throw new Error('--clients file must hold a JSON list of clients');
  }
  const parentPid = Number(arg(argv, 'parent-pid', '0'));
  return {
    port: Number(arg(argv, 'port', '0')),
    base: arg(argv, 'base', '/fhir/R4').replace(/\/$/, ''),
    profile,
    timezone,
    queueNumbers: queueNumbers === 'his',
    queueSystem: arg(argv, 'queue-system', 'https://patient-kiosk.example.org/fhir/sid/queue-number'),
    departmentSystem: arg(argv, 'department-system', 'https://patient-kiosk.example.org/fhir/sid/department'),
    tokenTtl,
    clients,
    parentPid: parentPid > 0 ? parentPid : 0,
    exitOnStdinClose: argv.includes('--exit-on-stdin-close'),
    verbose: argv.includes('--verbose'),
  };
}
