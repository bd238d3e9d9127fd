"""An office's logo, checked and made safe before it is stored and printed on its sheets.

An uploaded logo is never stored as it came:

* a PNG or JPEG is decoded with Pillow and encoded again (a PNG as PNG, a JPEG as JPEG), scaled
  down to at most ``MAX_SIDE`` pixels: whatever rode along in the file (text chunks, EXIF, a script
  appended after the image data, a second file glued on) is gone, and a decompression bomb is
  refused by its pixel count before it is decoded;
* an SVG is parsed with defusedxml (no DTD, no entities, no external anything) and rebuilt from a
  list of known drawing elements and attributes: scripts, ``foreignObject``, event handlers
  (``onload``), links and references to anything outside the file (``href``, ``url(...)``,
  ``@import``) are dropped, and so is every element or attribute not on the list.

What cannot be read as one of the three is refused with a message for the form. The printed sheet
embeds the result as a ``data:`` image (procedures.pdf); WeasyPrint is given no other URL.
"""

from __future__ import annotations

import base64
import io
import re
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# A logo is printed 24 mm wide: 600 px is over 600 dpi there.
MAX_SIDE = 600
# Pixels decoded at most (a 10 000 × 10 000 image); larger files are refused unread.
MAX_PIXELS = 100_000_000

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_NS = "http://www.w3.org/XML/1998/namespace"

CONTENT_TYPES = {"png": "image/png", "jpg": "image/jpeg", "svg": "image/svg+xml"}


@dataclass(frozen=True)
class Logo:
    """A sanitised logo: its bytes and its extension (``png``, ``jpg`` or ``svg``)."""

    content: bytes
    extension: str

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.extension]


def max_bytes() -> int:
    return settings.LOGO_MAX_BYTES


def logo_sanitise(data: bytes, *, name: str = "") -> Logo:
    """The logo in ``data`` made safe, or ``ValidationError`` saying why it is refused."""
    if len(data) > max_bytes():
        raise ValidationError(
            _("The logo is %(size)s KB; a logo may be at most %(limit)s KB.")
            % {"size": round(len(data) / 1024), "limit": round(max_bytes() / 1024)},
            code="too_large",
        )
    if not data:
        raise ValidationError(_("The logo file is empty."), code="empty")
    head = data[:512].lstrip()
    if head.startswith(b"\x89PNG\r\n\x1a\n") or head.startswith(b"\xff\xd8\xff"):
        return _raster(data)
    if head.startswith(b"<") or head.startswith(b"\xef\xbb\xbf<"):
        return _svg(data)
    raise ValidationError(_("%(name)s is not a PNG, JPEG or SVG image.") % {"name": name or _("The file")},
                          code="not_an_image")


def data_uri(content: bytes, content_type: str) -> str:
    """The logo as a ``data:`` URL for the printed sheet."""
    return f"data:{content_type};base64,{base64.b64encode(content).decode('ascii')}"


# ---------------------------------------------------------------------------------------------
# PNG and JPEG
# ---------------------------------------------------------------------------------------------


