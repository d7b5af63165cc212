"""Shared helpers of the benchmark scripts: machine description, load, shared data, writing a result section."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def cpu_model() -> str:
    """The CPU model name from ``/proc/cpuinfo`` (``"unknown CPU"`` elsewhere)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def machine() -> str:
    """Platform, Python version, core count and CPU model, for the result sections."""
    return f"{platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} cores ({cpu_model()})"


def write_section(text: str, out: Path) -> None:
    """Print a markdown result section and write it to ``out`` (creating its folder)."""
    print(text)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")


#: The real open data beside the project (``../shared/data``, see its PROVENANCE.md).
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
#: All NRW schools (MSB 2021): the OGS layer of the land-scale benchmarks.
MSB_SCHOOLS = SHARED_DATA / "facilities" / "nrw_schuldaten_msb_2021.csv"


def load_average() -> str:
    """The 1-minute load average, for the result sections."""
    return f"{os.getloadavg()[0]:.1f}"
