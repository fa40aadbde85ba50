"""StreamField blocks for lessons and policy documents.

Each block has a template under ``templates/blocks/`` and a ``preview_value`` so editors
see it in the block picker. Videos play in the browser's own player (an uploaded file)
or as an embed; nothing is loaded from a third-party script we ship.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from wagtail import blocks
from wagtail.documents.blocks import DocumentChooserBlock
from wagtail.embeds.blocks import EmbedBlock
from wagtail.images.blocks import ImageChooserBlock

RICH_TEXT_FEATURES = ["bold", "italic", "link", "ol", "ul", "h3", "h4", "blockquote"]


class HeadingBlock(blocks.StructBlock):
    """A section heading inside a lesson (h2) or a sub-heading (h3)."""

    text = blocks.CharBlock(label=_("heading"), max_length=120)
    level = blocks.ChoiceBlock(
        label=_("level"),
        choices=[("h2", pgettext_lazy("heading level", "Section")), ("h3", _("Subsection"))],
        default="h2",
    )

    class Meta:
        icon = "title"
        label = _("Heading")
        template = "blocks/heading.html"
        preview_value = {"text": "一、深刻领会党的二十大精神", "level": "h2"}
        description = _("A heading that splits the lesson into sections.")


class ImageBlock(blocks.StructBlock):
    """An image with an optional caption; rendered with responsive renditions."""

    image = ImageChooserBlock(label=_("image"))
    caption = blocks.CharBlock(label=_("caption"), required=False, max_length=200)
    alt = blocks.CharBlock(
        label=_("description for screen readers"),
        required=False,
        max_length=200,
        help_text=_("Leave empty to use the image's title."),
    )

    class Meta:
        icon = "image"
        label = _("Image")
        template = "blocks/image.html"
        description = _("A picture with a caption, sized for phones and desktops.")


class QuoteBlock(blocks.StructBlock):
    """A quotation of an original text, with its source (原文 and 出处)."""

    text = blocks.TextBlock(label=_("original text"))
    source = blocks.CharBlock(label=_("source"), required=False, max_length=200)

    class Meta:
        icon = "openquote"
        label = _("Quote")
        template = "blocks/quote.html"
        preview_value = {
            "text": "为中国人民谋幸福，为中华民族谋复兴。",
            "source": "中国共产党的初心和使命",
        }
        description = _("An original text and where it comes from.")


class KeyPointsBlock(blocks.StructBlock):
    """The few points a member should remember from a lesson."""

    title = blocks.CharBlock(label=_("title"), default="学习要点", max_length=60)
    points = blocks.ListBlock(blocks.CharBlock(max_length=300), label=_("points"))

    class Meta:
        icon = "list-ul"
        label = _("Key points")
        template = "blocks/key_points.html"
        preview_value = {
            "title": "学习要点",
            "points": ["坚持党的全面领导", "坚持以人民为中心", "坚持全面从严治党"],
        }
        description = _("A short list of what to remember.")


class VideoBlock(blocks.StructBlock):
    """A video: an uploaded file played by the browser, or an embed from a video site."""

    file = DocumentChooserBlock(
        label=_("video file"),
        required=False,
        help_text=_("An MP4 (H.264) file uploaded as a document plays on every phone."),
    )
    embed = EmbedBlock(label=_("or an embed link"), required=False)
    caption = blocks.CharBlock(label=_("caption"), required=False, max_length=200)

    class Meta:
        icon = "media"
        label = _("Video")
        template = "blocks/video.html"
        description = _("A video members watch in the lesson; watching counts towards completion.")

    def clean(self, value: blocks.StructValue) -> blocks.StructValue:
        value = super().clean(value)
        if bool(value.get("file")) == bool(value.get("embed")):
            raise blocks.StructBlockValidationError(
                block_errors={"file": [_("Choose a video file or give an embed link, not both.")]}
            )
        return value


class AttachmentBlock(blocks.StructBlock):
    """A downloadable document (PDF, DOCX …) with a short description."""

    document = DocumentChooserBlock(label=_("document"))
    description = blocks.CharBlock(label=_("description"), required=False, max_length=200)

    class Meta:
        icon = "doc-full"
        label = _("Attachment")
        template = "blocks/attachment.html"
        description = _("A file members can open or download.")


class CalloutBlock(blocks.StructBlock):
    """A highlighted note: a tip, an important point or a warning."""

    kind = blocks.ChoiceBlock(
        label=_("kind"),
        choices=[("info", _("Note")), ("important", _("Important")), ("warning", _("Warning"))],
        default="info",
    )
    text = blocks.RichTextBlock(label=_("text"), features=["bold", "italic", "link"])

    class Meta:
        icon = "warning"
        label = _("Callout")
        template = "blocks/callout.html"
        preview_value = {"kind": "important", "text": "<p>本课学完后请参加课后测验。</p>"}
        description = _("A highlighted note that stands out from the text.")


class LessonStreamBlock(blocks.StreamBlock):
    """The body of a lesson or a policy document."""

    rich_text = blocks.RichTextBlock(
        label=_("Text"),
        features=RICH_TEXT_FEATURES,
        icon="pilcrow",
        template="blocks/rich_text.html",
        preview_value="<p>中国共产党是中国工人阶级的先锋队，同时是中国人民和中华民族的先锋队。</p>",
        description=_("Paragraphs of text with simple formatting."),
    )
    heading = HeadingBlock()
    image = ImageBlock()
    quote = QuoteBlock()
    key_points = KeyPointsBlock()
    video = VideoBlock()
    attachment = AttachmentBlock()
    callout = CalloutBlock()


def attached_document_ids(stream: Any) -> list[int]:
    """Primary keys of the documents in the ``attachment`` blocks of a ``LessonStreamBlock``
    value, in order; read from the raw data, so no document is loaded."""
    ids: list[int] = []
    for item in stream.raw_data if stream else ():
        if item.get("type") != "attachment" or not isinstance(item.get("value"), dict):
            continue
        document_id = item["value"].get("document")
        if isinstance(document_id, int):
            ids.append(document_id)
    return ids
