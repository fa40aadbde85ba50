"""The image upload form of the Wagtail admin (``WAGTAILIMAGES_IMAGE_FORM_BASE``).

Wagtail recognises an image by its first bytes and measures it only afterwards, with
Pillow; a file that starts like a GIF (``GIF89a…``) but is not one passed the first check
and made Pillow raise ``UnidentifiedImageError`` out of the form: the upload answered 500.
Here such a file is an ordinary form error ("not a valid image"), on every upload path
that uses Wagtail's image form (add, multiple upload, chooser upload, edit).
"""

from __future__ import annotations

import struct
from typing import Any

from django.core.exceptions import ValidationError
from PIL import Image as PILImage
from wagtail.images.fields import WagtailImageField
from wagtail.images.forms import BaseImageForm

# What Pillow raises for a file it cannot read: UnidentifiedImageError is an OSError;
# broken headers raise SyntaxError, ValueError, EOFError or struct.error.
_UNREADABLE = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error)


class CheckedImageField(WagtailImageField):
    """Wagtail's image field that refuses, as a form error, a file Pillow cannot decode."""

    def check_image_pixel_size(self, f: Any) -> None:
        try:
            super().check_image_pixel_size(f)
            _decode(f.image)
        except _UNREADABLE as error:
            raise ValidationError(
                self.error_messages["invalid_image"], code="invalid_image"
            ) from error


def _decode(image: Any) -> None:
    """Decode a raster image's first frame, so a truncated or corrupt file fails now.

    The pixel count has been checked already, so this is bounded. SVG has no pixels.
    """
    if image.format_name == "svg":
        return
    stream = image.f
    stream.seek(0)
    with PILImage.open(stream) as decoded:
        decoded.load()
    stream.seek(0)


class ImageForm(BaseImageForm):
    """Wagtail's image form with ``CheckedImageField`` for the file."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields.get("file")
        if field is not None and not isinstance(field, CheckedImageField):
            checked = CheckedImageField(
                label=field.label,
                required=field.required,
                widget=field.widget,
                help_text=field.help_text,
            )
            self.fields["file"] = checked
