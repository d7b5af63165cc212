"""Map controls of every base map that folium does not set up the way a German planner reads a map.

:class:`MetricScale`: folium's ``control_scale=True`` draws Leaflet's default
scale bar, kilometres *and miles* (»30 mi« under every map of issue 20);
this one is metric only. :class:`OneTooltip`: one tooltip open at a time.
"""

from __future__ import annotations

from branca.element import MacroElement

from ui.map_script import script_template


class MetricScale(MacroElement):
    """A metric scale bar (km/m) in the lower left corner."""

    _template = script_template(
        """
        {% macro script(this, kwargs) %}
        L.control.scale({metric: true, imperial: false, position: "bottomleft"})
            .addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "MetricScale"


class OneTooltip(MacroElement):
    """At most one tooltip open on the map: opening one closes the one shown before.

    Sticky tooltips of a choropleth, a point cloud and a site marker could
    otherwise stay open side by side and stack over each other (issue 20).
    """

    _template = script_template(
        """
        {% macro script(this, kwargs) %}
        (function (map) {
            var shown = null;
            map.on("tooltipopen", function (e) {
                var last = shown;
                shown = e.tooltip;
                // the tooltip itself, not its source: a GeoJSON group's tooltip has a feature as source
                if (last && last !== e.tooltip && map.hasLayer(last)) { map.removeLayer(last); }
            });
            map.on("tooltipclose", function (e) { if (shown === e.tooltip) { shown = null; } });
        })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "OneTooltip"
