"""German number, percentage and date formats: the one place that writes them.

Every figure a user reads (app, CLI text output, council report, validation
messages, explanations) goes through these functions, so ``1.234,5`` and
``87,3 %`` look the same everywhere. Missing values print as an en dash.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime

#: What a missing or non-finite value prints as.
MISSING = "–"


def _finite(value: object) -> float | None:
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def de_number(value: object, decimals: int = 1, *, signed: bool = False) -> str:
    """A number with German separators: thousands ``.``, decimals ``,``.

    >>> de_number(1234.56), de_number(1234.56, 0), de_number(-0.25, 2), de_number(None)
    ('1.234,6', '1.235', '-0,25', '–')
    >>> de_number(3.25, 1, signed=True), de_number(-1e-9, 0)
    ('+3,2', '0')
    """
    x = _finite(value)
    if x is None:
        return MISSING
    if round(x, decimals) == 0:  # no »-0«: a value that rounds to zero is zero
        x = 0.0
    text = f"{x:+,.{decimals}f}" if signed else f"{x:,.{decimals}f}"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def de_int(value: object) -> str:
    """A whole number with German thousands separators.

    >>> de_int(17939936), de_int(2.6), de_int(float("nan"))
    ('17.939.936', '3', '–')
    """
    return de_number(value, 0)


def de_pct(value: object, decimals: int = 1, *, fraction: bool = False) -> str:
    """A percentage with German decimals and a space before ``%``.

    Parameters
    ----------
    value
        The percentage (``87.3``), or with ``fraction=True`` the share (``0.873``).
    decimals
        Decimal places.
    fraction
        Whether ``value`` is a share between 0 and 1.

    >>> de_pct(87.34), de_pct(0.8734, fraction=True), de_pct(None)
    ('87,3 %', '87,3 %', '–')
    """
    x = _finite(value)
    if x is None:
        return MISSING
    return f"{de_number(x * 100.0 if fraction else x, decimals)} %"


def de_share(share: object, decimals: int = 1) -> str:
    """A share between 0 and 1 as a German percentage.

    >>> de_share(0.8734), de_share(None)
    ('87,3 %', '–')
    """
    return de_pct(share, decimals, fraction=True)


def shown_percent(share: object, decimals: int = 1) -> float:
    """A share as the percentage :func:`de_share` prints, as a number (NaN when missing).

    >>> shown_percent(0.87349), shown_percent(None)
    (87.3, nan)
    """
    x = _finite(share)
    return math.nan if x is None else round(100.0 * x, decimals)


def points_between(before: object, after: object, decimals: int = 1) -> float:
    """The change from one share to another in percentage points, as the difference of the shown percentages.

    A reader subtracts the printed figures, so every surface takes the difference of the rounded
    percentages: 53,6 % → 53,8 % is 0,2 points even where the exact shares differ by 0,14.
    NaN where either share is missing.

    >>> points_between(0.5362, 0.5376), points_between(0.794, 0.711), points_between(None, 0.5)
    (0.2, -8.3, nan)
    """
    return round(shown_percent(after, decimals) - shown_percent(before, decimals), decimals)


def de_points(before: object, after: object, decimals: int = 1) -> str:
    """:func:`points_between` as signed German text (``+0,2``, ``-8,3``, ``±0,0``, ``–`` when missing).

    >>> de_points(0.5362, 0.5376), de_points(0.794, 0.711), de_points(1.0, 1.0), de_points(0.5, None)
    ('+0,2', '-8,3', '±0,0', '–')
    """
    return de_signed_points(points_between(before, after, decimals), decimals)


def de_signed_points(points: float, decimals: int = 1) -> str:
    """A change in percentage points (from :func:`points_between`) as signed German text.

    >>> de_signed_points(0.2), de_signed_points(-8.3), de_signed_points(0.0), de_signed_points(float("nan"))
    ('+0,2', '-8,3', '±0,0', '–')
    """
    if points == 0:
        return "±" + de_number(0.0, decimals)
    return de_number(points, decimals, signed=True)


def de_date(value: date | datetime | str | None) -> str:
    """A date as ``TT.MM.JJJJ`` (ISO strings are accepted; anything else is returned as it is).

    >>> de_date("2022-05-15"), de_date(date(2026, 12, 1)), de_date(None)
    ('15.05.2022', '01.12.2026', '–')
    """
    if value is None or value == "":
        return MISSING
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10]).strftime("%d.%m.%Y")
        except ValueError:
            return value
    return value.strftime("%d.%m.%Y")


def de_as_of(as_of: str | None, imported_at: str | None = None) -> str:
    """A data set's reference date (Stand) in German; when unknown, the day it came in, named as such.

    The import day is not the data's Stand: MSB school data of 2021 imported today is not »Stand heute«.

    >>> de_as_of("2019-12-31"), de_as_of("2026-11"), de_as_of("2021"), de_as_of("31.12.2019")
    ('31.12.2019', '11/2026', '2021', '31.12.2019')
    >>> de_as_of(None, "2026-12-07T14:02:11+00:00"), de_as_of("")
    ('unbekannt (Import 07.12.2026)', 'unbekannt')
    """
    text = (as_of or "").strip()
    if not text:
        return f"unbekannt (Import {de_as_of(imported_at[:10])})" if imported_at else "unbekannt"
    if full := re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text):
        return f"{full[3]}.{full[2]}.{full[1]}"
    if month := re.fullmatch(r"(\d{4})-(\d{2})", text):
        return f"{month[2]}/{month[1]}"
    return text


def de_minutes(seconds: object) -> str:
    """Travel time in whole minutes, e.g. ``12 min``.

    >>> de_minutes(725), de_minutes(float("inf"))
    ('12 min', '–')
    """
    x = _finite(seconds)
    return MISSING if x is None else f"{de_int(x / 60.0)} min"


def de_eur(value: object) -> str:
    """An amount in euros without cents: ``12.500 €``.

    >>> de_eur(12500)
    '12.500 €'
    """
    return f"{de_int(value)} €"


def de_count(value: object, one: str, many: str) -> str:
    """A count with its noun in singular or plural: ``1 neuer Standort``, ``3 neue Standorte``.

    >>> de_count(1, "neuer Standort", "neue Standorte"), de_count(12500, "Person", "Personen")
    ('1 neuer Standort', '12.500 Personen')
    """
    return f"{de_int(value)} {one if _finite(value) == 1 else many}"


#: How a figure is worded whose interval has no width: the demand it rests on carries no documented noise.
NO_NOISE = "ohne dokumentiertes Rauschen der Quelle"


def de_count_interval(value: object, low: object, high: object, level: float = 0.9, *, what: str = "Personen") -> str:
    """A count with its interval: ``7.318 Personen (90 %-Intervall 6.653–7.990)``.

    An interval of no width (demand from official totals) is no interval: it says so (:data:`NO_NOISE`).

    >>> de_count_interval(7318, 6653.3, 7990.1)
    '7.318 Personen (90 %-Intervall 6.653–7.990)'
    >>> de_count_interval(12, None, None, what=""), de_count_interval(90412.0, 90412.0, 90412.0)
    ('12 (Intervall –)', '90.412 Personen (ohne dokumentiertes Rauschen der Quelle)')
    """
    head = de_int(value) + (f" {what}" if what else "")
    lo, hi = _finite(low), _finite(high)
    if lo is None or hi is None:
        return f"{head} (Intervall {MISSING})"
    if lo == hi == _finite(value):
        return f"{head} ({NO_NOISE})"
    return f"{head} ({de_pct(level * 100.0, 0)}-Intervall {de_int(lo)}–{de_int(hi)})"


def de_share_interval(
    share: object, low: object, high: object, level: float = 0.9, *, what: str = "", decimals: int = 0
) -> str:
    """A share with its interval: ``97 % versorgt (90 %-Intervall 95–98 %)``.

    Parameters
    ----------
    share, low, high
        The share and the bounds of its interval (between 0 and 1).
    level
        Coverage of the interval (0.9 = 90 %).
    what
        Word after the share (»versorgt«), optional.
    decimals
        Decimal places of the percentages.

    >>> de_share_interval(0.9712, 0.951, 0.9801, what="versorgt")
    '97 % versorgt (90 %-Intervall 95–98 %)'
    >>> de_share_interval(0.5, None, None)
    '50 % (Intervall –)'
    """
    head = de_share(share, decimals) + (f" {what}" if what else "")
    lo, hi = _finite(low), _finite(high)
    if lo is None or hi is None:
        return f"{head} (Intervall {MISSING})"
    span = f"{de_number(lo * 100.0, decimals)}–{de_pct(hi, decimals, fraction=True)}"
    return f"{head} ({de_pct(level * 100.0, 0)}-Intervall {span})"
