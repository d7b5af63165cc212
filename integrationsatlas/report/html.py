"""The report as one self-contained HTML page (images as base64 PNG, no external assets)."""

from __future__ import annotations

import base64
import html
import logging
from typing import Literal

from integrationsatlas.report.model import CouncilReport, ReportTable, png_size

logger = logging.getLogger(__name__)

ReportFormat = Literal["pdf", "html"]

# --- HTML -----------------------------------------------------------------------

_CSS = """
body{font-family:"DejaVu Sans",Arial,Helvetica,sans-serif;color:#1a1a1a;max-width:190mm;margin:12mm auto;
line-height:1.45;font-size:10.5pt}
h1{font-size:17pt;margin:0 0 2pt;color:#0b3d6b}h2{font-size:13pt;margin:16pt 0 6pt;color:#0b3d6b;
border-bottom:1px solid #c8d3de;padding-bottom:2pt}
.sub{color:#444;margin:0 0 10pt}table{border-collapse:collapse;width:100%;margin:4pt 0;font-size:9pt}
th,td{border:1px solid #c8c8c8;padding:3pt 5pt;text-align:left;vertical-align:top}th{background:#e8eef4}
td.n{text-align:right;white-space:nowrap}figure{margin:8pt 0;page-break-inside:avoid}figure img{width:100%;height:auto;
border:1px solid #ccc}figcaption{font-size:8.5pt;color:#444}.note{font-size:8.5pt;color:#444}
footer{margin-top:16pt;font-size:8pt;color:#555;border-top:1px solid #ccc;padding-top:4pt}
@media print{body{margin:0}h2{page-break-after:avoid}}
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _html_table(table: ReportTable) -> str:
    numeric = table.numeric or (False,) * len(table.columns)
    head = "".join(f"<th>{_e(c)}</th>" for c in table.columns)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{_e(v)}</td>' if n else f"<td>{_e(v)}</td>" for v, n in zip(row, numeric, strict=True)
        )
        + "</tr>"
        for row in table.rows
    )
    note = f'<p class="note">{_e(table.note)}</p>' if table.note else ""
    return f"<h2>{_e(table.title)}</h2><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{note}"


def render_html(report: CouncilReport) -> str:
    """The report as one self-contained HTML page.

    Every text is HTML-escaped; the maps are embedded as ``data:`` PNG URIs,
    so the file needs no network and no other files.
    """
    parts = [
        "<!DOCTYPE html>",
        '<html lang="de"><head><meta charset="utf-8">',
        f"<title>{_e(report.title)} – {_e(report.area.name)}</title>",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{_e(report.title)}</h1>",
        f'<p class="sub">{_e(report.subtitle)}<br>Stand: {_e(report.created.strftime("%d.%m.%Y"))}</p>',
        *([f"<p>{_e(report.summary)}</p>"] if report.summary else []),
        "<h2>Kennzahlen</h2><table><tbody>",
        *(f'<tr><th scope="row">{_e(k)}</th><td>{_e(v)}</td></tr>' for k, v in report.figures),
        "</tbody></table>",
        "<h2>Karten</h2>",
    ]
    for m in report.maps:
        data = base64.b64encode(m.png).decode("ascii")
        px_w, px_h = png_size(m.png)  # the browser reserves the image's own aspect ratio (height:auto)
        parts.append(
            f'<figure><img alt="{_e(m.title)}" width="{px_w}" height="{px_h}" src="data:image/png;base64,{data}">'
            f"<figcaption><strong>{_e(m.title)}.</strong> {_e(m.caption)}</figcaption></figure>"
        )
    parts += [_html_table(t) for t in report.tables]
    parts.append("<h2>Methode</h2>")
    parts += [f"<p>{_e(p)}</p>" for p in report.method]
    parts.append(
        "<h2>Datenquellen</h2><table><thead><tr><th>Inhalt</th><th>Quelle</th><th>Lizenz</th>"
        "<th>Stand</th></tr></thead><tbody>"
    )
    parts += [
        f"<tr><td>{_e(s.what)}</td><td>{_e(s.source)}</td><td>{_e(s.licence)}</td><td>{_e(s.as_of)}</td></tr>"
        for s in report.sources
    ]
    parts.append(
        "</tbody></table><p><strong>Namensnennung:</strong> " + " · ".join(_e(a) for a in report.attributions) + "</p>"
    )
    if report.appendix:
        parts.append("<h2>Anhang: Technische Angaben</h2>")
        parts += [f'<p class="sub">{_e(p)}</p>' for p in report.appendix]
    parts.append(
        f"<footer>Erstellt mit dem Integrationsatlas NRW am {_e(report.created.strftime('%d.%m.%Y'))}.</footer>"
    )
    parts.append("</body></html>")
    return "\n".join(parts)
