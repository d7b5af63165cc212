"""Hostile text for the injection tests (issue 18): payloads, the RCE canary and how text should look.

A payload is what a hostile data supplier would put into a name: Jinja
template syntax (evaluated on the server by the old map rendering), HTML and
script, a JavaScript template literal, Markdown that loads an image from a
canary server or links to ``javascript:``, spreadsheet formulas, a right-to-left
override and a very long string. :func:`payloads` gives them all; the
``jinja_os`` payload would create the directory named in the environment
variable :data:`CANARY_ENV` if any template ever evaluated it.

(PYTEST_DONT_REWRITE: a helper module, imported by several test modules.)
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

#: Environment variable naming the directory the ``jinja_os`` payload would create.
CANARY_ENV = "ATLAS_INJECTION_CANARY"
#: What a successful script payload sets in the browser.
PWNED = "atlasPwned"

_MARKDOWN_ESCAPE = re.compile(r"\\(.)")
_INVISIBLE = re.compile("[\u2060\u2068\u2069]")


def payloads(canary_url: str, long_length: int = 600) -> dict[str, str]:
    """Every hostile text, by kind; ``canary_url`` is the loopback server that must never be asked.

    Parameters
    ----------
    canary_url
        ``http://127.0.0.1:<port>`` of a server that records requests.
    long_length
        Length of the very long name.
    """
    return {
        "jinja": "{{ 6*7 }}",
        "jinja_os": (
            "{{ cycler.__init__.__globals__.os.mkdir(cycler.__init__.__globals__.os.environ." + CANARY_ENV + ") }}"
        ),
        "jinja_block": "{% for x in range(3) %}x{% endfor %}",
        "jinja_comment": "{# versteckt #}sichtbar",
        "js_template": "${window." + PWNED + "=1}",
        "script": "<script>window." + PWNED + "=1</script>",
        "img": '<img src=x onerror="window.' + PWNED + '=1">',
        "end_script": "</script><script>window." + PWNED + "=1</script>",
        "md_image": f"![x]({canary_url}/leak.png)",
        "md_link": "[klick](javascript:window." + PWNED + "=1)",
        "formula": f'=HYPERLINK("{canary_url}/formel","x")',
        "dde": "+cmd|' /C calc'!A0",
        "at": "@SUM(1+1)*cmd|' /C calc'!A0",
        "rtl": "Kita \u202eelbaT",
        "long": "Lange Straße " + "x" * (long_length - 13),
    }


def shown_text(text: str) -> str:
    """The text a Markdown value of :func:`ui.markdown.md` shows: escapes undone, invisible joiners removed."""
    return _INVISIBLE.sub("", _MARKDOWN_ESCAPE.sub(r"\1", text))


def visible(text: str) -> str:
    """``text`` without the invisible characters the app adds around data (word joiners, bidi isolates)."""
    return _INVISIBLE.sub("", text)


def html_text(page: str) -> tuple[str, list[str]]:
    """The text of an HTML page (what a browser shows, entities decoded) and the names of its tags."""

    class Collect(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.tags: list[str] = []
            self.text: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.tags.append(tag)

        def handle_data(self, data: str) -> None:
            self.text.append(data)

    parsed = Collect()
    parsed.feed(page)
    return "".join(parsed.text), parsed.tags
