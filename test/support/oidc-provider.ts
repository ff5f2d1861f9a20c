/**
 * A tiny OpenID provider for tests: discovery, JWKS, an /authorize that auto-approves the
 * configured login, and a /token that checks client authentication, the code (single use,
 * bound to its redirect URI) and the PKCE S256 verifier, then returns an RS256 ID token.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';

export interface TestOidcProviderOptions {
  clientId?: string;
  clientSecret?: string;
  redirectUris: string[];
}

export interface TokenRequestRecord {
  status: number;
  error?: string;
  clientAuth: 'basic' | 'post' | 'none';
}

export interface TestOidcProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Who /authorize signs in (auto-approved); `claims` go into the ID token. */
  login: { sub: string; claims?: Record<string, unknown> };
  /** The next authorization answers error=access_denied instead. */
  denyNext: boolean;
  /** Claims that override the next ID token's (e.g. a foreign nonce); cleared when used. */
  nextIdTokenClaims?: Record<string, unknown>;
  /** Parameters of every /authorize request. */
  readonly authorizeRequests: URLSearchParams[];
  /** Every /token request and the answer. */
  readonly tokenRequests: TokenRequestRecord[];
  stop(): Promise<void>;
}

interface IssuedCode {
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  nonce: string;
  sub: string;
  claims: Record<string, unknown>;
  used: boolean;
  expiresAt: number;
}

const s256 = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(JSON.stringify(body));
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/** The client credentials of a token request: HTTP Basic (form-encoded parts) or form fields. */
function clientCredentials(req: IncomingMessage, form: URLSearchParams) {
  const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
  if (basic) {
    const decoded = Buffer.from(basic, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const part = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
    return {
      kind: 'basic' as const,
      id: part(decoded.slice(0, colon)),
      secret: part(decoded.slice(colon + 1)),
    };
  }
  const secret = form.get('client_secret');
  return { kind: secret ? ('post' as const) : ('none' as const), id: form.get('client_id'), secret };
}

/** Starts the provider on 127.0.0.1 with a free port. */
export async function startOidcProvider(options: TestOidcProviderOptions): Promise<TestOidcProvider> {
  const clientId = options.clientId ?? 'vigil-test';
  const clientSecret = options.clientSecret ?? randomBytes(16).toString('hex');
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const kid = randomBytes(8).toString('hex');
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  const codes = new Map<string, IssuedCode>();
  let issuer = '';

  const provider: TestOidcProvider = {
    issuer: '',
    clientId,
    clientSecret,
    login: { sub: 'nobody' },
    denyNext: false,
    authorizeRequests: [],
    tokenRequests: [],
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const authorize = (url: URL, res: ServerResponse) => {
    const p = url.searchParams;
    provider.authorizeRequests.push(p);
    const redirectUri = p.get('redirect_uri') ?? '';
    if (p.get('client_id') !== clientId || !options.redirectUris.includes(redirectUri))
      return send(res, 400, {
        error: 'invalid_request',
        error_description: 'unknown client or redirect_uri',
      });
    const back = new URL(redirectUri);
    const state = p.get('state');
    if (state) back.searchParams.set('state', state);
    back.searchParams.set('iss', issuer);
    const refuse = (error: string) => {
      back.searchParams.set('error', error);
      res.writeHead(302, { location: back.href }).end();
    };
    if (p.get('response_type') !== 'code') return refuse('unsupported_response_type');
    if (!(p.get('scope') ?? '').split(' ').includes('openid')) return refuse('invalid_scope');
    // PKCE is mandatory here, and only S256.
    if (p.get('code_challenge_method') !== 'S256' || !p.get('code_challenge'))
      return refuse('invalid_request');
    if (provider.denyNext) {
      provider.denyNext = false;
      return refuse('access_denied');
    }
    const code = randomBytes(24).toString('base64url');
    codes.set(code, {
      clientId,
      redirectUri,
      codeChallenge: p.get('code_challenge')!,
      nonce: p.get('nonce') ?? '',
      sub: provider.login.sub,
      claims: provider.login.claims ?? {},
      used: false,
      expiresAt: Date.now() + 60_000,
    });
    back.searchParams.set('code', code);
    res.writeHead(302, { location: back.href }).end();
  };

  const token = async (req: IncomingMessage, res: ServerResponse) => {
    const form = await readForm(req);
    const client = clientCredentials(req, form);
    const answer = (status: number, error?: string, body?: unknown) => {
      provider.tokenRequests.push({ status, error, clientAuth: client.kind });
      send(res, status, body ?? { error }, status === 401 ? { 'www-authenticate': 'Basic' } : {});
    };
    if (client.id !== clientId || client.secret !== clientSecret) return answer(401, 'invalid_client');
    if (form.get('grant_type') !== 'authorization_code') return answer(400, 'unsupported_grant_type');
    const issued = codes.get(form.get('code') ?? '');
    if (!issued || issued.used || issued.expiresAt < Date.now()) return answer(400, 'invalid_grant');
    issued.used = true;
    if (form.get('redirect_uri') !== issued.redirectUri) return answer(400, 'invalid_grant');
    const verifier = form.get('code_verifier');
    if (!verifier || s256(verifier) !== issued.codeChallenge) return answer(400, 'invalid_grant');
    const overrides = provider.nextIdTokenClaims ?? {};
    provider.nextIdTokenClaims = undefined;
    const idToken = await new SignJWT({ nonce: issued.nonce, ...issued.claims, ...overrides })
      .setProtectedHeader({ alg: 'RS256', kid })
      .setIssuer(issuer)
      .setSubject(issued.sub)
      .setAudience(clientId)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);
    answer(200, undefined, {
      access_token: randomBytes(24).toString('base64url'),
      token_type: 'Bearer',
      expires_in: 300,
      id_token: idToken,
    });
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', issuer);
    const route = `${req.method} ${url.pathname}`;
    Promise.resolve()
      .then(() => {
        switch (route) {
          case 'GET /.well-known/openid-configuration':
            return send(res, 200, {
              issuer,
              authorization_endpoint: `${issuer}/authorize`,
              token_endpoint: `${issuer}/token`,
              jwks_uri: `${issuer}/jwks`,
              response_types_supported: ['code'],
              subject_types_supported: ['public'],
              id_token_signing_alg_values_supported: ['RS256'],
              code_challenge_methods_supported: ['S256'],
              token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
              scopes_supported: ['openid', 'profile', 'email'],
              authorization_response_iss_parameter_supported: true,
            });
          case 'GET /jwks':
            return send(res, 200, { keys: [jwk] });
          case 'GET /authorize':
            return authorize(url, res);
          case 'POST /token':
            return token(req, res);
          default:
            return send(res, 404, { error: 'not_found' });
        }
      })
      .catch((err: unknown) => send(res, 500, { error: 'server_error', error_description: String(err) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  provider.issuer = issuer;
  return provider;
}
