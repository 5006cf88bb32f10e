// A real OpenID Connect provider for tests/test_oidc.py: panva's oidc-provider (the npm
// registry's certified implementation) over TLS, with a login form of its own and test users
// whose ID tokens and userinfo carry A2I's `sagemaker:groups` claim.
//
// Usage: node provider.mjs CONFIG.json — the file names the PEM certificate and key, one
// client and the users. The server listens on a free loopback port the system picks (no
// other process can take it between choosing and binding), and its issuer is
// https://127.0.0.1:<port>; then one line goes to stdout, `listening <issuer>`, which the
// test waits for.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:https";

import Provider from "oidc-provider";

const config = JSON.parse(readFileSync(process.argv[2], "utf8"));
const users = new Map(config.users.map((user) => [user.sub, user]));

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// A signing key made at start: each run of the tests has its own, as a real provider's keys
// are its own.
const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: "jwk" }), kid: "test-rs256", use: "sig", alg: "RS256" };

const server = createServer({ cert: readFileSync(config.cert), key: readFileSync(config.key) });
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const issuer = `https://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: config.client.client_id,
      client_secret: config.client.client_secret,
      redirect_uris: config.client.redirect_uris,
      post_logout_redirect_uris: config.client.post_logout_redirect_uris,
      // What A2I does: client_id and client_secret in the token request's form body.
      token_endpoint_auth_method: "client_secret_post",
      grant_types: ["authorization_code"],
      response_types: ["code"],
    },
  ],
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString("hex")] },
  // `sagemaker:groups` rides on the openid scope, so every sign-in gets it.
  claims: { openid: ["sub", "sagemaker:groups"], email: ["email", "email_verified"] },
  // The ID token carries the scopes' claims (not only `sub`), as many providers do.
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: { enabled: true },
    userinfo: { enabled: true },
  },
  interactions: { url: (ctx, pending) => `/interaction/${pending.uid}` },
  // The portal is a first-party client: what it asks for is granted without a consent page.
  async loadExistingGrant(ctx) {
    const grantId =
      ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) {
      return ctx.oidc.provider.Grant.find(grantId);
    }
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope("openid email");
    await grant.save();
    return grant;
  },
  async findAccount(ctx, sub) {
    const user = users.get(sub);
    if (!user) {
      return undefined;
    }
    return {
      accountId: sub,
      async claims() {
        return {
          sub,
          email: user.email,
          email_verified: true,
          "sagemaker:groups": user.groups,
        };
      },
    };
  },
  ttl: {
    AccessToken: 600,
    AuthorizationCode: 60,
    IdToken: 600,
    Interaction: 600,
    Session: 3600,
    Grant: 3600,
  },
});

function loginPage(uid, error) {
  const alert = error ? `<p role="alert">${escapeHtml(error)}</p>` : "";
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Test provider: sign in</title></head>
<body>
  <h1>Sign in to the test provider</h1>
  ${alert}
  <form method="post" action="/interaction/${escapeHtml(uid)}/login">
    <label>Username <input name="username" autocomplete="username" required autofocus></label>
    <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
    <button type="submit">Sign in</button>
  </form>
</body></html>`;
}

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) {
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

function send(res, status, html) {
  res.writeHead(status, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
  res.end(html);
}

// The interaction routes (the login form) are this script's; everything else is the provider's.
async function interaction(req, res, path) {
  const details = await provider.interactionDetails(req, res);
  if (req.method === "GET") {
    send(res, 200, loginPage(details.uid));
    return;
  }
  if (req.method === "POST" && path.endsWith("/login")) {
    const form = await readForm(req);
    const user = [...users.values()].find((u) => u.username === form.get("username"));
    if (!user || user.password !== form.get("password")) {
      send(res, 401, loginPage(details.uid, "Wrong username or password."));
      return;
    }
    await provider.interactionFinished(
      req,
      res,
      { login: { accountId: user.sub } },
      { mergeWithLastSubmission: false },
    );
    return;
  }
  send(res, 405, "Method not allowed");
}

const handle = provider.callback();
server.on("request", (req, res) => {
  const path = new URL(req.url, issuer).pathname;
  if (path.startsWith("/interaction/")) {
    interaction(req, res, path).catch((err) => {
      send(res, 400, `<p role="alert">${escapeHtml(err.message)}</p>`);
    });
    return;
  }
  handle(req, res);
});
process.stdout.write(`listening ${issuer}\n`);
process.on("SIGTERM", () => {
  server.close();
  server.closeAllConnections();
  process.exit(0);
});
