"""Lists cut into pages: the one way pages, the console and API routes paginate.

A short list is cut in memory (`page_of`); a long one (the directory's people, the audit
log) is cut by the database, which counts it and reads one page (`page_bounds` says
which rows).

A page past the last one is a mistake of whoever asked (the API answers 400, a page shows
the first page and says so), never a silently empty page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


class PastLastPageError(ValueError):
    """A page number beyond the end of the list; the message says where the list ends."""


def page_count(total: int, per_page: int) -> int:
    """Pages `total` items fill, at least one: an empty list still has its (empty) first page."""
    return max(1, -(-total // per_page))


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list, and where it sits in the whole list."""

    items: tuple[T, ...]
    """The page's items, in the list's order."""
    number: int
    """The page's number, from 1."""
    per_page: int
    """Items a full page holds."""
    total: int
    """Items in the whole list, on every page."""

    @property
    def pages(self) -> int:
        """Pages in the whole list."""
        return page_count(self.total, self.per_page)

    @property
    def first(self) -> int:
        """The position of this page's first item in the whole list, from 1."""
        return (self.number - 1) * self.per_page + 1


def page_of(rows: Sequence[T], number: int, per_page: int) -> Page[T]:
    """Page `number` of `rows`, `per_page` to a page.

    Raises PastLastPageError beyond the last page, and ValueError for a number or size below 1
    (which the callers' validation never lets through).
    """
    start, _ = page_bounds(len(rows), number, per_page)
    return Page(tuple(rows[start : start + per_page]), number, per_page, len(rows))


def page_bounds(total: int, number: int, per_page: int) -> tuple[int, int]:
    """The offset and limit of page `number` in a list of `total` items (for a query's
    OFFSET and LIMIT); the same errors as `page_of`."""
    if number < 1 or per_page < 1:
        raise ValueError(f"a page number and a page size start at 1, not {number} and {per_page}")
    last = page_count(total, per_page)
    if number > last:
        raise PastLastPageError(f"page {number} is past the last page ({last} of {per_page} items)")
    return (number - 1) * per_page, per_page
