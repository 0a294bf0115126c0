"""An org reached only through Okta's public management API (``--org-url URL --token SSWS``).

:mod:`.client` speaks HTTP (paging, rate limits); :mod:`.reading` reads an org's configuration
as :class:`ostiary.domain.org_file.from_okta.OktaOrg`; :mod:`.applying` brings an org to an org
file with the API's own calls. Nothing here is Ostiary-specific: it configures a real Okta org.
"""
