"""The two-row column header of the Destatis GV-ISys "Auszug GV" workbook, for hand-made test files."""

from __future__ import annotations

GV_HEADER: list[list[object]] = [
    [
        "Satz-art",
        "Text-kenn-zeichen",
        "Amtlicher Regionalschlüssel (ARS)",
        None,
        None,
        None,
        None,
        "Gemeindename",
        "Fläche km2",
        "Bevölkerung",
        None,
        None,
        None,
        "Post-leit-zahl",
        "Geografische Mittelpunktkoordinaten",
    ],
    [
        None,
        None,
        "Land",
        "RB",
        "Kreis",
        "VB",
        "Gem",
        None,
        None,
        "insgesamt",
        "männlich",
        "weiblich",
        "je km2",
        None,
        "Längengrad",
        "Breitengrad",
    ],
]
