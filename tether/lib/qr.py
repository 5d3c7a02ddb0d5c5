"""QR codes as inline SVG, safe under Tether's strict Content-Security-Policy."""

from __future__ import annotations

import io
import re

import qrcode
import qrcode.image.svg

_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>\s*")
_STYLE_ATTRIBUTE = re.compile(r"\sstyle=(\"[^\"]*\"|'[^']*')")
_FIXED_SIZE = re.compile(
    r'<svg([^>]*?)\s(?:width|height)="[^"]*"([^>]*?)\s(?:width|height)="[^"]*"'
)


def qr_svg(data: str) -> str:
    """An ``<svg>`` element for ``data``, ready to put inside an HTML page.

    The XML declaration is dropped (it has no place inside HTML), any ``style=``
    attribute is removed (the CSP forbids inline styles) and the fixed size is
    left to the stylesheet, so the code scales with its container.
    """
    image = qrcode.make(
        data,
        image_factory=qrcode.image.svg.SvgPathImage,
        box_size=10,
        border=4,  # the quiet zone the QR standard asks for; phones read it more reliably
    )
    buffer = io.BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode()
    svg = _XML_DECLARATION.sub("", svg)
    svg = _STYLE_ATTRIBUTE.sub("", svg)
    svg = _FIXED_SIZE.sub(r"<svg\1\2", svg, count=1)
    return svg.replace("<svg", '<svg aria-hidden="true" focusable="false"', 1)
