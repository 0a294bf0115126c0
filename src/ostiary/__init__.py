"""Ostiary: a self-hosted, Okta-compatible API Access Management system."""

__version__ = "0.1.0"
