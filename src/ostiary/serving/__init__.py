"""Serving HTTP (library layer): the uvicorn protocol the servers run under."""
