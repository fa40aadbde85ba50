"""Uploads in an S3-compatible bucket (MEDIA_S3_BUCKET), for more than one web server.

The bucket is moto's in-process S3 (it answers boto3's HTTP calls as S3 does): the files
really are written, listed and read back through django-storages, and the URLs handed out
are the signed ones a browser would follow.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.images import ImageFile
from moto import mock_aws
from PIL import Image as PillowImage
from wagtail.images import get_image_model

from cms.models import DocumentText
from config.media_storage import S3_BACKEND, media_origins, media_storage
from tests.factories.documents import docx_bytes, upload
from tests.factories.people import MemberFactory

BUCKET = "dangjian-media"
REGION = "cn-north-1"


@pytest.fixture
def bucket(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """An empty private bucket, and the site's uploads configured to go there."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MEDIA_S3_BUCKET", BUCKET)
    monkeypatch.setenv("MEDIA_S3_REGION", REGION)
    monkeypatch.setenv("MEDIA_S3_ACCESS_KEY_ID", "dangjian-test-key")
    monkeypatch.setenv("MEDIA_S3_SECRET_ACCESS_KEY", "dangjian-test-secret")
    monkeypatch.setenv("MEDIA_S3_URL_EXPIRY", "600")
    with mock_aws():
        s3 = boto3.client(
            "s3",
            region_name=REGION,
            aws_access_key_id="dangjian-test-key",
            aws_secret_access_key="dangjian-test-secret",
        )
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        settings.STORAGES = {**settings.STORAGES, "default": media_storage()}
        yield s3


def keys(s3: Any) -> list[str]:
    listing = s3.list_objects_v2(Bucket=BUCKET)
    return sorted(item["Key"] for item in listing.get("Contents", []))


def signed(location: str) -> dict[str, list[str]]:
    parts = urllib.parse.urlsplit(location)
    assert parts.scheme == "https" and BUCKET in parts.netloc + parts.path
    return urllib.parse.parse_qs(parts.query)


def test_a_document_goes_to_the_bucket_and_members_get_a_signed_expiring_link(
    bucket: Any, tree: Any, client: Any, settings: Any
) -> None:
    document = upload("支部工作条例", "rules.docx", docx_bytes("支部每月召开一次党员大会。"))
    stored = keys(bucket)
    assert stored == [f"media/{document.file.name}"]
    assert not (settings.MEDIA_ROOT / document.file.name).exists()

    client.force_login(MemberFactory(organization=tree.branch_a1))
    response = client.get(document.url)
    # Wagtail's document view checks the privacy first, then redirects to the file.
    assert response.status_code == 302
    query = signed(response["Location"])
    assert query["X-Amz-Expires"] == ["600"] and query["X-Amz-Signature"]
    body = bucket.get_object(Bucket=BUCKET, Key=stored[0])["Body"].read()
    assert body == document.file.open("rb").read()


def test_a_second_upload_of_the_same_name_keeps_both_files(bucket: Any, db: None) -> None:
    first = upload("通知一", "notice.docx", docx_bytes("第一份通知。"))
    second = upload("通知二", "notice.docx", docx_bytes("第二份通知。"))
    assert first.file.name != second.file.name
    assert len(keys(bucket)) == 2


def test_the_text_of_a_document_in_the_bucket_is_extracted_for_search(
    bucket: Any, db: None, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        document = upload("会议纪要", "minutes.docx", docx_bytes("研究部署主题教育工作。"))
    text = DocumentText.objects.get(document=document)
    assert text.status == DocumentText.Status.EXTRACTED
    assert "主题教育" in text.text


def test_image_renditions_are_written_to_the_bucket_with_signed_urls(bucket: Any, db: None) -> None:
    buffer = io.BytesIO()
    PillowImage.new("RGB", (640, 480), (200, 30, 30)).save(buffer, "PNG")
    image = get_image_model().objects.create(
        title="党旗", file=ImageFile(io.BytesIO(buffer.getvalue()), name="flag.png")
    )
    rendition = image.get_rendition("fill-320x240")
    stored = keys(bucket)
    assert f"media/{image.file.name}" in stored
    assert f"media/{rendition.file.name}" in stored
    assert signed(rendition.url)["X-Amz-Signature"]


def test_without_a_bucket_uploads_stay_on_the_filesystem(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MEDIA_S3_BUCKET", raising=False)
    storage = media_storage()
    assert storage == {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    assert media_origins(storage) == []


def test_an_s3_compatible_server_and_its_origin_for_the_csp(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MEDIA_S3_BUCKET", "media")
    monkeypatch.setenv("MEDIA_S3_ENDPOINT_URL", "https://oss.example.cn:9000")
    monkeypatch.setenv("MEDIA_S3_ADDRESSING_STYLE", "path")
    monkeypatch.setenv("MEDIA_S3_PREFIX", "/dangjian/")
    storage = media_storage()
    assert storage["BACKEND"] == S3_BACKEND
    options = storage["OPTIONS"]
    assert options["endpoint_url"] == "https://oss.example.cn:9000"
    assert options["location"] == "dangjian" and options["addressing_style"] == "path"
    assert options["default_acl"] is None and options["querystring_auth"] is True
    assert "access_key" not in options  # boto3 finds its credentials itself
    assert "https://oss.example.cn:9000" in media_origins(storage)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("MEDIA_S3_ENDPOINT_URL", "ftp://oss.example.cn", "http(s) address"),
        ("MEDIA_S3_ADDRESSING_STYLE", "sideways", "path, virtual or auto"),
        ("MEDIA_S3_URL_EXPIRY", "5", "between 60 s and 7 days"),
        ("MEDIA_S3_URL_EXPIRY", "an hour", "whole number"),
        ("MEDIA_S3_ACCESS_KEY_ID", "only-the-key", "or neither"),
    ],
)
def test_a_wrong_setting_stops_the_start_with_its_name(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv("MEDIA_S3_BUCKET", "media")
    monkeypatch.delenv("MEDIA_S3_SECRET_ACCESS_KEY", raising=False)
    monkeypatch.setenv(name, value)
    with pytest.raises(ImproperlyConfigured, match=re.escape(message)) as raised:
        media_storage()
    assert name in str(raised.value)


def test_the_production_settings_store_uploads_in_the_bucket_and_allow_its_origin() -> None:
    """Images and lesson videos load from the bucket's origin, which the CSP then allows."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("MEDIA_S3_", "DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS"))
    }
    environment.update(
        SECRET_KEY="s" * 50,
        ALLOWED_HOSTS="dangjian.example.org",
        MEDIA_S3_BUCKET="media",
        MEDIA_S3_ENDPOINT_URL="https://oss.example.cn:9000",
    )
    code = (
        "import json, config.settings.production as s; "
        "d = s.CONTENT_SECURITY_POLICY['DIRECTIVES']; "
        "print(json.dumps([s.STORAGES['default']['BACKEND'], d['img-src'], d['media-src']]))"
    )
    finished = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parent.parent,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr
    backend, images, media = json.loads(finished.stdout.strip().splitlines()[-1])
    assert backend == S3_BACKEND
    assert "https://oss.example.cn:9000" in images
    assert "https://oss.example.cn:9000" in media


def test_aws_path_style_links_are_allowed_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDIA_S3_BUCKET", "media")
    monkeypatch.delenv("MEDIA_S3_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("MEDIA_S3_REGION", raising=False)
    assert "https://s3.amazonaws.com" in media_origins(media_storage())
