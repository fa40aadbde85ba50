"""Wagtail admin registration for ``cms``: the report of text read from documents."""

from __future__ import annotations

from typing import Any

from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from cms import admin_documents


@hooks.register("register_admin_urls")
def register_document_text_urls() -> list[Any]:
    return [
        path("documents/texts/", admin_documents.document_texts_view, name="cms_document_texts"),
        path(
            "documents/texts/<int:pk>/read-again/",
            admin_documents.document_text_refresh_view,
            name="cms_document_text_refresh",
        ),
    ]


class DocumentTextsMenuItem(MenuItem):
    def is_shown(self, request: Any) -> bool:
        return admin_documents.can_view(request.user)


@hooks.register("register_reports_menu_item")
def register_document_texts_menu_item() -> MenuItem:
    return DocumentTextsMenuItem(
        _("Text of documents for search"),
        reverse("cms_document_texts"),
        icon_name="doc-full",
        order=900,
    )
