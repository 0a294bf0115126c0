"""The access gateway's ``/api/v2`` admin API (oag-admin.yaml)."""
