"""What ``serve --memory --testing`` adds: fault injection and the ``/__ostiary/testing`` admin API.

Nothing here is imported or installed by a normal ``serve``.
"""
