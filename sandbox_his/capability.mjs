// The CapabilityStatement (GET /metadata) and SMART configuration, built from
// the active profile so that they declare exactly what the server then does.
import { globalSchema } from '@medplum/core';
import { supportedParams } from './search.mjs';

// The resource types the sandbox declares. The engine stores any R4 type, but
// like most production servers the statement lists only those it is meant for.
export const DECLARED_TYPES = [
  'Patient', 'Appointment', 'Encounter', 'Location', 'HealthcareService', 'Organization', 'Practitioner',
  'PractitionerRole', 'Basic', 'Task', 'Flag', 'Coverage', 'CoverageEligibilityRequest',
  'CoverageEligibilityResponse', 'Slot', 'Schedule',
];

// What each behaviour means for a client, in CapabilityStatement.rest.documentation
// (R4 has no element for the first four; the rest are also declared structurally).
const DOCUMENTATION = {
  minimal: 'Prefer: return is ignored: creates and updates answer Location, ETag and Last-Modified with an empty body; transaction-response entries carry only response.',
  'create-200': 'A conditional create that matched answers 200 OK with no body and no Location (in a transaction: response.status only).',
  'no-search-mode': 'Searchset entries carry no search element: tell matches from included resources by resourceType.',
  'no-revinclude': '_revinclude is not supported: ignored, or refused with Prefer: handling=strict.',
  'no-versioning': 'No versions: no ETag or meta.versionId; If-Match, vread and _history are refused.',
  'no-transaction': 'No transaction or batch interaction.',
  token: 'Every request but GET /metadata and the SMART configuration needs an OAuth2 bearer token.',
};

const OAUTH_URIS = 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris';

function referenceParams(type) {
  return supportedParams(type).filter(([, p]) => p.type === 'reference');
}

function resourceEntry(type, profile) {
  const versioned = !profile.has('no-versioning');
  const interactions = ['read', 'vread', 'update', 'patch', 'delete', 'create', 'search-type', 'history-instance']
    .filter((code) => versioned || (code !== 'vread' && code !== 'history-instance'));
  const entry = {
    type,
    versioning: versioned ? 'versioned' : 'no-version',
    readHistory: versioned,
    updateCreate: true,
    conditionalCreate: true,
    conditionalRead: 'not-supported',
    conditionalUpdate: true,
    conditionalDelete: 'single',
    interaction: interactions.map((code) => ({ code })),
    searchInclude: referenceParams(type).map(([code]) => `${type}:${code}`),
  };
  if (!profile.has('no-revinclude')) {
    entry.searchRevInclude = DECLARED_TYPES.flatMap((other) =>
      referenceParams(other)
        .filter(([, p]) => p.target?.includes(type))
        .map(([code]) => `${other}:${code}`)
    );
  }
  entry.searchParam = supportedParams(type).map(([code, p]) => ({ name: code, type: p.type }));
  return entry;
}

export function capabilityStatement({ profile, baseUrl, tokenUrl, startedAt }) {
  const rest = { mode: 'server' };
  const notes = [...profile].sort().map((name) => DOCUMENTATION[name]).filter(Boolean);
  rest.documentation = notes.length ? notes.join(' ') : 'R4 as written: Prefer honoured, atomic transactions, versions, _revinclude.';
  if (profile.has('token')) {
    rest.security = {
      service: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR' }] }],
      description: 'OAuth2 client credentials (client_secret_basic, client_secret_post, private_key_jwt RS384/ES384)',
      extension: [{ url: OAUTH_URIS, extension: [{ url: 'token', valueUri: tokenUrl }] }],
    };
  }
  rest.resource = DECLARED_TYPES.filter((t) => globalSchema.types[t]).map((t) => resourceEntry(t, profile));
  if (!profile.has('no-transaction')) rest.interaction = [{ code: 'transaction' }, { code: 'batch' }];
  const names = profile.size ? [...profile].sort().join(',') : 'honest';
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: startedAt,
    kind: 'instance',
    fhirVersion: '4.0.1',
    format: ['json'],
    patchFormat: ['application/json-patch+json'],
    software: { name: 'Kiosk sandbox HIS (Medplum fhir-router 5.2.13, in memory)', version: names },
    implementation: { description: `Test and demo HIS; loopback only; profile ${names}`, url: baseUrl },
    rest: [rest],
  };
}

export function smartConfiguration({ tokenUrl }) {
  return {
    token_endpoint: tokenUrl,
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: ['RS384', 'ES384'],
    grant_types_supported: ['client_credentials'],
    scopes_supported: ['system/*.rs', 'system/*.cruds', 'system/*.read', 'system/*.write', 'system/*.*'],
    capabilities: ['client-confidential-symmetric', 'client-confidential-asymmetric', 'permission-v2'],
  };
}
