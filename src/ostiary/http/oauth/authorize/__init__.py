"""The authorize endpoint as a pipeline of small steps, one module each (see :mod:`.endpoint`)."""

from ostiary.http.oauth.authorize.endpoint import authorize, resume

__all__ = ["authorize", "resume"]
