"""KomMonitor's request bodies as JSON Schema, for tests that run without fetching anything.

Rebuilt by hand (types, required members and enumerations only; no descriptions) from KomMonitor's published
OpenAPI document: repository https://github.com/KomMonitor/data-management, file
``src/main/resources/specs/data-management/kommonitor_dataAccessAPI.yaml``, commit
``3bb8ee7575e80d1b189c7b6d7c977677d3a463e6`` (release 5.2.6, 0daf6a15975620d81da96a2d42ecad00cba8345b),
``components/schemas``: ``SpatialUnitPOSTInputType``, ``IndicatorPOSTInputType``, ``IndicatorPUTInputType`` and the
types they refer to. The feature properties of a spatial unit (``ID``, ``NAME``, ``validStartDate``,
``validEndDate``) are the constants of ``KomMonitorFeaturePropertyConstants.java`` in the same repository. The
repository is GPL-3.0, so its schema file is not vendored; :func:`official_schema` reads the original when a copy
is at hand (``KOMMONITOR_DATA_ACCESS_API`` or a local mirror) and ``tests/test_monitoring_export.py`` validates
against both.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

SOURCE_COMMIT = "3bb8ee7575e80d1b189c7b6d7c977677d3a463e6"
SOURCE_PATH = "src/main/resources/specs/data-management/kommonitor_dataAccessAPI.yaml"
#: Where a local mirror of the repository may be (a bare git directory).
MIRRORS = (Path("/work/.mirror/KomMonitor+data-management/repo"),)

_STRING = {"type": "string"}
_DATE = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
_STRINGS = {"type": "array", "items": _STRING}

SCHEMAS: dict[str, dict[str, Any]] = {
    "CommonMetadataType": {
        "type": "object",
        "required": ["contact", "datasource", "description", "updateInterval"],
        "properties": {
            "contact": _STRING,
            "databasis": _STRING,
            "datasource": _STRING,
            "description": _STRING,
            "lastUpdate": _DATE,
            "literature": _STRING,
            "note": _STRING,
            "sridEPSG": {"type": "number"},
            "updateInterval": {
                "type": "string",
                "enum": ["ARBITRARY", "MONTHLY", "QUARTERLY", "HALF_YEARLY", "YEARLY", "DAILY", "WEEKLY"],
            },
        },
    },
    "PeriodOfValidityType": {
        "type": "object",
        "required": ["startDate"],
        "properties": {"startDate": _DATE, "endDate": _DATE},
    },
    "SpatialUnitPOSTInputType": {
        "type": "object",
        "required": ["permissions", "geoJsonString", "metadata", "periodOfValidity", "spatialUnitLevel", "isPublic"],
        "properties": {
            "permissions": _STRINGS,
            "geoJsonString": _STRING,
            "jsonSchema": _STRING,
            "metadata": {"$ref": "#/$defs/CommonMetadataType"},
            "nextLowerHierarchyLevel": _STRING,
            "nextUpperHierarchyLevel": _STRING,
            "periodOfValidity": {"$ref": "#/$defs/PeriodOfValidityType"},
            "spatialUnitLevel": _STRING,
            "isOutlineLayer": {"type": "boolean"},
            "outlineColor": _STRING,
            "outlineWidth": {"type": "number"},
            "outlineDashArrayString": _STRING,
            "ownerId": _STRING,
            "isPublic": {"type": "boolean"},
        },
    },
    "DefaultClassificationMappingType": {
        "type": "object",
        "required": ["colorBrewerSchemeName", "numClasses", "classificationMethod", "items"],
        "properties": {
            "colorBrewerSchemeName": _STRING,
            "numClasses": {"type": "number", "minimum": 1, "maximum": 9},
            "classificationMethod": {
                "type": "string",
                "enum": ["REGIONAL_DEFAULT", "JENKS", "EQUAL_INTERVAL", "QUANTILE"],
            },
            "items": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["spatialUnitId", "breaks"],
                    "properties": {"spatialUnitId": _STRING, "breaks": {"type": "array", "items": {"type": "number"}}},
                },
            },
        },
    },
    "IndicatorPOSTInputType": {
        "type": "object",
        "required": [
            "permissions",
            "characteristicValue",
            "creationType",
            "datasetName",
            "defaultClassificationMapping",
            "interpretation",
            "isHeadlineIndicator",
            "metadata",
            "ownerId",
            "processDescription",
            "tags",
            "topicReference",
            "unit",
            "isPublic",
        ],
        "properties": {
            "abbreviation": _STRING,
            "permissions": _STRINGS,
            "characteristicValue": _STRING,
            "creationType": {"type": "string", "enum": ["INSERTION", "COMPUTATION", "AGGREGATION"]},
            "datasetName": _STRING,
            "defaultClassificationMapping": {"$ref": "#/$defs/DefaultClassificationMappingType"},
            "displayOrder": {"type": "number"},
            "indicatorType": {
                "type": "string",
                "enum": [
                    "STATUS_ABSOLUTE",
                    "DYNAMIC_ABSOLUTE",
                    "STATUS_RELATIVE",
                    "DYNAMIC_RELATIVE",
                    "STATUS_STANDARDIZED",
                    "DYNAMIC_STANDARDIZED",
                ],
            },
            "interpretation": _STRING,
            "isHeadlineIndicator": {"type": "boolean"},
            "lowestSpatialUnitForComputation": _STRING,
            "metadata": {"$ref": "#/$defs/CommonMetadataType"},
            "precision": {"type": "integer"},
            "ownerId": _STRING,
            "processDescription": _STRING,
            "referenceDateNote": _STRING,
            "tags": _STRINGS,
            "topicReference": _STRING,
            "unit": _STRING,
            "isPublic": {"type": "boolean"},
        },
    },
    "IndicatorPUTInputType": {
        "type": "object",
        "required": ["permissions", "applicableSpatialUnit", "indicatorValues", "isPublic", "ownerId"],
        "properties": {
            "permissions": _STRINGS,
            "applicableSpatialUnit": _STRING,
            "indicatorValues": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "spatialReferenceKey": _STRING,
                        "valueMapping": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {"indicatorValue": {"type": "number"}, "timestamp": _DATE},
                            },
                        },
                    },
                },
            },
            "isPublic": {"type": "boolean"},
            "ownerId": _STRING,
        },
    },
}
#: A spatial unit's GeoJSON (``geoJsonString``): a FeatureCollection whose features carry KomMonitor's properties.
FEATURE_COLLECTION: dict[str, Any] = {
    "type": "object",
    "required": ["type", "features"],
    "properties": {
        "type": {"const": "FeatureCollection"},
        "features": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["type", "properties", "geometry"],
                "properties": {
                    "properties": {
                        "type": "object",
                        "required": ["ID", "NAME", "validStartDate"],
                        "properties": {
                            "ID": _STRING,
                            "NAME": _STRING,
                            "validStartDate": _DATE,
                            "validEndDate": {"oneOf": [_DATE, {"type": "null"}]},
                        },
                    },
                    "geometry": {
                        "type": "object",
                        "properties": {"type": {"enum": ["Polygon", "MultiPolygon"]}},
                    },
                },
            },
        },
    },
}


def schema(name: str) -> dict[str, Any]:
    """The rebuilt JSON Schema of one request body, with its referenced types."""
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$defs": SCHEMAS, **SCHEMAS[name]}


def official_schema() -> dict[str, Any] | None:
    """KomMonitor's own OpenAPI document at :data:`SOURCE_COMMIT`, if a copy is at hand (else ``None``).

    Looked up in ``$KOMMONITOR_DATA_ACCESS_API`` (a path to the YAML file), then in a local git mirror.
    """
    import yaml

    path = os.environ.get("KOMMONITOR_DATA_ACCESS_API")
    if path and Path(path).is_file():
        return dict(yaml.safe_load(Path(path).read_text(encoding="utf-8")))
    for mirror in MIRRORS:
        if not mirror.is_dir():
            continue
        shown = subprocess.run(
            ["git", "--git-dir", str(mirror), "show", f"{SOURCE_COMMIT}:{SOURCE_PATH}"],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        if shown.returncode == 0:
            return dict(yaml.safe_load(shown.stdout))
    return None


def official_validator() -> Callable[[dict[str, Any], str], None] | None:
    """A check of a request body against KomMonitor's own OpenAPI document (``None`` when no copy is at hand).

    ``check(doc, "IndicatorPOSTInputType")`` raises :class:`jsonschema.ValidationError` when ``doc`` does not
    conform to that type of ``components/schemas``.
    """
    import jsonschema
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4

    spec = official_schema()
    if spec is None:
        return None
    registry = Registry().with_resource("urn:kommonitor", Resource(contents=spec, specification=DRAFT4))

    def check(doc: dict[str, Any], name: str) -> None:
        ref = {"$ref": f"urn:kommonitor#/components/schemas/{name}"}
        jsonschema.Draft4Validator(ref, registry=registry).validate(doc)

    return check
