"""Table columns for the Wagtail admin lists that Wagtail's own do not say in Chinese."""

from __future__ import annotations

from wagtail.admin.ui.tables import BooleanColumn


class YesNoColumn(BooleanColumn):
    """A tick or a cross, named 是/否 for screen readers.

    Wagtail's ``BooleanColumn`` gives its icon the title ``True``/``False`` (the Python
    value as text), which a screen reader reads out in English.
    """

    cell_template_name = "includes/admin_yes_no_cell.html"
