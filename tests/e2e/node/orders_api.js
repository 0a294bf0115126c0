// An Express API protected with @okta/jwt-verifier, as its README sets one up: one verifier per
// required scope (`assertClaims: { "scp.includes": [...] }`), the issuer a custom authorization
// server, the audience checked on every call. Settings from the environment (ISSUER, AUDIENCE,
// PORT). Used by tests/e2e/test_okta_jwt_verifier_node.py against the ostiary pytest plugin's org.
const express = require("express");
const OktaJwtVerifier = require("@okta/jwt-verifier");

const issuer = process.env.ISSUER;
const audience = process.env.AUDIENCE;

function requireScope(scope) {
  const verifier = new OktaJwtVerifier({ issuer, assertClaims: { "scp.includes": [scope] } });
  return async (req, res, next) => {
    const match = /^Bearer (.+)$/.exec(req.headers.authorization || "");
    if (!match) {
      res.set("WWW-Authenticate", 'Bearer realm="orders"');
      return res.status(401).json({ error: "invalid_token", error_description: "no bearer token" });
    }
    try {
      req.jwt = await verifier.verifyAccessToken(match[1], audience);
      return next();
    } catch (err) {
      // The signature, expiry, issuer and audience are checked first; only a token valid in
      // every other way reaches the asserted claims, whose messages start with "claim '<name>'".
      const message = String(err && err.message);
      if (message.startsWith("claim 'scp'")) {
        res.set("WWW-Authenticate", `Bearer error="insufficient_scope", scope="${scope}"`);
        return res.status(403).json({ error: "insufficient_scope", error_description: message });
      }
      res.set("WWW-Authenticate", 'Bearer error="invalid_token"');
      return res.status(401).json({ error: "invalid_token", error_description: message });
    }
  };
}

function caller(jwt) {
  return { sub: jwt.claims.sub, cid: jwt.claims.cid, scp: jwt.claims.scp, kid: jwt.header.kid };
}

const app = express();
app.get("/healthz", (req, res) => res.send("ok"));
app.get("/orders", requireScope("orders:read"), (req, res) => res.json({ orders: [], caller: caller(req.jwt) }));
app.post("/orders", requireScope("orders:write"), (req, res) => res.status(201).json({ caller: caller(req.jwt) }));

app.listen(Number(process.env.PORT), "127.0.0.1");
