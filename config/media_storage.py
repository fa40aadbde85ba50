"""Where uploaded files live: a directory (the default) or an S3-compatible bucket.

One web server keeps uploads in ``MEDIA_ROOT``. Several web servers need storage they all
reach: set ``MEDIA_S3_BUCKET`` and the uploads (images and their renditions, documents)
go to that bucket through django-storages instead (AWS S3, MinIO, Ceph, or a cloud
provider's S3-compatible object storage). docs/deployment.md, "Scaling out", lists the
variables. The bucket stays private: every file URL the site hands out is signed and
expires, and documents are still served only after Wagtail's privacy check (its
document view redirects to the signed URL).
"""

from __future__ import annotations

import os
import urllib.parse
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from config.env import env_int

__all__ = ["media_origins", "media_storage"]

FILESYSTEM = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
S3_BACKEND = "storages.backends.s3.S3Storage"


def _text(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def media_storage() -> dict[str, Any]:
    """The ``STORAGES["default"]`` entry the environment asks for."""
    bucket = _text("MEDIA_S3_BUCKET")
    if not bucket:
        return dict(FILESYSTEM)
    endpoint = _text("MEDIA_S3_ENDPOINT_URL")
    if endpoint and urllib.parse.urlsplit(endpoint).scheme not in {"http", "https"}:
        raise ImproperlyConfigured(
            f"MEDIA_S3_ENDPOINT_URL must be an http(s) address, not {endpoint!r}."
        )
    addressing = _text("MEDIA_S3_ADDRESSING_STYLE")
    if addressing not in {"", "path", "virtual", "auto"}:
        raise ImproperlyConfigured(
            f"MEDIA_S3_ADDRESSING_STYLE must be path, virtual or auto, not {addressing!r}."
        )
    expiry = env_int("MEDIA_S3_URL_EXPIRY", 3600)
    if not 60 <= expiry <= 7 * 24 * 3600:
        raise ImproperlyConfigured("MEDIA_S3_URL_EXPIRY must be between 60 s and 7 days.")
    options: dict[str, Any] = {
        "bucket_name": bucket,
        "location": _text("MEDIA_S3_PREFIX", "media").strip("/"),
        # Private objects; the site signs each URL it hands out, valid for `expiry` seconds.
        "default_acl": None,
        "querystring_auth": True,
        "querystring_expire": expiry,
        # Two uploads of "report.pdf" keep both files, as on the filesystem storage.
        "file_overwrite": False,
        "signature_version": "s3v4",
    }
    if endpoint:
        options["endpoint_url"] = endpoint
    if region := _text("MEDIA_S3_REGION"):
        options["region_name"] = region
    if addressing:
        options["addressing_style"] = addressing
    # Without keys boto3 finds its credentials itself (AWS_* variables, an instance role).
    access_key, secret_key = _text("MEDIA_S3_ACCESS_KEY_ID"), _text("MEDIA_S3_SECRET_ACCESS_KEY")
    if bool(access_key) != bool(secret_key):
        raise ImproperlyConfigured(
            "Set both MEDIA_S3_ACCESS_KEY_ID and MEDIA_S3_SECRET_ACCESS_KEY, or neither."
        )
    if access_key:
        options["access_key"], options["secret_key"] = access_key, secret_key
    return {"BACKEND": S3_BACKEND, "OPTIONS": options}


def media_origins(storage: dict[str, Any]) -> list[str]:
    """Where pages load images from when they are not on the site itself (for the CSP)."""
    if storage["BACKEND"] != S3_BACKEND:
        return []
    options = storage["OPTIONS"]
    bucket = options["bucket_name"]
    endpoint = options.get("endpoint_url")
    if endpoint:
        parts = urllib.parse.urlsplit(endpoint)
        return [f"{parts.scheme}://{parts.netloc}", f"{parts.scheme}://{bucket}.{parts.netloc}"]
    # AWS itself: the bucket's names, with and without its region, and the path-style host.
    origins = [f"https://{bucket}.s3.amazonaws.com", "https://s3.amazonaws.com"]
    if region := options.get("region_name"):
        origins += [
            f"https://{bucket}.s3.{region}.amazonaws.com",
            f"https://s3.{region}.amazonaws.com",
        ]
    return origins
