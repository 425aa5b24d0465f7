"""The audit log as CSV for a spreadsheet: one row per entry, people by name and e-mail.
A cell that a spreadsheet would read as a formula (starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return) is prefixed with ``'`` so it stays text."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

HEADER = ("time", "person", "e-mail", "action", "details")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def details_text(details: dict[str, Any]) -> str:
    return ", ".join(f"{key}: {value}" for key, value in details.items())


def csv_lines(entries: Iterable[dict[str, Any]], header: bool = False) -> str:
    """CSV text (RFC 4180 quoting, CRLF) for named entries, with the header line first if asked."""
    out = io.StringIO()
    writer = csv.writer(out)
    if header:
        writer.writerow(HEADER)
    for entry in entries:
        writer.writerow([cell(v) for v in (entry["time"], entry["user_name"], entry["user_email"], entry["action"],
                                           details_text(entry["details"]))])
    return out.getvalue()
