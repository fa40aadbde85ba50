"""Chinese full-text search: a django-modelsearch backend on Whoosh (see docs/search.md)."""
