"""Chinese text analysis for the Whoosh index: NFKC, rjieba words, word positions.

Every piece of text goes through the same steps, at index time and at query time:

1. NFKC normalisation, so full-width Latin letters and digits (``ＡＢＣ１２３``) match their
   half-width forms and compatibility characters fold to one spelling.
2. Segmentation into words with rjieba (the Rust port of jieba; see docs/search.md for the
   measurements behind the choice). Whitespace and punctuation are not words.
3. Positions count *words*: consecutive words get consecutive positions, so a Whoosh phrase
   query for the words of ``全面从严治党`` matches where those words stand side by side.
   jieba's own ``ChineseAnalyzer`` uses character offsets as positions, which is why phrase
   queries never match with it.
4. At index time each word also emits its dictionary sub-words (jieba's "search mode":
   ``从严治党`` → ``从严``, ``严治``, ``治党``) and the parts of a Latin compound
   (``COVID-19`` → ``covid``, ``19``), all at the *parent word's* position. A query for
   ``治党`` therefore finds ``全面从严治党``, and the phrase ``"全面 从严"`` still matches
   because ``从严`` stands right after ``全面``.
5. Lower case for Latin text, no stemming (a search for ``party`` must not find ``parties``
   surprises in Chinese content with English names), and no stop words: 的, 了 and 和 are
   indexed like every other word. Dropping them would either break phrases such as
   ``"党的领导"`` or leave position holes that make phrases match the wrong text; keeping them
   costs a few per cent of index size.

Use :func:`chinese_analyzer` in a Whoosh schema and :func:`query_words` to turn user input
into the words to look for.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from types import ModuleType

from whoosh.analysis import Analyzer, LowercaseFilter, Token, Tokenizer

#: Joins the values of one field (paragraphs of a StreamField, several tags) into one text.
#: The tokenizer turns it into a position gap, so a phrase never spans two values.
VALUE_SEPARATOR = "\u2029"
#: How many positions a :data:`VALUE_SEPARATOR` skips; anything above 1 stops phrases.
VALUE_POSITION_GAP = 16

# A token is a word when it has at least one letter or digit (CJK ideographs are letters).
_WORDLIKE = re.compile(r"[^\W_]")
# The letter/digit runs of a Latin compound such as "e-mail", "allow_empty" or "3.14".
_LATIN_PARTS = re.compile(r"[^\W_]+")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")


@cache
def _segmenter() -> ModuleType:
    """Load rjieba on first use: its dictionary costs ~0.1 s and ~35 MB per process."""
    import rjieba

    return rjieba


def segmenter_load() -> None:
    """Load the segmenter and its dictionary now (gunicorn's master does, before forking:
    its workers then share the dictionary's memory instead of loading one each)."""
    _segmenter().cut("中国共产党党员")


@dataclass(frozen=True)
class NormalizedText:
    """NFKC text plus, when asked for, where each of its characters came from."""

    text: str
    #: ``origin_start[i]``: offset in the original text of normalised character ``i``.
    origin_start: list[int] | None = None
    #: ``origin_end[i]``: end offset in the original text of normalised character ``i``.
    origin_end: list[int] | None = None

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Map a ``[start, end)`` span of the normalised text back to the original text."""
        if self.origin_start is None or self.origin_end is None:
            return start, end
        return self.origin_start[start], self.origin_end[end - 1]


def normalize(text: str, *, keep_offsets: bool = False) -> NormalizedText:
    """NFKC-normalise ``text``; with ``keep_offsets``, remember the original offsets.

    Offsets matter for highlighting: the snippet must show the author's own characters
    (full-width ``，`` stays full-width) while matching happens on the normalised form.
    Normalising one base character with its combining marks at a time keeps the mapping
    exact; the result equals whole-string NFKC for everything but exotic scripts.
    """
    if unicodedata.is_normalized("NFKC", text):
        if not keep_offsets:
            return NormalizedText(text)
        offsets = list(range(len(text)))
        return NormalizedText(text, offsets, [offset + 1 for offset in offsets])
    if not keep_offsets:
        return NormalizedText(unicodedata.normalize("NFKC", text))
    pieces: list[str] = []
    origin_start: list[int] = []
    origin_end: list[int] = []
    index = 0
    length = len(text)
    while index < length:
        cluster_end = index + 1
        while cluster_end < length and unicodedata.combining(text[cluster_end]):
            cluster_end += 1
        piece = unicodedata.normalize("NFKC", text[index:cluster_end])
        pieces.append(piece)
        origin_start.extend([index] * len(piece))
        origin_end.extend([cluster_end] * len(piece))
        index = cluster_end
    return NormalizedText("".join(pieces), origin_start, origin_end)


#: (term text before lower-casing, word position, start, end in the normalised text)
WordToken = tuple[str, int, int, int]


def _latin_parts(word: str) -> list[str]:
    if _CJK.search(word):
        return []
    parts = _LATIN_PARTS.findall(word)
    return parts if len(parts) > 1 else []


def iter_word_tokens(text: str, *, with_subwords: bool) -> Iterator[WordToken]:
    """Segment already normalised ``text`` into words with word positions.

    With ``with_subwords`` (index time) every word is followed by its search-mode sub-words
    and Latin parts, which share the word's position. Duplicates (ignoring case) within one
    word are emitted once, so each term has one entry per position.

    This loop runs for every word of every indexed document, so it yields plain tuples and
    takes the ``str.isalnum()`` fast path for the common case of a plain word.
    """
    jieba = _segmenter()
    words = jieba.tokenize(text, mode="default", hmm=True)
    subwords_by_parent: dict[int, list[tuple[str, int, int]]] = {}
    if with_subwords:
        parent_starts = [start for _, start, _ in words]
        for sub, start, end in jieba.tokenize(text, mode="search", hmm=True):
            parent = bisect.bisect_right(parent_starts, start) - 1
            _, parent_start, parent_end = words[parent]
            if (start, end) != (parent_start, parent_end):
                subwords_by_parent.setdefault(parent, []).append((sub, start, end))
    position = -1
    for index, (word, start, end) in enumerate(words):
        latin: list[str] = []
        if not word.isalnum():
            if VALUE_SEPARATOR in word:
                position += VALUE_POSITION_GAP
                continue
            if not _WORDLIKE.search(word):
                continue  # whitespace, punctuation, symbols
            if with_subwords:
                latin = _latin_parts(word)
        position += 1
        yield word, position, start, end
        subwords = subwords_by_parent.get(index)
        if not subwords and not latin:
            continue
        seen = {word.lower()}
        for sub, sub_start, sub_end in subwords or ():
            lowered = sub.lower()
            if lowered not in seen and _WORDLIKE.search(sub):
                seen.add(lowered)
                yield sub, position, sub_start, sub_end
        offset = start
        for part in latin:
            part_start = text.index(part, offset)
            offset = part_start + len(part)
            if part.lower() not in seen:
                seen.add(part.lower())
                yield part, position, part_start, offset


class ChineseTokenizer(Tokenizer):
    """A Whoosh tokenizer that yields NFKC-normalised jieba words with word positions.

    In ``mode="index"`` (what Whoosh passes while indexing) it adds sub-words at their
    parent's position; in any other mode (queries) it yields only the words themselves.
    Character offsets, when requested, point into the caller's original text.
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
    ) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            token.original = token.text = unicodedata.normalize("NFKC", value)
            token.boost = 1.0
            token.stopped = False
            if positions:
                token.pos = start_pos
            if chars:
                token.startchar = start_char
                token.endchar = start_char + len(value)
            yield token
            return
        normalized = normalize(value, keep_offsets=chars)
        for text, position, start, end in iter_word_tokens(
            normalized.text, with_subwords=mode == "index"
        ):
            token.text = text
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = text
            if positions:
                token.pos = start_pos + position
            if chars:
                start, end = normalized.original_span(start, end)
                token.startchar = start_char + start
                token.endchar = start_char + end
            yield token


