"""The one pipeline that answers an :class:`~integrationsatlas.request.AnalysisRequest`.

Its steps, each a small module, run in this order for every question:

1. :mod:`~integrationsatlas.pipeline.area` – the study area (its name and polygon);
2. :mod:`~integrationsatlas.pipeline.demand` – the demand points of the area and the facilities of the layer;
3. :mod:`~integrationsatlas.pipeline.costs` – the measure (straight line, or door-to-door travel time
   on the street network and timetable) and the **extent** it covers;
4. coverage (:func:`integrationsatlas.coverage.coverage_report`) or siting
   (:func:`integrationsatlas.siting.plan_sites`), both on the same costs;
5. honesty: the resolution verdict (:func:`planning.resolution.check_resolution`) and the
   :class:`~integrationsatlas.pipeline.costs.Extent`, carried by every result and stated with every figure.

The Versorgungslücken page, the Standortplanung page, the report, the CLI and
batch runs all go through these steps, so they cannot disagree.
"""
