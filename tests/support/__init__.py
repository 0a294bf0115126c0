"""Helpers that test modules of several folders share (no tests here)."""
