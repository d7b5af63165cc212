"""The travel modes, declared once: walking, cycling, driving and public transport.

Every part of the application that needs a mode (the street-network loader,
the door-to-door travel times, the CLI choices, the app's radio buttons and
the report texts) reads :data:`MODES`. A :class:`TravelMode` carries what
callers need to decide (r5py's ``TransportMode`` is the model): its kind
(``street`` or ``transit``), the street network it travels on and its speed.
Callers ask the declaration and never compare a mode's name. Adding a mode
means one :func:`register_mode` call; a mode that shares another mode's
network runs at its own speed, because cached networks store lengths and each
mode applies its speed (:meth:`geo.network.Network.for_mode`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal, cast, get_args

from geo.errors import DataError

#: Identifier of a travel mode (the built-in ones: ``walk``, ``bike``, ``drive``, ``oepnv``).
Mode = str
#: The street networks (OSM way filters) a mode can travel on.
StreetMode = Literal["walk", "bike", "drive"]
STREET_MODES: tuple[StreetMode, ...] = get_args(StreetMode)
#: How a mode moves: on a street network only, or on foot plus a timetable.
ModeKind = Literal["street", "transit"]

#: Drive speed (km/h) for highway types that carry no ``maxspeed`` anywhere in
#: the graph: the German built-up-area limit (§ 3 StVO).
DRIVE_FALLBACK_KMH = 50.0
#: Walking speed (km/h) of every walk, including the connector from a door to the network.
WALK_KMH = 4.5
#: Typical door-to-door car speed (km/h) in NRW towns, for reach estimates only (grid spacing, resolution).
DRIVE_TYPICAL_KMH = 30.0


@dataclass(frozen=True)
class TravelMode:
    """One travel mode.

    Parameters
    ----------
    id
        Stable identifier used in the CLI, the cache and saved requests.
    title, title_en
        Short label (German, English), e.g. ``"zu Fuß"``.
    phrase
        The mode in a German sentence: »in 15 Minuten {phrase}«.
    kind
        ``street``: the whole way on the street network; ``transit``: walks
        on the street network plus rides of a GTFS timetable (never slower
        than walking alone).
    network
        The street network (OSM way filter) the mode travels on; transit
        walks on ``walk``.
    speed_kmh
        Constant speed on the network; ``None`` takes the speed of each edge
        from its ``maxspeed`` tag (osmnx imputation, cars).
    access_kmh
        Speed of the straight connector from a door (demand point, facility)
        to its nearest network node: the first and last leg of every
        door-to-door trip (walking speed unless the mode rides it).
    typical_kmh
        Door-to-door speed for reach estimates (candidate grid spacing,
        resolution check); ``None``: ``speed_kmh``.

    Examples
    --------
    >>> MODES["oepnv"].needs_timetable, MODES["walk"].needs_timetable
    (True, False)
    >>> MODES["drive"].reach_kmh
    30.0
    """

    id: Mode
    title: str
    title_en: str
    phrase: str
    kind: ModeKind
    network: StreetMode
    speed_kmh: float | None
    access_kmh: float = WALK_KMH
    typical_kmh: float | None = None

    def __post_init__(self) -> None:
        problems = []
        if self.kind not in get_args(ModeKind):
            problems.append(f"Art »{self.kind}« unbekannt (street oder transit)")
        if self.network not in STREET_MODES:
            problems.append(f"Netz »{self.network}« unbekannt ({', '.join(STREET_MODES)})")
        if self.speed_kmh is not None and not self.speed_kmh > 0:
            problems.append(f"Geschwindigkeit {self.speed_kmh} km/h muss > 0 sein")
        if not self.access_kmh > 0:
            problems.append(f"Zugangsgeschwindigkeit {self.access_kmh} km/h muss > 0 sein")
        if self.speed_kmh is None and self.typical_kmh is None:
            problems.append("ohne feste Geschwindigkeit braucht der Modus eine typische Geschwindigkeit")
        if problems:
            raise DataError(f"Verkehrsmodus »{self.id}«: " + "; ".join(problems) + ".")

    @property
    def needs_timetable(self) -> bool:
        """Whether the mode rides a GTFS timetable (public transport)."""
        return self.kind == "transit"

    @property
    def reach_kmh(self) -> float:
        """Speed for reach estimates: ``typical_kmh``, else ``speed_kmh``."""
        return float(cast(float, self.typical_kmh if self.typical_kmh is not None else self.speed_kmh))

    @property
    def access_ms(self) -> float:
        """Connector speed in m/s."""
        return self.access_kmh / 3.6

    def reach_m(self, minutes: float) -> float:
        """Distance (metres) covered in ``minutes`` at :attr:`reach_kmh`.

        >>> MODES["walk"].reach_m(10)
        750.0
        """
        return minutes * 60.0 * self.reach_kmh / 3.6


MODES: dict[str, TravelMode] = {
    m.id: m
    for m in (
        TravelMode("walk", "zu Fuß", "walking", "zu Fuß", "street", "walk", WALK_KMH),
        TravelMode("bike", "Fahrrad", "cycling", "mit dem Fahrrad", "street", "bike", 15.0, access_kmh=15.0),
        TravelMode("drive", "Auto", "driving", "mit dem Auto", "street", "drive", None, typical_kmh=DRIVE_TYPICAL_KMH),
        TravelMode(
            "oepnv", "ÖPNV", "public transport", "mit Bus und Bahn (inkl. Fußwege)", "transit", "walk", WALK_KMH
        ),
    )
}
#: Mode identifiers in display order (the built-in ones; see :func:`mode_ids` for registered ones too).
MODE_IDS: tuple[str, ...] = tuple(MODES)


def mode_ids() -> tuple[str, ...]:
    """Identifiers of every declared mode, in display order."""
    return tuple(MODES)


def register_mode(mode: TravelMode, *, replace: bool = False) -> TravelMode:
    """Declare a further travel mode (e.g. an e-scooter on the bike network).

    Raises
    ------
    DataError
        If a mode with this id exists and ``replace`` is false.
    """
    if mode.id in MODES and not replace:
        raise DataError(f"Verkehrsmodus »{mode.id}« ist bereits deklariert.")
    MODES[mode.id] = mode
    return mode


def unregister_mode(mode_id: str) -> None:
    """Remove a registered mode (tests)."""
    MODES.pop(mode_id, None)


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
    """The street network ``mode`` travels on (``walk`` for ``oepnv``).

    >>> street_mode("oepnv")
    'walk'
    """
    return travel_mode(mode).network


def next_tuesday(today: date | None = None) -> date:
    """The next Tuesday after ``today`` (default: today): the default service day of public-transport analyses.

    >>> next_tuesday(date(2026, 12, 1))
    datetime.date(2026, 12, 8)
    """
    today = today or date.today()
    return today + timedelta(days=(1 - today.weekday()) % 7 or 7)
