"""Text from data in Streamlit: shown as the text it is, never as Markdown.

Streamlit renders almost every text as Markdown – ``st.markdown``, ``caption``,
``info``/``warning``/``error``/``success``, titles, spinners, expanders,
tabs, widget labels and ``help``. A Gemeinde name, an upload's file name, a
scenario or facility name put there verbatim would be Markdown: an image
``![x](http://…)`` loads in every viewer's browser, a link points anywhere,
``:red[…]`` or ``$…$`` change how it looks. :func:`md` makes any value inert;
:func:`ui.i18n.t` applies it to every value it fills into a text, and
``tests/test_injection.py`` checks that nothing else reaches those surfaces.

What :func:`md` does, so that the browser shows exactly the value:

* every ASCII punctuation character gets a backslash (CommonMark shows it
  literally): no emphasis, link, image, heading, list, HTML, directive or math;
* autolink literals (``www.``, ``http://``, ``a@b.de``), which GitHub-flavoured
  Markdown finds even in escaped text, get an invisible WORD JOINER (U+2060)
  after ``www``, ``:`` and ``@``, so they stay text;
* line breaks and other control characters become spaces (a name is one line);
* a lone UTF-16 surrogate (which Streamlit could not send) becomes U+FFFD;
* text with bidirectional controls (e.g. RIGHT-TO-LEFT OVERRIDE) is isolated
  (U+2068 … U+2069), so it cannot reverse the text around it.
"""

from __future__ import annotations

import re

__all__ = ["Markdown", "md"]

_PUNCTUATION = re.compile(r"[!-/:-@\[-`{-~]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_BIDI = re.compile(r"[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
#: Where GFM autolink literals would start, in the escaped text: after ``www``, ``:`` and ``@``.
_AUTOLINK = re.compile(r"(?i:(?<![\w])www(?=\\\.))|\\:|\\@")
WORD_JOINER = "\u2060"


class Markdown(str):
    """Markdown that is safe to render: our own texts (:func:`ui.i18n.t`) and data escaped by :func:`md`.

    :func:`md` and :func:`ui.i18n.t` leave a ``Markdown`` value as it is, so a
    text built from texts is never escaped twice. Any other ``str`` operation
    (``+``, f-strings) gives a plain ``str`` again.
    """

    __slots__ = ()


def md(value: object) -> Markdown:
    r"""``value`` as Markdown that shows exactly its text (see the module notes).

    Parameters
    ----------
    value
        Any value; it is shown as ``str(value)``. A :class:`Markdown` value is
        returned unchanged.

    Examples
    --------
    >>> print(md("**fett** ![x](y) {{ 6*7 }}"))
    \*\*fett\*\* \!\[x\]\(y\) \{\{ 6\*7 \}\}
    >>> print(md("www.example.de\nkontakt@example.de").replace(WORD_JOINER, "<WJ>"))
    www<WJ>\.example\.de kontakt\@<WJ>example\.de
    """
    if isinstance(value, Markdown):
        return value
    text = _SURROGATE.sub("\ufffd", str(value))
    text = _CONTROL.sub(" ", text)
    isolate = bool(_BIDI.search(text))
    text = _PUNCTUATION.sub(lambda m: "\\" + m.group(), text)
    text = _AUTOLINK.sub(lambda m: m.group() + WORD_JOINER, text)
    return Markdown(f"\u2068{text}\u2069" if isolate else text)
