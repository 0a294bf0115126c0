"""The access gateway's proxy: sign-in in front of header-based legacy apps.

Entry points: :func:`ostiary.access_gateway.proxy.app.make_proxy_app` (the ASGI app that
serves every app's public domain) and :func:`ostiary.access_gateway.proxy.assertion.jwks_app`
(the JWKS of the ``X-Ostiary-Assertion`` header). Configuration comes only through
:class:`ostiary.access_gateway.proxy.catalog.AppCatalog`.
"""