def _raster(data: bytes) -> Logo:
    from PIL import Image, UnidentifiedImageError

    unreadable = ValidationError(_("The logo could not be read as a PNG or JPEG image."), code="unreadable")
    try:
        with Image.open(io.BytesIO(data), formats=["PNG", "JPEG"]) as image:
            width, height = image.size
            if width < 1 or height < 1 or width * height > MAX_PIXELS:
                raise ValidationError(
                    _("The logo is %(width)s × %(height)s pixels; a logo may have at most %(limit)s million pixels.")
                    % {"width": width, "height": height, "limit": MAX_PIXELS // 1_000_000},
                    code="too_many_pixels",
                )
            kind = image.format
            image.load()
            image.thumbnail((MAX_SIDE, MAX_SIDE))
            out = io.BytesIO()
            if kind == "JPEG":
                image.convert("RGB").save(out, format="JPEG", quality=90)
                return Logo(out.getvalue(), "jpg")
            if image.mode not in ("RGB", "RGBA", "L", "LA"):
                image = image.convert("RGBA")
            image.save(out, format="PNG", optimize=True)
            return Logo(out.getvalue(), "png")
    except ValidationError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise unreadable from None


# ---------------------------------------------------------------------------------------------
# SVG
# ---------------------------------------------------------------------------------------------

# The drawing elements a logo needs; everything else (script, foreignObject, image, a, use of
# another file, animation, metadata, editors' own elements) is dropped with its content.
SVG_ELEMENTS = frozenset({
    "svg", "g", "defs", "symbol", "use", "title", "desc", "style",
    "path", "rect", "circle", "ellipse", "line", "polyline", "polygon",
    "text", "tspan", "textPath",
    "linearGradient", "radialGradient", "stop", "pattern", "clipPath", "mask",
})

# Presentation and geometry attributes (no namespace); ``on…`` handlers are never on it.
SVG_ATTRIBUTES = frozenset({
    "id", "class", "style", "transform", "viewBox", "preserveAspectRatio", "version", "width", "height",
    "x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "rx", "ry", "fx", "fy", "d", "points", "pathLength",
    "fill", "fill-opacity", "fill-rule", "stroke", "stroke-width", "stroke-opacity", "stroke-linecap",
    "stroke-linejoin", "stroke-miterlimit", "stroke-dasharray", "stroke-dashoffset", "opacity",
    "color", "display", "visibility", "clip-path", "clip-rule", "mask", "overflow",
    "font-family", "font-size", "font-weight", "font-style", "text-anchor", "dominant-baseline",
    "letter-spacing", "word-spacing", "text-decoration", "dx", "dy", "rotate", "textLength", "lengthAdjust",
    "offset", "stop-color", "stop-opacity", "gradientUnits", "gradientTransform", "spreadMethod",
    "patternUnits", "patternContentUnits", "patternTransform", "clipPathUnits", "maskUnits", "maskContentUnits",
    "href",  # kept only when it points inside the file (#id), see _safe_value
    "type", "media",  # of <style>
})

# url(...) other than url(#id), @import, expression(), javascript: — anything that reaches out.
_EXTERNAL = re.compile(r"url\(\s*(?![\"']?\s*#)|@import|expression\s*\(|javascript:|data:|\\", re.IGNORECASE)


def _local(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        namespace, _sep, local = tag[1:].partition("}")
        return namespace, local
    return "", tag


def _safe_value(name: str, value: str) -> bool:
    if name == "href":
        return value.strip().startswith("#") and not _EXTERNAL.search(value)
    return not _EXTERNAL.search(value)


def _clean(element) -> None:
    """Drop, below ``element``, every element and attribute not on the lists, in place."""
    for child in list(element):
        namespace, local = _local(child.tag) if isinstance(child.tag, str) else ("", "")
        if namespace != SVG_NS or local not in SVG_ELEMENTS:
            element.remove(child)  # comments and processing instructions too (their tag is no str)
            continue
        _clean(child)
    for key in list(element.attrib):
        namespace, local = _local(key)
        value = element.attrib.pop(key)
        if namespace == XLINK_NS and local == "href":
            local, namespace = "href", ""
        if namespace or local not in SVG_ATTRIBUTES or local.lower().startswith("on"):
            continue
        if _safe_value(local, value):
            element.set(local, value)
    _, local = _local(element.tag)
    if local == "style" and element.text and _EXTERNAL.search(element.text):
        element.text = ""


def _svg(data: bytes) -> Logo:
    from xml.etree import ElementTree

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    refused = ValidationError(_("The SVG logo could not be read as a drawing."), code="bad_svg")
    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (ElementTree.ParseError, DefusedXmlException, ValueError):
        raise refused from None
    if root.tag != f"{{{SVG_NS}}}svg":
        raise refused
    _clean(root)
    if not len(root):
        raise ValidationError(_("The SVG logo holds no drawing sopflow can print."), code="empty_svg")
    ElementTree.register_namespace("", SVG_NS)
    content = ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)
    return Logo(content, "svg")
