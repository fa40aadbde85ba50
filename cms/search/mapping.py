"""How a model's ``search_fields`` become Whoosh fields and documents.

One Whoosh index holds every model that shares a concrete root model (all Wagtail pages in
``wagtailcore_page``, documents in ``wagtaildocs_document`` …), like modelsearch's
Elasticsearch backend. Filter columns are named like that backend's, with the defining
model as prefix, because two subclasses may define same-named fields of different types.
Text columns all have one type, so they are shared by name (the content-type filter keeps
models apart), which keeps the number of columns a query must OR together small:

- ``SearchField("title")`` → ``title`` (analysed text, word positions)
- ``SearchField("body")`` on ``LessonPage`` and on ``PolicyDocumentPage`` → ``body``
- ``RelatedFields("tags", [SearchField("name")])`` on ``CoursePage`` → ``tags__name``
- ``FilterField("live")`` → ``live_filter``; ``FilterField("status")`` on
  ``PolicyDocumentPage`` → ``cms_policydocumentpage__status_filter`` (typed, sortable)
- ``AutocompleteField("title")`` reuses ``title`` when a SearchField of the same name
  exists, otherwise ``title_autocomplete``

Text fields store nothing but postings with positions (the database holds the text), which
keeps the index small; the key is the only stored value.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.db import models
from modelsearch.backends.base import get_model_root
from modelsearch.index import (
    AutocompleteField,
    FilterField,
    RelatedFields,
    SearchField,
    get_indexed_models,
)
from whoosh import fields
from whoosh.analysis import Tokenizer

from cms.search.analysis import VALUE_SEPARATOR, chinese_analyzer

KEY = "ix__key"  # str(pk): the unique document key
CONTENT_TYPES = "ix__ct"  # "app_label.model" of the object's class and its indexed parents
ORDER = "ix__pk"  # the primary key as a sortable column, for "no particular order"
NULLS = "ix__null"  # names of the filter columns whose value is None

_INT_TYPES = {
    "AutoField",
    "BigAutoField",
    "SmallAutoField",
    "IntegerField",
    "BigIntegerField",
    "SmallIntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "PositiveBigIntegerField",
    "BooleanField",
    "NullBooleanField",
}
_FLOAT_TYPES = {"FloatField", "DecimalField"}
_DATE_TYPES = {"DateField", "DateTimeField"}

_MULTI_VALUE_SEPARATOR = "\x1f"


class MultiValueTokenizer(Tokenizer):
    """Yields each value of a ``\\x1f``-joined list as one exact token (no analysis).

    Filter values reached through a to-many relation are lists; values may contain spaces,
    so Whoosh's KEYWORD splitting would cut them apart.
    """

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: object,
    ) -> Iterator[Any]:
        from whoosh.analysis import Token

        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        values = value.split(_MULTI_VALUE_SEPARATOR) if tokenize else [value]
        for position, item in enumerate(values):
            token.text = item
            token.boost = 1.0
            token.stopped = False
            if positions:
                token.pos = start_pos + position
            yield token


def filter_kind(model: type[models.Model], field: FilterField) -> str:
    """``int``, ``float``, ``datetime`` or ``id`` (exact string) for a FilterField."""
    internal_type = field.get_type(model)
    if internal_type in _INT_TYPES:
        return "int"
    if internal_type in _FLOAT_TYPES:
        return "float"
    if internal_type in _DATE_TYPES:
        return "datetime"
    return "id"


def encode_filter_value(kind: str, value: Any) -> Any:
    """Turn a model or lookup value into what the Whoosh column of ``kind`` holds.

    The same function serves indexing and querying, so a filter compares like with like:
    booleans are 0/1, aware datetimes are naive UTC (Whoosh's DATETIME is naive), dates are
    midnight datetimes, everything else in an ``id`` column is its ``str()``.
    """
    if isinstance(value, models.Model):
        value = value.pk
    if value is None:
        return None
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    if kind == "datetime":
        if isinstance(value, str):
            value = datetime.datetime.fromisoformat(value)
        if isinstance(value, datetime.datetime):
            if value.tzinfo is not None:
                value = value.astimezone(datetime.UTC).replace(tzinfo=None)
            return value
        if isinstance(value, datetime.date):
            return datetime.datetime(value.year, value.month, value.day)
        raise TypeError(f"Cannot use {value!r} as a date")
    if isinstance(value, datetime.time):
        return value.isoformat()
    return str(value)


def _whoosh_filter_field(kind: str, *, multi: bool) -> fields.FieldType:
    if kind == "int":
        return fields.NUMERIC(int, bits=64, signed=True, sortable=not multi)
    if kind == "float":
        return fields.NUMERIC(float, bits=64, sortable=not multi)
    if kind == "datetime":
        return fields.DATETIME(sortable=not multi)
    if multi:
        return fields.TEXT(analyzer=MultiValueTokenizer(), phrase=False, scorable=False)
    return fields.ID(sortable=True)


def text_field() -> fields.FieldType:
    """Analysed Chinese text with word positions (for phrase queries), nothing stored."""
    return fields.TEXT(analyzer=chinese_analyzer(), phrase=True, stored=False)


@cache
def _definition_prefixes() -> tuple[str, ...]:
    return tuple(
        f"{model._meta.app_label.lower()}_{model.__name__.lower()}__"
        for model in get_indexed_models()
    )


def _without_definition_prefix(prefix: str) -> str:
    """Text columns are shared between models: ``body`` of lessons and of policies is one
    column. All text columns have the same type, so sharing is safe, and a search over all
    pages then ORs a handful of columns instead of one per model and field."""
    for definition_prefix in _definition_prefixes():
        if prefix.startswith(definition_prefix):
            return prefix[len(definition_prefix) :]
    return prefix


def _definition_prefix(model: type[models.Model], field: Any) -> str:
    root = get_model_root(model)
    definition = field.get_definition_model(model)
    if definition is None or definition is root or not hasattr(definition, "_meta"):
        return ""
    return f"{definition._meta.app_label.lower()}_{definition.__name__.lower()}__"


@dataclass(frozen=True)
class Column:
    """One Whoosh field fed by one ``search_fields`` entry (possibly inside RelatedFields)."""

    name: str
    role: str  # "search", "autocomplete" or "filter"
    kind: str  # "text" for search/autocomplete, else a filter kind
    boost: float = 1.0
    multi: bool = False  # reached through a to-many relation

    def whoosh_field(self) -> fields.FieldType:
        if self.role == "filter":
            return _whoosh_filter_field(self.kind, multi=self.multi)
        return text_field()


def _is_to_many(model: type[models.Model], related: RelatedFields) -> bool:
    field = related.get_field(model)
    return bool(field.many_to_many or field.one_to_many)


@cache
def _columns_of_role(model: type[models.Model], role: str) -> tuple[tuple[str, float], ...]:
    """(column, boost) of ``role`` for ``model`` and its indexed subclasses.

    Walking every subclass's ``search_fields`` showed up in the profile of every query;
    the fields are class attributes, fixed once the models are loaded, so one walk per
    process is enough.
    """
    found: dict[str, float] = {}
    for each in [model, *subclasses(model)]:
        for column in ModelMapping(each).columns():
            if column.role == role:
                found[column.name] = max(found.get(column.name, 0), column.boost)
    return tuple(found.items())


class ModelMapping:
    """Columns and documents for one indexed model class."""

    def __init__(self, model: type[models.Model]) -> None:
        self.model = model
        self.root = get_model_root(model)

    def content_types(self) -> list[str]:
        """``app_label.model`` of this class and each indexed concrete ancestor."""
        labels = [self.model._meta.label_lower]
        for parent in self.model._meta.get_parent_list():
            if parent in get_indexed_models():
                labels.append(parent._meta.label_lower)
        return labels

    def column_for(
        self,
        entry: Any,
        *,
        model: type[models.Model] | None = None,
        prefix: str | None = None,
        siblings: Iterable[Any] | None = None,
    ) -> str:
        """The Whoosh field name for one ``search_fields`` entry of ``model``.

        ``siblings`` are the entries at the same level (the model's ``search_fields`` or a
        RelatedFields' ``fields``): an AutocompleteField shares the column of a sibling
        SearchField with the same name instead of indexing the same text twice.
        """
        model = model or self.model
        if siblings is None:
            siblings = model.get_search_fields()
        if prefix is None:
            prefix = _definition_prefix(model, entry)
        if isinstance(entry, RelatedFields):
            return prefix + entry.field_name
        attname = entry.get_attname(model)
        if isinstance(entry, FilterField):
            return f"{prefix}{attname}_filter"
        text_prefix = _without_definition_prefix(prefix)
        if isinstance(entry, AutocompleteField):
            searchable = {field.field_name for field in siblings if isinstance(field, SearchField)}
            if entry.field_name in searchable:
                return text_prefix + attname
            return f"{text_prefix}{attname}_autocomplete"
        return text_prefix + attname

    def _walk(
        self,
        entries: Iterable[Any],
        model: type[models.Model],
        prefix: str | None,
        multi: bool,
    ) -> Iterator[tuple[Any, Column, type[models.Model]]]:
        entries = list(entries)
        for entry in entries:
            name = self.column_for(entry, model=model, prefix=prefix, siblings=entries)
            if isinstance(entry, RelatedFields):
                related_model = entry.get_field(model).related_model
                yield from self._walk(
                    entry.fields,
                    related_model,
                    name + "__",
                    multi or _is_to_many(model, entry),
                )
            elif isinstance(entry, FilterField):
                kind = filter_kind(model, entry)
                yield entry, Column(name, "filter", kind, multi=multi), model
            elif isinstance(entry, AutocompleteField):
                yield entry, Column(name, "autocomplete", "text", multi=multi), model
            elif isinstance(entry, SearchField):
                column = Column(name, "search", "text", float(entry.boost or 1), multi)
                yield entry, column, model

    def columns(self) -> list[Column]:
        """Every column this model writes, nested RelatedFields included."""
        return [
            column
            for _, column, _ in self._walk(self.model.get_search_fields(), self.model, None, False)
        ]

    def search_columns(self, field_names: Iterable[str] | None = None) -> dict[str, float]:
        """Text columns to search, with boosts.

        With ``field_names`` only those SearchFields of this model; without, every
        SearchField of this model and of its indexed subclasses (searching all pages must
        look into ``LessonPage.body`` too).
        """
        if field_names is not None:
            wanted = set(field_names)
            return {
                self.column_for(field): float(field.boost or 1)
                for field in self.model.get_searchable_search_fields()
                if field.field_name in wanted
            }
        return self._columns_of_role("search")

    def autocomplete_columns(self, field_names: Iterable[str] | None = None) -> dict[str, float]:
        if field_names is not None:
            wanted = set(field_names)
            return {
                self.column_for(field): 1.0
                for field in self.model.get_autocomplete_search_fields()
                if field.field_name in wanted
            }
        return self._columns_of_role("autocomplete")

    def _columns_of_role(self, role: str) -> dict[str, float]:
        return dict(_columns_of_role(self.model, role))

    def filter_column(self, field_path: list[Any]) -> Column:
        """The column for a filter path as modelsearch gives it: RelatedFields…, FilterField."""
        model = self.model
        prefix: str | None = None
        multi = False
        for entry in field_path[:-1]:
            name = self.column_for(entry, model=model, prefix=prefix, siblings=())
            multi = multi or _is_to_many(model, entry)
            model = entry.get_field(model).related_model
            prefix = name + "__"
        last = field_path[-1]
        name = self.column_for(last, model=model, prefix=prefix, siblings=())
        return Column(name, "filter", filter_kind(model, last), multi=multi)

    def document(self, obj: models.Model) -> dict[str, Any]:
        """The Whoosh document for ``obj``: key, content types, text and filter values."""
        texts: dict[str, list[str]] = {}
        filters: dict[str, list[Any]] = {}
        kinds: dict[str, Column] = {}
        for column, value in self._values(self.model.get_search_fields(), obj, None, False):
            kinds[column.name] = column
            if column.role == "filter":
                filters.setdefault(column.name, []).extend(_as_list(value))
            else:
                texts.setdefault(column.name, []).extend(_text_values(value))
        doc: dict[str, Any] = {
            KEY: str(obj.pk),
            CONTENT_TYPES: " ".join(self.content_types()),
        }
        if isinstance(obj.pk, int):
            doc[ORDER] = obj.pk
        for name, values in texts.items():
            text = VALUE_SEPARATOR.join(value for value in values if value)
            if text:
                doc[name] = text
        nulls = []
        for name, values in filters.items():
            column = kinds[name]
            encoded = [encode_filter_value(column.kind, value) for value in values]
            encoded = [value for value in encoded if value is not None]
            if not encoded:
                nulls.append(name)
            elif column.multi and column.kind == "id":
                doc[name] = _MULTI_VALUE_SEPARATOR.join(encoded)
            elif column.multi:
                doc[name] = encoded
            else:
                doc[name] = encoded[0]
        if nulls:
            doc[NULLS] = " ".join(nulls)
        return doc

    def _values(
        self,
        entries: Iterable[Any],
        obj: models.Model,
        prefix: str | None,
        multi: bool,
    ) -> Iterator[tuple[Column, Any]]:
        model = type(obj)
        entries = list(entries)
        for entry in entries:
            name = self.column_for(entry, model=model, prefix=prefix, siblings=entries)
            if isinstance(entry, RelatedFields):
                value = entry.get_value(obj)
                nested_multi = multi or _is_to_many(model, entry)
                if isinstance(value, models.Manager | models.QuerySet):
                    related_objects = list(value.all())
                elif isinstance(value, models.Model):
                    related_objects = [value]
                else:
                    related_objects = []
                if not related_objects:
                    # Still report the columns, so filters on them see "null".
                    related_model = entry.get_field(model).related_model
                    for nested_entry, column, _ in self._walk(
                        entry.fields, related_model, name + "__", nested_multi
                    ):
                        if isinstance(nested_entry, FilterField):
                            yield column, None
                for related in related_objects:
                    yield from self._values(entry.fields, related, name + "__", nested_multi)
                continue
            if isinstance(entry, FilterField):
                column = Column(name, "filter", filter_kind(model, entry), multi=multi)
                yield column, _filter_value(entry, obj)
            elif isinstance(entry, AutocompleteField):
                if name.endswith("_autocomplete"):
                    yield Column(name, "autocomplete", "text", multi=multi), entry.get_value(obj)
            elif isinstance(entry, SearchField):
                column = Column(name, "search", "text", float(entry.boost or 1), multi)
                yield column, entry.get_value(obj)


def _filter_value(entry: FilterField, obj: models.Model) -> Any:
    value = entry.get_value(obj)
    if isinstance(value, models.Manager | models.QuerySet):
        return list(value.values_list("pk", flat=True))
    return value


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list | tuple | set | frozenset):
        return list(value)
    return [value]


def _text_values(value: Any) -> list[str]:
    """Flatten what ``SearchField.get_value`` returns (str, list, tags, numbers) to strings."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, models.Manager | models.QuerySet):
        return [str(item) for item in value.all()]
    if isinstance(value, Iterable):
        flattened: list[str] = []
        for item in value:
            flattened.extend(_text_values(item))
        return flattened
    return [str(value)]


def subclasses(model: type[models.Model]) -> list[type[models.Model]]:
    """Indexed models that inherit from ``model`` (not ``model`` itself)."""
    return [
        other for other in get_indexed_models() if other is not model and issubclass(other, model)
    ]


@cache
def _index_models(root: type[models.Model]) -> tuple[type[models.Model], ...]:
    return tuple(model for model in get_indexed_models() if get_model_root(model) is root)


def schema_fields(root: type[models.Model]) -> dict[str, fields.FieldType]:
    """Every Whoosh field of the index for ``root`` and its indexed subclasses."""
    found: dict[str, fields.FieldType] = {
        KEY: fields.ID(stored=True, unique=True),
        CONTENT_TYPES: fields.KEYWORD(lowercase=False, commas=False, scorable=False),
        NULLS: fields.KEYWORD(lowercase=False, commas=False, scorable=False),
    }
    pk_field = root._meta.pk
    while pk_field.is_relation:
        pk_field = pk_field.target_field
    if pk_field.get_internal_type() in _INT_TYPES:
        found[ORDER] = fields.NUMERIC(int, bits=64, signed=True, sortable=True)
    for model in _index_models(root) or (root,):
        for column in ModelMapping(model).columns():
            found.setdefault(column.name, column.whoosh_field())
    return found


def schema_for(root: type[models.Model]) -> fields.Schema:
    return fields.Schema(**schema_fields(root))
