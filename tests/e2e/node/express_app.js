// The Express app of @okta/oidc-middleware's README, unchanged but for its settings (read from
// the environment) and two JSON routes the e2e test reads. Used by tests/e2e/test_okta_oidc_middleware.py.
const express = require("express");
const session = require("express-session");
const { ExpressOIDC } = require("@okta/oidc-middleware");

const oidc = new ExpressOIDC({
  issuer: process.env.ISSUER,
  client_id: process.env.CLIENT_ID,
  client_secret: process.env.CLIENT_SECRET,
  appBaseUrl: process.env.APP_BASE_URL,
  scope: "openid profile email",
});

const app = express();
app.use(session({ secret: "e2e-only-session-secret", resave: true, saveUninitialized: false }));
app.use(oidc.router);

app.get("/healthz", (req, res) => res.send("ok"));

app.get("/", (req, res) => {
  if (req.userContext) {
    res.send(`<p id="hello">Hello ${req.userContext.userinfo.name}!</p>
      <form method="POST" action="/logout"><button id="logout" type="submit">Logout</button></form>`);
  } else {
    res.send('<p id="anonymous">Please <a href="/login">login</a></p>');
  }
});

app.get("/protected", oidc.ensureAuthenticated(), (req, res) => {
  const { userinfo, tokens } = req.userContext;
  res.json({ userinfo, access_token: tokens.access_token, id_token: tokens.id_token });
});

oidc.on("error", (err) => console.error("oidc error:", err && err.message ? err.message : err));
oidc.on("ready", () => {
  app.listen(Number(process.env.PORT), "127.0.0.1", () => console.log("app started"));
});
