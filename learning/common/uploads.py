"""A bound on the upload itself: an import form keeps no more of a file than its limit.

Django's own handlers write a large upload to a temporary file (or memory) in full
before a form can look at its size. ``limit_uploads`` puts a handler in front of them
that stops passing a file on as soon as it grows past the limit: the rest is read from
the connection and dropped, and the view says the file is too large.

Upload handlers can only be changed before the body is parsed, and the CSRF check
parses it; so a view that limits its uploads is ``csrf_exempt`` and calls the real view
through ``csrf_protect`` (the pattern Django documents for this), e.g.::

    @csrf_exempt
    def import_view(request):
        limit = limit_uploads(request, max_bytes=MAX_UPLOAD_BYTES)
        return _import_view(request, limit)

    @csrf_protect
    def _import_view(request, limit): ...
"""

from __future__ import annotations

from typing import Any

from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import HttpRequest


class UploadLimit(FileUploadHandler):
    """Skips any file of the request larger than ``max_bytes``; ``exceeded`` says so."""

    def __init__(self, request: HttpRequest | None = None, *, max_bytes: int) -> None:
        super().__init__(request)
        self.max_bytes = max_bytes
        self.exceeded = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        if start + len(raw_data) > self.max_bytes:
            self.exceeded = True
            raise SkipFile
        return raw_data

    def file_complete(self, file_size: int) -> Any:
        # The next handlers build the file; this one only watches its size.
        return None


def limit_uploads(request: HttpRequest, *, max_bytes: int) -> UploadLimit:
    """Install an ``UploadLimit`` first in ``request``'s upload handlers.

    When the body was already parsed (by a middleware), the handler cannot take effect;
    the view's own size check then still refuses the file, only later.
    """
    limit = UploadLimit(request, max_bytes=max_bytes)
    if not hasattr(request, "_files"):
        request.upload_handlers.insert(0, limit)
    return limit
