"""One page of a long table (50 rows), from a page parameter typed by hand: anything that is
not a page number gives page 1, a number past the end the last page (never a 500)."""

from __future__ import annotations

from dataclasses import dataclass

PER_PAGE = 50


@dataclass
class Page:
    number: int
    pages: int
    count: int
    per_page: int = PER_PAGE

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.per_page

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @property
    def previous(self) -> int:
        return self.number - 1

    @property
    def next(self) -> int:
        return self.number + 1

    @property
    def numbers(self) -> range:
        return range(1, self.pages + 1)


def page_of(raw, count: int, per_page: int = PER_PAGE) -> Page:
    pages = max(1, -(-count // per_page))
    try:
        number = int(raw)
    except (TypeError, ValueError):
        number = 1
    return Page(number=min(max(number, 1), pages), pages=pages, count=count, per_page=per_page)
