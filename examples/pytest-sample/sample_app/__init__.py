"""A small app that depends on Okta: an API protected with okta-jwt-verifier and a service that
reads Okta's directory, the kind of code whose tests the ostiary pytest plugin serves."""
