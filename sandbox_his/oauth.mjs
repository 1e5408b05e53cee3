// OAuth2 for the `token` profile: the client-credentials grant with
// client_secret_basic, client_secret_post or SMART Backend Services
// private_key_jwt (RS384 / ES384 client assertions), and bearer-token checks.
import crypto from 'node:crypto';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const MAX_ASSERTION_LIFETIME_S = 300;
const DEFAULT_SCOPE = 'system/*.rs';

function fail(status, error, description, headers = {}) {
  return { status, headers: { 'Cache-Control': 'no-store', ...headers }, body: { error, error_description: description } };
}

function b64json(part) {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
}

function sameSecret(a, b) {
  const x = Buffer.from(String(a));
  const y = Buffer.from(String(b));
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

export class OAuth {
  constructor({ ttlSeconds }) {
    this.ttlSeconds = ttlSeconds;
    this.clients = new Map(); // client_id -> {client_id, client_secret?, jwks?}
    this.tokens = new Map(); // access token -> {client_id, scope, expiresAt (ms)}
    this.usedJti = new Set(); // `${client_id} ${jti}`
  }

  register(list) {
    const added = [];
    for (const c of [list].flat()) {
      if (!c?.client_id || typeof c.client_id !== 'string') throw new Error('a client needs a client_id');
      if (!c.client_secret && !Array.isArray(c.jwks?.keys)) throw new Error(`client ${c.client_id}: client_secret or jwks.keys required`);
      for (const jwk of c.jwks?.keys || []) crypto.createPublicKey({ key: jwk, format: 'jwk' }); // throws on a bad key
      this.clients.set(c.client_id, { client_id: c.client_id, client_secret: c.client_secret, jwks: c.jwks });
      added.push(c.client_id);
    }
    return added;
  }

  expireAll() {
    const n = this.tokens.size;
    this.tokens.clear();
    return n;
  }

  /** null when the request may proceed, else the 401 reply. */
  check(authorization) {
    const m = /^Bearer\s+(\S+)$/i.exec(authorization || '');
    const entry = m && this.tokens.get(m[1]);
    if (entry && entry.expiresAt > Date.now()) return null;
    if (entry) this.tokens.delete(m[1]);
    const why = !m ? 'missing bearer token' : entry ? 'token expired' : 'unknown token';
    return {
      status: 401,
      headers: { 'WWW-Authenticate': `Bearer realm="sandbox-his", error="invalid_token", error_description="${why}"` },
      body: { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'login', details: { text: why } }] },
    };
  }

  /** POST /oauth2/token (form-encoded body). */
  token({ authorization, contentType, bodyText, tokenUrl }) {
    if (!/application\/x-www-form-urlencoded/i.test(contentType || '')) {
      return fail(400, 'invalid_request', 'body must be application/x-www-form-urlencoded');
    }
    const form = new URLSearchParams(bodyText || '');
    if (form.get('grant_type') !== 'client_credentials') {
      return fail(400, 'unsupported_grant_type', 'only client_credentials is supported');
    }
    let client;
    const basic = /^Basic\s+(\S+)$/i.exec(authorization || '');
    if (basic) {
      // RFC 6749 wants id and secret form-encoded first; many clients do not.
      const pair = Buffer.from(basic[1], 'base64').toString('utf8');
      const colon = pair.indexOf(':');
      const raw = colon < 0 ? [pair, ''] : [pair.slice(0, colon), pair.slice(colon + 1)];
      const decode = (s) => {
        try {
          return decodeURIComponent(s.replace(/\+/g, ' '));
        } catch {
          return s;
        }
      };
      for (const [id, secret] of [raw, raw.map(decode)]) {
        const c = this.clients.get(id);
        if (c?.client_secret && sameSecret(c.client_secret, secret)) client = c;
      }
      if (!client) {
        return fail(401, 'invalid_client', 'client authentication failed', { 'WWW-Authenticate': 'Basic realm="sandbox-his"' });
      }
    } else if (form.has('client_assertion') || form.has('client_assertion_type')) {
      const result = this.verifyAssertion(form, tokenUrl);
      if (result.error) return fail(400, 'invalid_client', result.error);
      client = result.client;
    } else if (form.has('client_secret')) {
      client = this.clients.get(form.get('client_id'));
      if (!client?.client_secret || !sameSecret(client.client_secret, form.get('client_secret'))) {
        return fail(400, 'invalid_client', 'client authentication failed');
      }
    } else {
      return fail(400, 'invalid_client', 'no client authentication');
    }
    const accessToken = crypto.randomBytes(32).toString('base64url');
    const scope = form.get('scope') || DEFAULT_SCOPE;
    this.tokens.set(accessToken, { client_id: client.client_id, scope, expiresAt: Date.now() + this.ttlSeconds * 1000 });
    return {
      status: 200,
      headers: { 'Cache-Control': 'no-store', Pragma: 'no-cache' },
      body: { access_token: accessToken, token_type: 'bearer', expires_in: Math.round(this.ttlSeconds), scope },
    };
  }

  verifyAssertion(form, tokenUrl) {
    if (form.get('client_assertion_type') !== ASSERTION_TYPE) return { error: 'unsupported client_assertion_type' };
    const parts = (form.get('client_assertion') || '').split('.');
    if (parts.length !== 3) return { error: 'client_assertion is not a JWS' };
    let header;
    let claims;
    try {
      header = b64json(parts[0]);
      claims = b64json(parts[1]);
    } catch {
      return { error: 'client_assertion is not valid base64url JSON' };
    }
    const client = this.clients.get(claims.iss);
    if (!client?.jwks) return { error: 'unknown client (iss)' };
    if (claims.sub !== claims.iss) return { error: 'sub must equal iss (the client_id)' };
    if (form.has('client_id') && form.get('client_id') !== claims.iss) return { error: 'client_id does not match iss' };
    if (!['RS384', 'ES384'].includes(header.alg)) return { error: `alg ${header.alg} not accepted (RS384, ES384)` };
    const keys = client.jwks.keys.filter(
      (k) => (!header.kid || k.kid === header.kid) && (header.alg === 'RS384' ? k.kty === 'RSA' : k.kty === 'EC' && k.crv === 'P-384')
    );
    const data = Buffer.from(`${parts[0]}.${parts[1]}`);
    const signature = Buffer.from(parts[2], 'base64url');
    const valid = keys.some((jwk) => {
      try {
        const key = crypto.createPublicKey({ key: jwk, format: 'jwk' });
        return crypto.verify('sha384', data, header.alg === 'ES384' ? { key, dsaEncoding: 'ieee-p1363' } : key, signature);
      } catch {
        return false;
      }
    });
    if (!valid) return { error: 'signature does not verify with the registered keys' };
    const audiences = [claims.aud].flat();
    if (!audiences.includes(tokenUrl)) return { error: 'aud must be the token endpoint URL' };
    const now = Math.floor(Date.now() / 1000);
    if (typeof claims.exp !== 'number') return { error: 'exp missing' };
    if (claims.exp <= now) return { error: 'assertion expired' };
    if (claims.exp > now + MAX_ASSERTION_LIFETIME_S) return { error: 'exp more than 5 minutes ahead' };
    if (!claims.jti) return { error: 'jti missing' };
    const jtiKey = `${claims.iss} ${claims.jti}`;
    if (this.usedJti.has(jtiKey)) return { error: 'jti already used' };
    this.usedJti.add(jtiKey);
    return { client };
  }
}
