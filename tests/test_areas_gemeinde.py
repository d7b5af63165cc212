"""The Karte's Gemeinde level: a table and choropleth per Gemeinde once population per Gemeinde is loaded."""

from __future__ import annotations

from pathlib import Path

import pytest

from geo.settings import Settings
from geo.sources.destatis import import_gemeinde_population
from integrationsatlas import areas
from ui import views
from ui.maps import NO_DATA_COLOR


@pytest.fixture
def cfg(tmp_path: Path, shared_data: Path) -> Settings:
    settings = Settings().with_home(tmp_path / "home")
    import_gemeinde_population(shared_data / "population" / "nrw_gemeinden_destatis_gv_2019.csv", settings)
    return settings


def test_gemeinde_table_has_population_density_and_counts(cfg: Settings) -> None:
    table = areas.gemeinde_table(cfg, ("ki",)).set_index("ags")
    assert len(table) == 396
    assert table["population"].sum() == 17_947_221
    aachen = table.loc["05334002"]
    assert aachen["population"] == 248_960
    assert aachen["density_per_km2"] == round(248_960 / (aachen.geometry.area / 1e6))
    assert aachen["n_ki"] == 2  # Stadt Aachen and the Städteregion both sit in the city
    assert table["n_ki"].sum() == 54
    assert table["foreign_share_pct"].isna().all()  # not published per Gemeinde here


def test_gemeinde_choropleth_colours_every_gemeinde_or_says_no_data(cfg: Settings) -> None:
    data, cls = views.unit_choropleth(cfg, "population", None, ("ki",), level="gemeinde")
    fills = [f["properties"]["_fill"] for f in data["features"]]
    assert len(fills) == 396 and all(fills) and len(set(fills)) == len(cls.colors.unique())
    assert "Einwohner" in cls.title
    data, cls = views.unit_choropleth(cfg, "foreign_share_pct", None, ("ki",), level="gemeinde")
    # no foreign share per Gemeinde: every Gemeinde is drawn in the "keine Angabe" grey
    assert {f["properties"]["_fill"] for f in data["features"]} == {NO_DATA_COLOR}


def test_a_coverage_indicator_from_too_coarse_demand_says_so_in_legend_and_tooltip(cfg: Settings) -> None:
    # the Karte's »Versorgungsgrad bis 10 km« per Gemeinde rests on Gemeinde-level demand; the Versorgungslücken
    # page flagged the same figures »grob«, the Karte's legend did not
    from integrationsatlas.coverage import coverage_report
    from integrationsatlas.request import AnalysisRequest

    report = coverage_report(cfg, AnalysisRequest(layer="ki", threshold=areas.KARTE_THRESHOLD_KM, by="gemeinde"))
    assert not report.resolution.ok  # one point per Gemeinde cannot say who lives within 10 km
    gaps = report.gaps.table
    data, cls = views.unit_choropleth(cfg, "share_covered", "ki", ("ki",), gaps, "gemeinde", rough=True)
    assert cls.title.endswith("– grobe Näherung, Nachfrage zu grob")
    assert "(grobe Näherung, Nachfrage zu grob)" in str(data["features"][0]["properties"]["_tooltip"])
    data, cls = views.unit_choropleth(cfg, "share_covered", "ki", ("ki",), gaps, "gemeinde", rough=True, lang="en")
    assert cls.title.endswith("– rough approximation, demand too coarse") and "Versorg" not in cls.title
    tooltip = str(data["features"][0]["properties"]["_tooltip"])  # the tooltip speaks the page's language too
    assert "(rough approximation, demand too coarse)" in tooltip and "Population" in tooltip, tooltip
    assert "Municipal integration centres" in tooltip and "Kommunale" not in tooltip, tooltip
    assert "grob" not in tooltip and "Einwohner" not in tooltip, tooltip
    _, cls = views.unit_choropleth(cfg, "share_covered", "ki", ("ki",), gaps, "gemeinde")
    assert "grob" not in cls.title
    # the share classes of the Versorgungslücken page and the report (quantiles gave »0 – 11«, »11 – 100«)
    assert cls.labels == ("0 – 50", "50 – 70", "70 – 85", "85 – 95", "95 – 100")


def by_key(profile: areas.AreaProfile) -> dict[str, str]:
    """The profile's values by :attr:`areas.Figure.key`: ``{"population": "248.960", "ki": "2", …}``."""
    return {f.key: f.value for f in profile.figures}


def test_a_clicked_gemeinde_profile_shows_its_population(cfg: Settings) -> None:
    """Issue 20: the profile of a Gemeinde had no population although the Gemeindeverzeichnis was loaded."""
    profile = areas.area_profile(cfg, "gemeinde", "05334002", ("ki",))
    assert areas.Figure("population", "248.960", date="2019") in profile.figures
    assert by_key(profile)["ki"] == "2"


@pytest.mark.parametrize(("level", "ags", "inside"), [("gemeinde", "05334002", 2), ("kreis", "05762", 1)])
def test_the_gaps_page_counts_the_facilities_in_the_area_as_the_map_does(
    cfg: Settings, level: str, ags: str, inside: int
) -> None:
    # Versorgungslücken said »Einrichtungen 54« for any area: all facilities the distances use, beyond the border too
    from integrationsatlas.coverage import coverage_report
    from integrationsatlas.request import AnalysisRequest, AreaRef

    report = coverage_report(cfg, AnalysisRequest("ki", 10.0, area=AreaRef(ags)))
    profile = by_key(areas.area_profile(cfg, level, ags, ("ki",)))
    assert report.n_facilities_in_area == int(profile["ki"]) == inside
    assert report.n_facilities == 54
    assert report.as_dict()["n_facilities_in_area"] == inside


@pytest.mark.parametrize(
    ("level", "ags", "label"),
    [("gemeinde", "05334002", "Einwohner (2019)"), ("kreis", "05762", "Einwohner (Jahresmittel 2019)")],
)
def test_the_report_gives_an_areas_population_as_the_map_does(cfg: Settings, level: str, ags: str, label: str) -> None:
    # the report said »Einwohner« for a Gemeinde (no date) and »Einwohner (2019)« for Destatis' annual mean of a Kreis
    from integrationsatlas.report import build_report
    from integrationsatlas.request import AnalysisRequest, AreaRef

    population = next(f for f in areas.area_profile(cfg, level, ags, ()).figures if f.term.startswith("population"))
    report = build_report(cfg, AnalysisRequest("ki", 10.0, area=AreaRef(ags)))
    assert dict(report.figures)[label] == population.value


def test_an_export_gives_each_ki_the_gemeinde_it_lies_in(cfg: Settings) -> None:
    # the embedded KI name their Kreis, not their Gemeinde: the exported table had an empty »gemeinde_ags« for all
    # 54, so a planner filtering it by Gemeinde in Excel found none
    import io

    import pandas as pd

    from geo.io.export import export_layer

    table = pd.read_csv(io.BytesIO(export_layer("ki", cfg, "csv")), sep=";", dtype=str, encoding="utf-8-sig")
    assert len(table) == 54 and table["gemeinde_ags"].notna().all()
    assert (table["gemeinde_ags"].str[:5] == table["kreis_ags"]).all()  # each in its own Kreis
    assert set(table.loc[table["ort"] == "Aachen", "gemeinde_ags"]) == {"05334002"}
    assert table.set_index("id").loc["KI-05554", "gemeinde_ags"] == "05554012"  # Kreis Borken: in the town of Borken
