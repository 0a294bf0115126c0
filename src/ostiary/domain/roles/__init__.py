"""Okta's standard admin roles: what each permits (``permissions``), who holds which
(``assignments``), and what a caller may do (``authority``)."""
