"""Online sources against a loopback HTTP server: download, BKG VG250, Destatis GV, MSB Schuldaten."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import replace
from itertools import pairwise
from pathlib import Path
from urllib.parse import urlsplit

import geopandas as gpd
import pandas as pd
import pytest
from gv_layout import GV_HEADER
from loopback import SYNTHETIC_KREISE, LoopbackServer, Request, Response
from shapely.geometry import box

from geo.errors import DataError, SourceUnavailableError, ValidationError
from geo.settings import Settings
from geo.sources.bkg import fetch_wfs_level, read_vg250_zip, vg250_to_layer
from geo.sources.config import SourceConfig
from geo.sources.destatis import load_gemeinde_population, parse_gemeindeverzeichnis, read_gemeindeverzeichnis
from geo.sources.download import download
from geo.sources.fetching import fetch_source
from geo.store import DataStore

pytest_plugins = ("loopback",)


# --- download -------------------------------------------------------------------


def test_download_streams_with_progress_and_caches(loopback: LoopbackServer, settings: Settings) -> None:
    body = b"x" * 200_000
    url = loopback.route("/big.bin", body)
    seen: list[tuple[int, int | None]] = []
    path = download(url, settings=settings, progress=lambda done, total: seen.append((done, total)))
    assert path.read_bytes() == body
    assert path.is_relative_to(settings.cache_dir)
    assert seen[-1] == (200_000, 200_000)
    assert len(seen) > 2 and all(a[0] <= b[0] for a, b in pairwise(seen))
    # second call: served from the cache, no request
    assert download(url, settings=settings) == path
    assert len(loopback.requests_to("/big.bin")) == 1
    # max_age_s=0: downloads again
    download(url, settings=settings, max_age_s=0)
    assert len(loopback.requests_to("/big.bin")) == 2
    assert not list(path.parent.glob("*.part"))


def _shown(url: str) -> str:
    """How a message names a loopback source: host and path, never a query (see ``download._shown_url``)."""
    parts = urlsplit(url)
    return parts.netloc + parts.path


def test_download_long_query_is_not_shown_but_the_server_and_file_are(settings: Settings, raises_matching) -> None:
    url = "https://sgx.geodatenzentrum.de/wfs_vg250/ows"
    params = {"service": "WFS", "request": "GetFeature", "typeNames": "vg250:vg250_krs", "outputFormat": "x" * 400}
    with pytest.raises(SourceUnavailableError) as info:
        download(url, params=params, settings=replace(settings, online=False))
    assert "sgx.geodatenzentrum.de/…/ows" in str(info.value)
    assert "outputFormat" not in str(info.value) and len(str(info.value)) < 300


def test_download_http_error_is_named(loopback: LoopbackServer, settings: Settings, raises_matching) -> None:
    url = loopback.route("/gone.csv", b"nope", status=404)
    with raises_matching(SourceUnavailableError, "HTTP 404", _shown(url)):
        download(url, settings=settings)
    assert not any(settings.cache_dir.rglob("gone*"))


def test_download_unreachable_says_so_in_german(closed_port_url: str, settings: Settings, raises_matching) -> None:
    with raises_matching(
        SourceUnavailableError,
        "Keine Internetverbindung oder Quelle nicht erreichbar",
        _shown(closed_port_url),
        "manuell herunterladen und importieren",
    ):
        download(closed_port_url, settings=settings, timeout=5)


def test_download_offline_fails_at_once(loopback: LoopbackServer, settings: Settings, raises_matching) -> None:
    url = loopback.route("/data.csv", b"a;b\n")
    with raises_matching(SourceUnavailableError, "abgeschaltet", _shown(url)):
        download(url, settings=replace(settings, online=False))
    assert loopback.requests == []


def test_source_config_from_env() -> None:
    env = {"INTEGRATIONSATLAS_URL_BKG_WFS": "http://127.0.0.1:9/wfs", "INTEGRATIONSATLAS_URL_WFS_PAGE_SIZE": "50"}
    config = SourceConfig.from_env(env)
    assert config.bkg_wfs == "http://127.0.0.1:9/wfs"
    assert config.wfs_page_size == 50
    assert config.msb_schuldaten.startswith("https://www.schulministerium.nrw.de/")


# --- BKG VG250 --------------------------------------------------------------------


def _feature(props: dict[str, object], geom: object) -> dict[str, object]:
    return {"type": "Feature", "properties": props, "geometry": geom.__geo_interface__}  # type: ignore[attr-defined]


def _synthetic_vg250() -> dict[str, list[dict[str, object]]]:
    """Four Gemeinden in the two synthetic Kreise (2 × 2 split), one Hessian Gemeinde, one water area."""
    gem = []
    for ags, _name, (x0, y0, x1, y1) in SYNTHETIC_KREISE:
        xm = (x0 + x1) / 2
        gem.append(
            _feature(
                {"AGS": f"{ags}001", "GEN": f"West {ags}", "BEZ": "Stadt", "GF": 4, "SN_L": "05", "EWZ": 1000},
                box(x0, y0, xm, y1),
            )
        )
        gem.append(
            _feature(
                {"AGS": f"{ags}002", "GEN": f"Ost {ags}", "BEZ": "Gemeinde", "GF": 4, "SN_L": "05"}, box(xm, y0, x1, y1)
            )
        )
    gem.append(
        _feature(
            {"AGS": "06411000", "GEN": "Darmstadt", "BEZ": "Stadt", "GF": 4, "SN_L": "06"},
            box(470_000, 5_520_000, 480_000, 5_530_000),
        )
    )
    gem.append(
        _feature(
            {"AGS": "05334001", "GEN": "West 05334 (Wasser)", "BEZ": "Stadt", "GF": 2, "SN_L": "05"},
            box(290_000, 5_620_000, 291_000, 5_621_000),
        )
    )
    krs = [
        _feature(
            {
                "AGS": ags,
                "GEN": name,
                "BEZ": "StädteRegion" if ags == "05334" else "Kreis",
                "GF": 4,
                "WSK": "2009/10/21",
            },
            box(*bounds),
        )
        for ags, name, bounds in SYNTHETIC_KREISE
    ]
    return {"vg250:vg250_gem": gem, "vg250:vg250_krs": krs}


def _wfs_handler(layers: dict[str, list[dict[str, object]]], *, crs_member: bool = True) -> Callable:
    """A WFS 2.0 GetFeature stub that pages with count/startIndex (and ignores the filter)."""

    def handle(req: Request) -> Response:
        feats = layers[req.query["typeNames"][0]]
        start, count = int(req.query["startIndex"][0]), int(req.query["count"][0])
        doc: dict[str, object] = {
            "type": "FeatureCollection",
            "numberMatched": len(feats),
            "features": feats[start : start + count],
        }
        if crs_member:
            doc["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::25832"}}
        return Response(json.dumps(doc).encode(), content_type="application/json")

    return handle


def test_wfs_pages_and_sends_the_nrw_filter(loopback: LoopbackServer, settings: Settings) -> None:
    loopback.route("/wfs_vg250", _wfs_handler(_synthetic_vg250(), crs_member=False))
    config = replace(SourceConfig.local(loopback.base_url), wfs_page_size=2)
    raw = fetch_wfs_level("gemeinde", settings=settings, config=config)
    assert len(raw) == 6
    assert raw.crs == "EPSG:25832"  # metre coordinates without a crs member are taken as the requested srsName
    reqs = loopback.requests_to("/wfs_vg250")
    assert [r.query["startIndex"][0] for r in reqs] == ["0", "2", "4"]
    q = reqs[0].query
    assert q["typeNames"] == ["vg250:vg250_gem"]
    assert q["outputFormat"] == ["application/json"]
    assert q["srsName"] == ["EPSG:25832"]
    assert "<fes:Literal>05*</fes:Literal>" in q["filter"][0]


def test_vg250_normalisation_keeps_nrw_land_areas() -> None:
    feats = _synthetic_vg250()
    raw = gpd.GeoDataFrame.from_features(feats["vg250:vg250_gem"], crs="EPSG:25832")
    gem = vg250_to_layer(raw, "gemeinde")
    assert gem["ags"].tolist() == ["05334001", "05334002", "05358001", "05358002"]
    assert gem["kreis_ags"].tolist() == ["05334", "05334", "05358", "05358"]
    assert gem["population"].tolist()[:2] == [1000, pd.NA]
    assert gem.area.sum() == pytest.approx(2 * 20_000 * 20_000)  # the GF=2 water part is not added
    krs = vg250_to_layer(gpd.GeoDataFrame.from_features(feats["vg250:vg250_krs"], crs="EPSG:25832"), "kreis")
    assert krs[["ags", "bez", "regbez", "wsk"]].to_dict("records")[0] == {
        "ags": "05334",
        "bez": "Kreis",
        "regbez": "053",
        "wsk": "2009-10-21",
    }


def test_vg250_without_ags_names_every_missing_column(raises_matching) -> None:
    raw = gpd.GeoDataFrame({"NAME": ["x"]}, geometry=[box(0, 0, 1, 1)], crs="EPSG:25832")
    with raises_matching(DataError, "AGS", "GEN", "Pflichtspalte"):
        vg250_to_layer(raw, "gemeinde")


def test_wfs_exception_report_is_a_data_error(loopback: LoopbackServer, settings: Settings, raises_matching) -> None:
    loopback.route(
        "/wfs_vg250",
        b'<?xml version="1.0"?><ows:ExceptionReport>InvalidParameterValue</ows:ExceptionReport>',
        content_type="text/xml",
    )
    with raises_matching(DataError, "kein GeoJSON", "ExceptionReport"):
        fetch_wfs_level("kreis", settings=settings, config=SourceConfig.local(loopback.base_url))
    assert not any(settings.cache_dir.rglob("*.json"))  # the broken page is not cached


def test_fetch_bkg_stores_gemeinden_and_kreise(loopback: LoopbackServer, synthetic_settings: Settings) -> None:
    loopback.route("/wfs_vg250", _wfs_handler(_synthetic_vg250()))
    config = SourceConfig.local(loopback.base_url)
    result = fetch_source("bkg-vg250", synthetic_settings, config=config)
    by_layer = {s.layer_id: s for s in result.layers}
    assert by_layer["gemeinde"].rows_kept == 4 and by_layer["kreis"].rows_kept == 2
    store = DataStore(synthetic_settings.store_path)
    meta = store.layer_meta("gemeinde")
    assert meta is not None and meta.url == config.bkg_wfs and meta.licence == "dl-de/by-2-0"
    from geo.units import load_boundaries

    gem = load_boundaries("gemeinde", synthetic_settings)
    assert gem["ags"].tolist() == ["05334001", "05334002", "05358001", "05358002"]
    # fetching again replaces the earlier fetch instead of doubling it
    fetch_source("bkg-vg250", synthetic_settings, config=config, refresh=True)
    assert len(store.read_layer("gemeinde")) == 4
    assert sum(b.active for b in store.batches("gemeinde")) == 1


def _vg250_zip(tmp_path: Path, *, shapefile: bool) -> Path:
    feats = _synthetic_vg250()
    folder = tmp_path / "vg250_ebenen_0101"
    folder.mkdir()
    gem = gpd.GeoDataFrame.from_features(feats["vg250:vg250_gem"], crs="EPSG:25832")
    krs = gpd.GeoDataFrame.from_features(feats["vg250:vg250_krs"], crs="EPSG:25832")
    if shapefile:
        gem.to_file(folder / "VG250_GEM.shp", engine="pyogrio")
        krs.to_file(folder / "VG250_KRS.shp", engine="pyogrio")
    else:
        gem.to_file(folder / "DE_VG250.gpkg", layer="vg250_gem", engine="pyogrio")
        krs.to_file(folder / "DE_VG250.gpkg", layer="vg250_krs", engine="pyogrio")
    zpath = tmp_path / "vg250.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for f in folder.iterdir():
            zf.write(f, f"vg250_01-01.utm32s/{folder.name}/{f.name}")
    return zpath


@pytest.mark.parametrize("shapefile", [False, True], ids=["gpkg", "shapefile"])
def test_vg250_zip_download(
    tmp_path: Path, loopback: LoopbackServer, synthetic_settings: Settings, shapefile: bool
) -> None:
    zpath = _vg250_zip(tmp_path, shapefile=shapefile)
    raw = read_vg250_zip(zpath, settings=synthetic_settings)
    assert set(raw) == {"gemeinde", "kreis"} and len(raw["gemeinde"]) == 6
    loopback.route("/vg250.zip", zpath, content_type="application/zip")
    result = fetch_source("bkg-vg250", synthetic_settings, use_zip=True, config=SourceConfig.local(loopback.base_url))
    assert {s.layer_id: s.rows_kept for s in result.layers} == {"gemeinde": 4, "kreis": 2}


def test_vg250_zip_without_vg250_is_refused(tmp_path: Path, settings: Settings, raises_matching) -> None:
    zpath = tmp_path / "other.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        zf.writestr("readme.txt", "nichts")
    with raises_matching(DataError, "other.zip", "DE_VG250.gpkg"):
        read_vg250_zip(zpath, settings=settings)


def test_real_gemeinden_via_wfs(loopback: LoopbackServer, settings: Settings, shared_data: Path) -> None:
    """The 396 real Gemeinden (BKG VG250, served page by page) each lie in the Kreis of their AGS[:5]."""
    gem = json.loads((shared_data / "boundaries/nrw_gemeinden_vg250_simplify200.geojson").read_text("utf-8"))
    krs = json.loads((shared_data / "boundaries/nrw_kreise_from_gemeinden_simplify200.geojson").read_text("utf-8"))
    loopback.route(
        "/wfs_vg250",
        _wfs_handler({"vg250:vg250_gem": gem["features"], "vg250:vg250_krs": krs["features"]}, crs_member=False),
    )
    config = replace(SourceConfig.local(loopback.base_url), wfs_page_size=150)
    gem_raw = fetch_wfs_level("gemeinde", settings=settings, config=config)
    # lon/lat GeoJSON without crs member is CRS84, not metres
    assert gem_raw.crs == "EPSG:25832" and gem_raw.total_bounds[0] > 250_000
    gemeinden = vg250_to_layer(gem_raw, "gemeinde")
    assert len(gemeinden) == 396 and gemeinden["ags"].is_unique
    kreise = vg250_to_layer(fetch_wfs_level("kreis", settings=settings, config=config), "kreis")
    assert len(kreise) == 53
    points = gemeinden.geometry.representative_point()
    joined = gpd.sjoin(
        gpd.GeoDataFrame({"ags8": gemeinden["ags"]}, geometry=points, crs=gemeinden.crs),
        kreise[["ags", "geometry"]],
        predicate="within",
    )
    assert len(joined) == 396
    assert (joined["ags8"].str[:5] == joined["ags"]).all()


# --- Destatis GV-ISys ----------------------------------------------------------------

#: A few rows in the layout of the Destatis "Auszug GV" (as re-saved to CSV, with its header),
#: values of the 31.12.2019 edition; one Land 01 row and non-Gemeinde Satzarten must be skipped.
GV_CSV = """\
satzart,textkennzeichen,land,rb,kreis,vb,gemeinde,gemeindename,flaeche,bevoelkerung,maennlich,weiblich,jekm2,\
postleitzahl,laengengrad,breitengrad,schluessel,bezeichnung,verstaedterungschluessel,verstaedterungbezeichnung
10,,01,,,,,Schleswig-Holstein,,,,,,,,,,,,
60,61,01,0,01,0000,000,"Flensburg, Stadt", 53.02, 90 164, 44 904, 45 260, 1 701,24937,"9,43751","54,78252",\
F02,Ostsee,01,dicht besiedelt
10,,05,,,,,Nordrhein-Westfalen,,,,,,,,,,,,
20,,05,1,,,,Reg.-Bez. Düsseldorf,,,,,,,,,,,,
40,41,05,1,11,,,"Düsseldorf, Stadt",,,,,,,,,,,,
60,61,05,1,11,0000,000,"Düsseldorf, Stadt", 217.41, 621 877, 300 507, 321 370, 2 860,40213,"6,780068","51,22422",\
H10,Düsseldorf und Kreis Mettmann,01,dicht besiedelt
40,44,05,3,34,,,Städteregion Aachen,,,,,,,,,,,,
60,63,05,3,34,0002,002,"Aachen, Stadt", 160.85, 248 960, 127 303, 121 657, 1 548,52062,"6,083887","50,776351",\
H17,Eifel und Region Aachen,01,dicht besiedelt
60,63,05,3,34,0016,016,"Simmerath", 110.88, 15 418, 7 612, 7 806,  139,52152,"6,300011","50,607283",\
H17,Eifel und Region Aachen,03,gering besiedelt
"""


def test_parse_gemeindeverzeichnis_csv(tmp_path: Path) -> None:
    path = tmp_path / "AuszugGV4QAktuell.csv"
    path.write_text(GV_CSV, encoding="utf-8")
    table = parse_gemeindeverzeichnis(read_gemeindeverzeichnis(path))
    assert table["ags"].tolist() == ["05111000", "05334002", "05334016"]
    row = table.iloc[1].to_dict()
    assert row["ars"] == "053340002002" and row["kreis_ags"] == "05334" and row["name"] == "Aachen, Stadt"
    assert row["population"] == 248_960 and row["population_m"] + row["population_w"] == 248_960
    assert row["area_km2"] == pytest.approx(160.85) and row["plz"] == "52062"
    assert (row["center_lon"], row["center_lat"]) == pytest.approx((6.083887, 50.776351))
    assert str(table["population"].dtype) == "Int64"


def test_parse_gemeindeverzeichnis_xlsx_with_multirow_header(tmp_path: Path) -> None:
    header = [
        ["Gemeindeverzeichnis-Informationssystem GV-ISys"],
        [],
        *GV_HEADER,
    ]
    data = [
        [
            60,
            63,
            "05",
            3,
            34,
            "0016",
            "016",
            "Simmerath",
            110.88,
            15418,
            7612,
            7806,
            139,
            52152,
            "6,300011",
            "50,607283",
        ]
    ]
    path = tmp_path / "AuszugGV.xlsx"
    width = max(len(r) for r in header + data)
    rows = [r + [None] * (width - len(r)) for r in header + data]
    pd.DataFrame(rows).to_excel(path, sheet_name="Onlineprodukt_Gemeinden", header=False, index=False)
    table = parse_gemeindeverzeichnis(read_gemeindeverzeichnis(path))
    assert table[["ags", "population", "plz"]].to_dict("records") == [
        {"ags": "05334016", "population": 15_418, "plz": "52152"}
    ]


def test_gemeindeverzeichnis_bad_number_is_located(tmp_path: Path, raises_matching) -> None:
    path = tmp_path / "gv.csv"
    path.write_text(GV_CSV.replace(" 621 877,", " sechshundert,"), encoding="utf-8")
    with raises_matching(ValidationError, "»sechshundert« ist keine Zahl", "Bevölkerung insgesamt", "Zeile 7"):
        parse_gemeindeverzeichnis(read_gemeindeverzeichnis(path), file="gv.csv")


def test_gemeindeverzeichnis_without_nrw_rows(raises_matching) -> None:
    raw = pd.read_csv(io.StringIO(GV_CSV), header=None, dtype=str, keep_default_na=False)
    with raises_matching(DataError, "keine Gemeinde-Datensätze (Satzart 60) für Land 09"):
        parse_gemeindeverzeichnis(raw, land="09")


def test_fetch_destatis_stores_population_and_joins_it(loopback: LoopbackServer, synthetic_settings: Settings) -> None:
    config = SourceConfig.local(loopback.base_url, destatis_gv=loopback.url("/AuszugGV4QAktuell.csv"))
    loopback.route("/AuszugGV4QAktuell.csv", GV_CSV, content_type="text/csv")
    loopback.route("/wfs_vg250", _wfs_handler(_synthetic_vg250()))
    assert load_gemeinde_population(synthetic_settings) is None
    fetch_source("bkg-vg250", synthetic_settings, config=config)
    result = fetch_source("destatis-gv", synthetic_settings, config=config)
    assert [s.layer_id for s in result.layers] == ["destatis_gv", "gemeinde"]
    pop = load_gemeinde_population(synthetic_settings)
    assert pop is not None and pop.loc["05334002", "population"] == 248_960
    meta = DataStore(synthetic_settings.store_path).layer_meta("destatis_gv")
    assert meta is not None and meta.url.endswith("/AuszugGV4QAktuell.csv") and meta.licence == "dl-de/by-2-0"
    from geo.units import load_boundaries

    gem = load_boundaries("gemeinde", synthetic_settings).set_index("ags")
    assert gem.loc["05334002", "population"] == 248_960  # joined from Destatis
    assert gem.loc["05334001", "population"] == 1000  # VG250 EWZ kept where Destatis has no row


# --- MSB Schuldaten ---------------------------------------------------------------------


def test_fetch_msb_schuldaten_real_file(loopback: LoopbackServer, settings: Settings, shared_data: Path) -> None:
    """The real MSB file, served over HTTP, gives exactly the 2,787 Grundschulen in operation."""
    loopback.route("/schuldaten.csv", shared_data / "facilities/nrw_schuldaten_msb_2021.csv", content_type="text/csv")
    result = fetch_source("msb-schuldaten", settings, config=SourceConfig.local(loopback.base_url))
    stored = DataStore(settings.store_path).read_layer("ogs")
    assert stored is not None
    assert len(stored) == 2787, [str(p) for p in result.problems[:3]]
    assert stored["id"].str.startswith("MSB-").all() and stored["ogs"].isna().all()
    meta = DataStore(settings.store_path).layer_meta("ogs")
    assert meta is not None and meta.url == loopback.url("/schuldaten.csv") and meta.source_file == "msb-schuldaten"


def test_fetch_msb_for_one_kreis_keeps_other_data(loopback: LoopbackServer, synthetic_settings: Settings) -> None:
    head = (
        "Schulnummer;Schulform;Schulbezeichnung_1;Schulbezeichnung_2;Schulbezeichnung_3;Kurzbezeichnung;PLZ;Ort;"
        "Strasse;Rechtsform;Traegernummer;Gemeindeschluessel;Schulbetriebsschluessel;EPSG;UTMRechtswert;"
        "UTMHochwert\n"
    )
    rows = [
        '"100001";"02";"GGS Am Park";"";"";"";"52062";"Aachen";"Parkstr. 1";"1";"1";"05334002";"1";'
        '"EPSG:25832";"300000";"5630000"',
        '"100002";"02";"KGS Feld";"";"";"";"52000";"Feld";"Feldweg 2";"1";"1";"05358001";"1";'
        '"EPSG:25832";"320000";"5630000"',
        '"100003";"04";"Hauptschule";"";"";"";"52062";"Aachen";"Weg 3";"1";"1";"05334002";"1";'
        '"EPSG:25832";"301000";"5630000"',
    ]
    loopback.route("/schuldaten.csv", ("sep=;\n" + head + "\n".join(rows) + "\n").encode(), content_type="text/csv")
    config = SourceConfig.local(loopback.base_url)
    fetch_source("msb-schuldaten", synthetic_settings, config=config, kreis="05358")
    result = fetch_source("msb-schuldaten", synthetic_settings, config=config, kreis="05334")
    assert result.scope == "kreis=05334" and result.layers[0].rows_kept == 1
    stored = DataStore(synthetic_settings.store_path).read_layer("ogs")
    assert sorted(stored["id"]) == ["MSB-100001", "MSB-100002"]
    assert sorted(stored["kreis_ags"]) == ["05334", "05358"]


def test_fetch_rejects_bad_ags_and_unknown_source(synthetic_settings: Settings, raises_matching) -> None:
    from geo.errors import IntegrationsatlasError

    with raises_matching(IntegrationsatlasError, "--kreis »5334«", "5-stelliger AGS"):
        fetch_source("msb-schuldaten", synthetic_settings, kreis="5334")
    with raises_matching(IntegrationsatlasError, "Unbekannte Quelle »wikipedia«", "bkg-vg250"):
        fetch_source("wikipedia", synthetic_settings)


def test_cli_fetch_json(loopback: LoopbackServer, synthetic_settings: Settings, monkeypatch, capsys) -> None:
    from integrationsatlas.cli import main

    loopback.route("/wfs_vg250", _wfs_handler(_synthetic_vg250()))
    monkeypatch.setenv("INTEGRATIONSATLAS_URL_BKG_WFS", loopback.url("/wfs_vg250"))
    monkeypatch.setattr(Settings, "from_env", classmethod(lambda cls: synthetic_settings))
    assert main(["fetch", "bkg-vg250", "--kreis", "05358", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["scope"] == "kreis=05358"
    assert {lay["layer"]: lay["rows_kept"] for lay in out["layers"]} == {"gemeinde": 2, "kreis": 1}
    assert out["layers"][0]["batch"]["url"] == loopback.url("/wfs_vg250")


def test_cli_fetch_offline_exits_2(monkeypatch, tmp_path: Path, capsys) -> None:
    from integrationsatlas.cli import main

    monkeypatch.setenv("INTEGRATIONSATLAS_HOME", str(tmp_path))
    monkeypatch.setenv("INTEGRATIONSATLAS_OFFLINE", "1")
    assert main(["fetch", "msb-schuldaten"]) == 2
    assert "abgeschaltet" in capsys.readouterr().err
