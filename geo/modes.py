"""The travel modes, declared once: walking, cycling, driving and public transport.

Every part of the application that needs a mode (the street-network loader,
the travel-time analyses, the CLI choices, the app's radio buttons and the
report texts) reads :data:`MODES`. Adding a mode means adding one
:class:`TravelMode` here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal, cast, get_args

from geo.errors import DataError

#: Identifier of a travel mode.
Mode = Literal["walk", "bike", "drive", "oepnv"]
#: Modes that have a street network of their own (public transport walks on the walk network).
StreetMode = Literal["walk", "bike", "drive"]
STREET_MODES: tuple[StreetMode, ...] = get_args(StreetMode)

#: Drive speed (km/h) for highway types that carry no ``maxspeed`` anywhere in
#: the graph: the German built-up-area limit (§ 3 StVO).
DRIVE_FALLBACK_KMH = 50.0


@dataclass(frozen=True)
class TravelMode:
    """One travel mode.

    Parameters
    ----------
    id
        Stable identifier used in the CLI, the cache and saved scenarios.
    title, title_en
        Short label (German, English), e.g. ``"zu Fuß"``.
    phrase
        The mode in a German sentence: »in 15 Minuten {phrase}«.
    street_mode
        The street network the mode travels on (``walk`` for public transport:
        access, egress and transfers are walked).
    speed_kmh
        Constant speed on the street network; ``None`` for ``drive``, whose
        speeds come from ``maxspeed`` tags (osmnx imputation).
    """

    id: Mode
    title: str
    title_en: str
    phrase: str
    street_mode: StreetMode
    speed_kmh: float | None


MODES: dict[str, TravelMode] = {
    m.id: m
    for m in (
        TravelMode("walk", "zu Fuß", "walking", "zu Fuß", "walk", 4.5),
        TravelMode("bike", "Fahrrad", "cycling", "mit dem Fahrrad", "bike", 15.0),
        TravelMode("drive", "Auto", "driving", "mit dem Auto", "drive", None),
        TravelMode("oepnv", "ÖPNV", "public transport", "mit Bus und Bahn (inkl. Fußwege)", "walk", 4.5),
    )
}
#: Mode identifiers in display order.
MODE_IDS: tuple[str, ...] = tuple(MODES)


def travel_mode(mode: str) -> TravelMode:
    """Return the declaration of ``mode``.

    Raises
    ------
    DataError
        For an unknown mode, listing the known ones.

    Examples
    --------
    >>> travel_mode("walk").speed_kmh
    4.5
    """
    try:
        return MODES[mode]
    except KeyError:
        known = ", ".join(f"{m.id} ({m.title})" for m in MODES.values())
        raise DataError(f"Unbekannter Verkehrsmodus »{mode}«. Erlaubt sind: {known}.") from None


def street_mode(mode: str) -> StreetMode:
    """The street-network mode ``mode`` travels on (``walk`` for ``oepnv``).

    >>> street_mode("oepnv")
    'walk'
    """
    return cast(StreetMode, travel_mode(mode).street_mode)


def next_tuesday(today: date | None = None) -> date:
    """The next Tuesday after ``today`` (default: today): the default service day of public-transport analyses.

    >>> next_tuesday(date(2026, 12, 1))
    datetime.date(2026, 12, 8)
    """
    today = today or date.today()
    return today + timedelta(days=(1 - today.weekday()) % 7 or 7)
