"""The access gateway's own storage: tables, engine, migrations (never the org server's store)."""
