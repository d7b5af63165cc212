"""Map controls of every base map that folium does not set up the way a German planner reads a map.

:class:`MetricScale`: folium's ``control_scale=True`` draws Leaflet's default
scale bar, kilometres *and miles* (»30 mi« under every map of issue 20);
this one is metric only.
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
