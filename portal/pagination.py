"""Page arithmetic shared by every numbered list (search results, a customer's tickets)."""

from __future__ import annotations


class PageNumbers:
    """Mixin for a dataclass with `total`, `page` and `per_page`."""

    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def has_previous(self) -> bool:
        return self.page > 1
