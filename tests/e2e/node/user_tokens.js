// A user's tokens in Node with @okta/okta-auth-js, no browser: `signInWithCredentials` (the authn
// API) gives a session token, `/authorize` with PKCE takes it and redirects with a code (one
// `fetch`: the only step okta-auth-js leaves to a browser), `token.exchangeCodeForTokens` redeems
// it (and checks the ID token's signature and claims), `token.verify` checks the ID token again
// against the JWKS. Settings from the environment (ISSUER, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI,
// SCOPES, USERNAME, PASSWORD); prints the tokens as JSON. Used by tests/e2e/test_okta_jwt_verifier_node.py.
const crypto = require("node:crypto");
const { OktaAuth } = require("@okta/okta-auth-js");

async function main() {
  const env = process.env;
  const scopes = env.SCOPES.split(" ");
  const auth = new OktaAuth({
    issuer: env.ISSUER,
    clientId: env.CLIENT_ID,
    clientSecret: env.CLIENT_SECRET,
    redirectUri: env.REDIRECT_URI,
    scopes,
  });
  const transaction = await auth.signInWithCredentials({ username: env.USERNAME, password: env.PASSWORD });
  if (transaction.status !== "SUCCESS") throw new Error(`sign-in: ${transaction.status}`);

  const codeVerifier = crypto.randomBytes(48).toString("base64url");
  const codeChallenge = crypto.createHash("sha256").update(codeVerifier).digest("base64url");
  const nonce = crypto.randomBytes(16).toString("hex");
  const query = new URLSearchParams({
    client_id: env.CLIENT_ID,
    response_type: "code",
    scope: scopes.join(" "),
    redirect_uri: env.REDIRECT_URI,
    state: crypto.randomBytes(16).toString("hex"),
    nonce,
    code_challenge: codeChallenge,
    code_challenge_method: "S256",
    sessionToken: transaction.sessionToken,
  });
  const answer = await fetch(`${env.ISSUER}/v1/authorize?${query}`, { redirect: "manual" });
  const location = new URL(answer.headers.get("location"));
  const authorizationCode = location.searchParams.get("code");
  if (!authorizationCode) throw new Error(`authorize: ${answer.status} ${location}`);

  const { tokens } = await auth.token.exchangeCodeForTokens({ codeVerifier, authorizationCode, nonce });
  const verified = await auth.token.verify(tokens.idToken, { nonce });
  process.stdout.write(
    JSON.stringify({
      accessToken: tokens.accessToken.accessToken,
      accessTokenScopes: tokens.accessToken.scopes,
      idTokenClaims: verified.claims,
      decodedAccessToken: auth.token.decode(tokens.accessToken.accessToken).payload,
    }),
  );
}

main().catch((err) => {
  process.stderr.write(`${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
