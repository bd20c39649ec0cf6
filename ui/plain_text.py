"""Text from a stranger (a pack's title and credits, a photo's file name, a database folder's name) shown by
Qt as the text it is: Qt renders a tooltip or a label that looks like HTML as rich text, so `<img src=...>`
or `<a href=...>` in a credit would load an image or show a link. Tooltips have no plain-text switch, so
their text is escaped inside a rich-text wrapper that keeps line breaks and spaces."""

from __future__ import annotations

import html


def escaped(text: str) -> str:
    """Text to place inside rich text (a label's <b>...</b>), shown literally."""
    return html.escape(str(text), quote=False)


def plain_tooltip(text: str) -> str:
    """A tooltip that shows `text` literally, whatever it holds."""
    return f"<p style='white-space:pre-wrap'>{escaped(text)}</p>"