def chinese_analyzer() -> Analyzer:
    """The analyzer for every text field of the index: :class:`ChineseTokenizer` + lower case.

    Whoosh pickles the analyzer into the index's table of contents, so renaming this module
    or the tokenizer class means rebuilding the index.
    """
    return ChineseTokenizer() | LowercaseFilter()


@dataclass(frozen=True)
class QueryWord:
    """A word of a query, lower-cased, with the pieces that also count as a match.

    ``pieces`` tile the word with smaller indexed words: ``支部书记`` → (``支部``, ``书记``),
    ``人民共和国`` → (``人民``, ``共和国``). A document that segments the same characters
    differently (``党支部`` ``书记``, or ``中华人民共和国`` as one word) holds the pieces as
    words or sub-words, so searching for the pieces too finds it.
    """

    text: str
    pieces: tuple[str, ...] = ()


def _tiling(word: str, subwords: list[tuple[str, int, int]]) -> tuple[str, ...]:
    """The fewest sub-words that cover ``word`` end to end, or () if they cannot."""
    best: dict[int, tuple[str, ...]] = {0: ()}
    for end in range(1, len(word) + 1):
        candidates = [
            best[start] + (sub,)
            for sub, start, sub_end in subwords
            if sub_end == end and start in best
        ]
        if candidates:
            best[end] = min(candidates, key=len)
    return best.get(len(word), ())


def query_words(text: str, *, limit: int = 32, distinct: bool = True) -> list[QueryWord]:
    """The words of a user's query, in order, at most ``limit`` of them.

    ``distinct`` drops repeated words (right for AND/OR queries); a phrase keeps them, since
    ``我们的党的建设`` needs both 的 in their places.

    The limit bounds the cost of pasted essays; 32 words is far more than anyone types.
    Punctuation, whitespace and query syntax characters (``AND OR ( title:``) are either
    dropped or become ordinary words, so no input can raise here.
    """
    normalized = normalize(text).text
    jieba = _segmenter()
    words: list[QueryWord] = []
    seen: set[str] = set()
    for text, _, _, _ in iter_word_tokens(normalized, with_subwords=False):
        lowered = text.lower()
        if distinct and lowered in seen:
            continue
        seen.add(lowered)
        pieces: tuple[str, ...] = ()
        latin = _latin_parts(text)
        if latin:
            pieces = tuple(part.lower() for part in latin)
        elif len(text) > 2:
            subwords = [
                (sub, start, end)
                for sub, start, end in jieba.tokenize(text, mode="search", hmm=True)
                if (start, end) != (0, len(text))
            ]
            pieces = tuple(piece.lower() for piece in _tiling(text, subwords))
        words.append(QueryWord(lowered, pieces))
        if len(words) >= limit:
            break
    return words


def index_terms(text: str) -> list[tuple[str, int, int]]:
    """Every term the index stores for ``text``: (lower-cased term, start, end) in ``text``.

    Used for highlighting, so offsets refer to the original, unnormalised text.
    """
    normalized = normalize(text, keep_offsets=True)
    terms = []
    for text, _, start, end in iter_word_tokens(normalized.text, with_subwords=True):
        start, end = normalized.original_span(start, end)
        terms.append((text.lower(), start, end))
    return terms
