// A real OpenID Provider on loopback for the organisation sign-in tests: npm's certified
// oidc-provider, one confidential client that must use PKCE (S256).
//
//   node oidc_provider.mjs <port> <client_id> <client_secret>
//
// Accounts are set by the tests (POST /__test/accounts {"sub", "email"}); login is the
// provider's own development login form (any password), consent is pre-granted. So that
// the tests can check what Pulse refuses, POST /__test/tamper {"mode"} makes the next
// token responses carry a doctored ID token (see doctor() below); "" stops it.
import crypto from 'node:crypto';
import Provider from 'oidc-provider';

const [port, clientId, clientSecret] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;
const KID = 'loopback-test-key';

const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
// Same kid, not in the JWKS: a token signed with it fails the signature check.
const { privateKey: foreignKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingJwk = { ...privateKey.export({ format: 'jwk' }), kid: KID, alg: 'RS256', use: 'sig' };

const accounts = new Map();
let tamper = '';

const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: ['http://pulse.test/login/oidc/callback'],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: { keys: [signingJwk] },
  cookies: { keys: ['loopback-only-cookie-key'] },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  // The claims asked for by scope go in the ID token itself, as Entra ID sends them.
  conformIdTokenClaims: false,
  pkce: { methods: ['S256'], required: () => true },
  features: { devInteractions: { enabled: true } },
  async findAccount(ctx, sub) {
    const account = accounts.get(sub);
    if (!account) return undefined;
    return { accountId: sub, async claims() { return { sub, email: account.email, name: sub }; } };
  },
  // A first-party client: consent is pre-agreed, so the login form is the only step.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid email profile');
    await grant.save();
    return grant;
  },
});

// The live test server listens on a port chosen when it starts: any loopback port may
// receive the code, at Pulse's callback path only.
const registered = provider.Client.prototype.redirectUriAllowed;
provider.Client.prototype.redirectUriAllowed = function redirectUriAllowed(value) {
  return registered.call(this, value)
    || /^http:\/\/127\.0\.0\.1:\d+\/login\/oidc\/callback$/.test(value);
};

const b64 = (data) => Buffer.from(data).toString('base64url');

function sign(claims, key) {
  const input = `${b64(JSON.stringify({ alg: 'RS256', kid: KID, typ: 'JWT' }))}.${b64(JSON.stringify(claims))}`;
  return `${input}.${crypto.sign('sha256', Buffer.from(input), key).toString('base64url')}`;
}

function doctor(idToken, mode) {
  const [header, payload, signature] = idToken.split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
  const now = Math.floor(Date.now() / 1000);
  switch (mode) {
    case 'altered': // the payload changed after signing: the signature no longer matches
      return `${header}.${b64(JSON.stringify({ ...claims, sub: 'someone-else' }))}.${signature}`;
    case 'foreign_key':
      return sign(claims, foreignKey);
    case 'nonce':
      return sign({ ...claims, nonce: 'not-the-nonce-pulse-sent' }, privateKey);
    case 'expired': // well past any leeway Pulse allows (at most 300 s)
      return sign({ ...claims, iat: now - 7200, exp: now - 3600 }, privateKey);
    case 'issuer':
      return sign({ ...claims, iss: 'https://login.microsoftonline.com/another-tenant/v2.0' }, privateKey);
    case 'audience':
      return sign({ ...claims, aud: 'another-client' }, privateKey);
    default:
      return idToken;
  }
}

async function readJson(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString() || '{}');
}

provider.use(async (ctx, next) => {
  if (ctx.method === 'POST' && ctx.path === '/__test/accounts') {
    const { sub, email } = await readJson(ctx.req);
    accounts.set(sub, { email });
    ctx.body = { ok: true };
    return;
  }
  if (ctx.method === 'POST' && ctx.path === '/__test/tamper') {
    ({ mode: tamper } = await readJson(ctx.req));
    ctx.body = { ok: true };
    return;
  }
  if (ctx.method === 'POST' && ctx.path === '/__test/reset') {
    accounts.clear();
    tamper = '';
    ctx.body = { ok: true };
    return;
  }
  await next();
  if (ctx.path === '/token' && ctx.status === 200 && tamper && ctx.body?.id_token) {
    ctx.body = { ...ctx.body, id_token: doctor(ctx.body.id_token, tamper) };
  }
});

provider.listen(Number(port), '127.0.0.1', () => {
  process.stdout.write(`listening ${issuer}\n`);
});
