"""``manage.py rebuild_modelsearch_index``: rebuild every search index atomically.

The command itself is django-modelsearch's; it is exposed under ``cms`` so it is listed
with the project's commands. ``cms.search.backend`` builds a new index generation beside
the live one and swaps it in only when complete (docs/search.md).
"""

from modelsearch.management.commands.rebuild_modelsearch_index import Command  # noqa: F401
