"""JOSE: signing keys, key encryption at rest, and JWT minting and verification."""
