"""Any table of the workspace API as a CSV download, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

import msgspec
from litestar import Response

from surveys.infra.spreadsheets import spreadsheet_safe


def csv_download(name: str, rows: Sequence[msgspec.Struct]) -> Response[str]:
    """Rows as a CSV download; text that a spreadsheet would run as a formula is quoted."""
    out = io.StringIO()
    writer = csv.writer(out)
    if rows:
        fields = rows[0].__struct_fields__
        writer.writerow(fields)
        for row in rows:
            writer.writerow([_cell(getattr(row, f)) for f in fields])
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in name)
    return Response(
        out.getvalue(),
        media_type="text/csv",  # Litestar adds "; charset=utf-8" to text types
        headers={"Content-Disposition": f'attachment; filename="{safe}.csv"'},
    )


def _cell(value: object) -> object:
    """A value as a CSV cell: lists joined, formulas defused, None empty."""
    if isinstance(value, list):
        value = "; ".join(str(v) for v in value)
    return "" if value is None else spreadsheet_safe(value)
