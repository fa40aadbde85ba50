"""Uploads by an editor: only real images and allowed document types are stored.

An editor (or whoever holds an editor's password) uploads, at each of the admin's upload
endpoints (the single form, the multiple uploader and the chooser's upload tab): an SVG
or HTML file renamed ``.png``/``.jpg``, garbage bytes named ``.png``, a decompression
bomb (a small PNG declaring 100 000 × 100 000 pixels), a plain SVG or HTML image, and
for documents ``.html``/``.svg``/``.exe`` and friends. Each is refused with a form error
in Chinese, never a 500, and neither a row nor a file is stored; a small real PNG still
goes through. A document whose contents are HTML under an allowed name is never served
as HTML.

Files that begin like a real image and then break (a GIF89a header, a truncated PNG,
JPEG or WebP) answered 500 until issue 11's finding 8 (``cms.image_forms.ImageForm``
decodes the file): they are refused like the rest.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image as PillowImage
from wagtail.documents.models import Document
from wagtail.images.models import Image

from learning.models import Member
from tests.security.conftest import signed_in

pytestmark = pytest.mark.django_db

SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def _png_header(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr)


def decompression_bomb() -> bytes:
    """Under 100 bytes that declare 10^10 pixels: opening it must not decode it."""
    return (
        _png_header(100_000, 100_000)
        + _chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + _chunk(b"IEND", b"")
    )


def small_png() -> bytes:
    buffer = io.BytesIO()
    PillowImage.new("RGB", (16, 12), "red").save(buffer, "PNG")
    return buffer.getvalue()


BAD_IMAGES = [
    pytest.param("svg-renamed.png", SVG, id="svg-as-png"),
    pytest.param("page-renamed.jpg", HTML, id="html-as-jpg"),
    pytest.param("page-renamed.png", HTML, id="html-as-png"),
    pytest.param("garbage.png", bytes(range(256)) * 8, id="garbage-as-png"),
    pytest.param("drawing.svg", SVG, id="svg"),
    pytest.param("page.html", HTML, id="html"),
    pytest.param("bomb.png", decompression_bomb(), id="decompression-bomb"),
    pytest.param("empty.png", b"", id="empty"),
    # A known header, then nothing valid: Willow's pixel count used to raise (finding 8).
    pytest.param(
        "broken.gif",
        b"GIF89a" + b"\x00" * 20,
        id="malformed-gif89a",
    ),
    pytest.param(
        "truncated.png",
        _png_header(8, 8),
        id="truncated-png",
    ),
    pytest.param(
        "truncated.jpg",
        b"\xff\xd8\xff\xe0" + b"x" * 50,
        id="truncated-jpeg",
    ),
    pytest.param(
        "truncated.webp",
        b"RIFF\x20\x00\x00\x00WEBPVP8 " + b"x" * 30,
        id="truncated-webp",
    ),
]
BAD_DOCUMENTS = [
    pytest.param("page.html", HTML, id="html"),
    pytest.param("page.htm", HTML, id="htm"),
    pytest.param("drawing.svg", SVG, id="svg"),
    pytest.param("setup.exe", b"MZ\x90\x00\x03" + b"\x00" * 60, id="exe"),
    pytest.param("script.js", b"alert(1)", id="js"),
    pytest.param("report.pdf.html", HTML, id="double-extension"),
    pytest.param("shell.php", b"<?php system($_GET['c']); ?>", id="php"),
]


def stored_files() -> set[Path]:
    root = Path(settings.MEDIA_ROOT)
    return {path for path in root.rglob("*") if path.is_file()} if root.exists() else set()


@pytest.fixture
def nothing_stored() -> Iterator[None]:
    """Around a refused upload: no new image, document or file anywhere under media."""
    files, images, documents = stored_files(), Image.objects.count(), Document.objects.count()
    yield
    assert Image.objects.count() == images
    assert Document.objects.count() == documents
    assert stored_files() == files


def _has_chinese(text: str) -> bool:
    return any("\u4e00" <= character <= "\u9fff" for character in text)


# --- Sending one file to each endpoint --------------------------------------------------------


def upload(client: Any, kind: str, endpoint: str, name: str, data: bytes) -> tuple[bool, str]:
    """Upload ``data`` as ``name``; return whether it was accepted and the error shown."""
    file = SimpleUploadedFile(name, data)
    prefix = "image" if kind == "images" else "document"
    url = {
        "form": reverse(f"wagtail{'images' if kind == 'images' else 'docs'}:add"),
        "multiple": reverse(f"wagtail{'images' if kind == 'images' else 'docs'}:add_multiple"),
        "chooser": reverse(f"wagtail{'images' if kind == 'images' else 'docs'}_chooser:create"),
    }[endpoint]
    if endpoint == "form":
        response = client.post(url, {"title": "上传", "file": file})
        assert response.status_code in (200, 302)
        if response.status_code == 302:
            return True, ""
        return False, " ".join(response.context["form"].errors.get("file", []))
    if endpoint == "multiple":
        response = client.post(url, {"files[]": file})
        assert response.status_code == 200
        body = response.json()
        return bool(body["success"]), body.get("error_message", "")
    response = client.post(
        url, {f"{prefix}-chooser-upload-title": "上传", f"{prefix}-chooser-upload-file": file}
    )
    assert response.status_code == 200
    body = response.json()
    if body["step"] in ("chosen", "duplicate_found"):
        return True, ""
    assert body["step"] == "reshow_creation_form"
    fragment = body["htmlFragment"]
    start = fragment.find("error-message")
    return False, fragment[start : start + 400] if start >= 0 else ""


ENDPOINTS = ["form", "multiple", "chooser"]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(("name", "data"), BAD_IMAGES)
def test_an_upload_that_is_not_a_real_image_is_refused(
    endpoint: str, name: str, data: bytes, editor: Member, nothing_stored: None
) -> None:
    client = signed_in(editor)
    accepted, error = upload(client, "images", endpoint, name, data)
    assert not accepted
    assert _has_chinese(error), error


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(("name", "data"), BAD_DOCUMENTS)
def test_a_document_of_a_forbidden_type_is_refused(
    endpoint: str, name: str, data: bytes, editor: Member, nothing_stored: None
) -> None:
    accepted, error = upload(signed_in(editor), "documents", endpoint, name, data)
    assert not accepted
    assert _has_chinese(error), error


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_small_real_png_is_stored(endpoint: str, editor: Member) -> None:
    accepted, error = upload(signed_in(editor), "images", endpoint, "site.png", small_png())
    assert accepted, error
    image = Image.objects.get()
    assert (image.width, image.height) == (16, 12)


@pytest.mark.parametrize(
    ("name", "content_type"),
    [("notice.pdf", "application/pdf"), ("notice.txt", "text/plain")],
)
def test_a_document_holding_html_is_never_served_as_html(
    name: str, content_type: str, editor: Member
) -> None:
    """Allowed by its name, HTML inside: served as its declared type, never sniffed."""
    accepted, error = upload(signed_in(editor), "documents", "form", name, HTML)
    assert accepted, error
    served = signed_in(editor).get(Document.objects.get().url)
    assert served.status_code == 200
    assert served["Content-Type"] == content_type
    assert served["X-Content-Type-Options"] == "nosniff"
    assert "html" not in served["Content-Type"]
