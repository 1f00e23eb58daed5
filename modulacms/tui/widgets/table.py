"""A data table whose string cells are shown as typed, never read as markup."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import CellType, RowKey


class PlainTable(DataTable[CellType]):
    """Rows hold database values (titles, names, notes): plain text, whatever they contain."""

    def add_row(
        self,
        *cells: CellType,
        height: int | None = 1,
        key: str | None = None,
        label: str | Text | None = None,
    ) -> RowKey:
        literal = [Text(cell) if isinstance(cell, str) else cell for cell in cells]
        return super().add_row(*literal, height=height, key=key, label=label)  # type: ignore[arg-type]
