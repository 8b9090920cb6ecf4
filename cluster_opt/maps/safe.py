"""Escaping for the two contexts pages put data in: HTML text and attributes, and JSON script blocks."""

from __future__ import annotations

import html
import json

# Characters that could end a script block or open an HTML comment, and the two line separators
# older JavaScript parsers treat as line ends; JSON allows each as a \u escape inside strings.
_SCRIPT_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def esc(x) -> str:
    """Text for HTML, in element content or in a quoted attribute."""
    return html.escape(str(x), quote=True)


def json_for_script(data) -> str:
    """JSON that can sit inside <script type="application/json">: no string in it can close the block."""
    text = json.dumps(data, allow_nan=False, separators=(",", ":"))  # ASCII: the page's charset cannot matter
    for ch, escaped in _SCRIPT_ESCAPES.items():
        text = text.replace(ch, escaped)
    return text


def data_block(block_id: str, data) -> str:
    """A JSON data block the page's script reads with coData(block_id)."""
    return f'<script type="application/json" id="{esc(block_id)}">{json_for_script(data)}</script>'
