"""The JSON API (``/api/v1/``): views, serializers and URLs; it never imports the HTML views."""
