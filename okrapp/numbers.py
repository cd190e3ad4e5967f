"""Numbers as people type them: "1,250", "1 250", "39.5", and the decimal comma of most of Europe ("39,5").

Stripping every comma (what we did first) turned "39,5" into 395 without a word, so a comma is read as a thousands
separator only where it groups digits in threes ("1,250", "12,500.75"); a single other comma is a decimal comma
("39,5", "0,75"). Anything else that is ambiguous ("1,2,3", "1.250,5.0") is refused rather than guessed.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_SPACES = re.compile(r"[\s\u00a0\u202f\u2009']")  # spaces, no-break and thin spaces, Swiss apostrophes
_COMMA_THOUSANDS = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?")  # 1,250 · 12,500.75
_DOT_THOUSANDS_COMMA_DECIMAL = re.compile(r"[+-]?\d{1,3}(\.\d{3})+(,\d*)?")  # 1.250,5 · 1.250.000
_DECIMAL_COMMA = re.compile(r"[+-]?\d*,\d+")  # 39,5 · ,5


def parse_number(text: str) -> Decimal:
    """The number `text` means, or InvalidOperation when it is not one (or is ambiguous)."""
    cleaned = _SPACES.sub("", text.strip())
    if "," in cleaned or cleaned.count(".") > 1:
        if _COMMA_THOUSANDS.fullmatch(cleaned):
            cleaned = cleaned.replace(",", "")
        elif _DOT_THOUSANDS_COMMA_DECIMAL.fullmatch(cleaned):
            cleaned = cleaned.replace(".", "").replace(",", ".")
        elif _DECIMAL_COMMA.fullmatch(cleaned):
            cleaned = cleaned.replace(",", ".")
        else:
            raise InvalidOperation(text)
    try:
        return Decimal(cleaned)
    except (InvalidOperation, ValueError):
        raise InvalidOperation(text) from None
