"""Drawing a ``Look`` as a packshot with PIL: a package outline per shape, its label panel, texts and marks.

Drawn at twice the asked size and downsampled, so edges and text are smooth the way a photo's are.
Every coordinate is a fraction of the canvas side, so any size gives the same picture.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

from decider.synthetic.packshot_looks import RGB, Look, Mark

SUPERSAMPLING = 2
SCREEN: RGB = (22, 24, 32)
WHITE: RGB = (250, 250, 248)
Box = tuple[float, float, float, float]  # left, top, right, bottom as fractions of the side


@dataclass(frozen=True)
class Pose:
    """How the camera saw the package: degrees anticlockwise, a shift (fractions of the side), a zoom."""

    angle: float = 0.0
    shift: tuple[float, float] = (0.0, 0.0)
    zoom: float = 1.0


FRONT = Pose()


@dataclass(frozen=True)
class _Shape:
    outline: Box  # where the package is: its shadow and its marks follow it
    panel: Box  # where the brand and label are written
    panel_fill: RGB | None  # None: the shape fills it itself (a screen)
    draw: Callable[[_Canvas, Look], None]


class _Canvas:
    """Maps the scene's fractions to pixels through the pose's zoom and shift (cheaper than resampling)."""

    def __init__(self, image: Image.Image, pose: Pose) -> None:
        self.side = image.width * pose.zoom  # pixels per unit of the scene
        self._origin = [image.width * (0.5 + pose.shift[i]) - self.side / 2 for i in (0, 1)]
        self.draw = ImageDraw.Draw(image)

    def at(self, *fractions: float) -> list[float]:
        """Pixels of alternating x, y fractions."""
        return [self._origin[i % 2] + fraction * self.side for i, fraction in enumerate(fractions)]

    def rect(self, box: Box, fill: RGB, radius: float = 0.0) -> None:
        self.draw.rounded_rectangle(self.at(*box), radius=radius * self.side, fill=fill)

    def polygon(self, points: Sequence[tuple[float, float]], fill: RGB) -> None:
        self.draw.polygon([tuple(self.at(x, y)) for x, y in points], fill=fill)

    def ellipse(self, box: Box, fill: RGB | None = None, outline: RGB | None = None, width: float = 0.0) -> None:
        self.draw.ellipse(self.at(*box), fill=fill, outline=outline, width=round(width * self.side))


def draw_packshot(look: Look, size: int = 160, pose: Pose = FRONT) -> Image.Image:
    """An RGB ``size`` x ``size`` photo of the look."""
    if size < 16:
        raise ValueError(f"a packshot needs at least 16 pixels a side, got {size}")
    image = Image.new("RGB", (size * SUPERSAMPLING, size * SUPERSAMPLING), look.background)
    canvas = _Canvas(image, pose)
    shape = SHAPES[look.shape]
    left, _, right, bottom = shape.outline
    shadow = (left + 0.02, bottom - 0.02, right - 0.02, min(0.99, bottom + 0.04))
    canvas.ellipse(shadow, fill=_shade(look.background, 0.91))
    shape.draw(canvas, look)
    for mark in look.marks:
        _draw_mark(canvas, shape.outline, mark)
    if shape.panel_fill is not None:
        canvas.rect(shape.panel, shape.panel_fill, radius=0.01)
    _write_texts(canvas, shape.panel, look, shape.panel_fill or SCREEN)
    if pose.angle:
        image = image.rotate(pose.angle, Image.Resampling.BICUBIC, fillcolor=look.background)
    return image.resize((size, size), Image.Resampling.LANCZOS)


@lru_cache(maxsize=64)
def _font(pixels: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=pixels)


def _write_texts(canvas: _Canvas, panel: Box, look: Look, fill: RGB) -> None:
    """The brand (in the accent colour where it shows), then each label line, at the largest size that fits."""
    left, top, right, bottom = canvas.at(*panel)
    ink: RGB = (20, 20, 24) if _brightness(fill) > 130 else (240, 240, 240)
    brand_ink = look.accent if abs(_brightness(look.accent) - _brightness(fill)) > 90 else ink
    lines = [(look.brand.upper(), 0.085, brand_ink), *((text, 0.06, ink) for text in look.label)]
    room = (bottom - top) / len(lines)
    y = top + room * 0.1
    for text, largest, colour in lines:
        font = _fitting_font(text, right - left - 6, min(largest * canvas.side, room * 0.85))
        canvas.draw.text(((left + right) / 2, y), text, font=font, fill=colour, anchor="ma")
        y += room


def _brightness(colour: RGB) -> float:
    red, green, blue = colour
    return 0.299 * red + 0.587 * green + 0.114 * blue


def _fitting_font(text: str, width: float, largest: float) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    pixels = max(8, int(largest))
    while pixels > 8 and _font(pixels).getlength(text) > width:
        pixels -= 1
    return _font(pixels)


def _draw_mark(canvas: _Canvas, outline: Box, mark: Mark) -> None:
    left, top, right, bottom = outline
    x, y, r = left + mark.x * (right - left), top + mark.y * (bottom - top), mark.size
    if mark.kind == "dot":
        canvas.ellipse((x - r, y - r, x + r, y + r), fill=mark.colour)
    elif mark.kind == "stripe":
        canvas.rect((x - 1.5 * r, y - r / 4, x + 1.5 * r, y + r / 4), mark.colour)
    elif mark.kind == "star":
        canvas.polygon(_star(x, y, r), mark.colour)
    else:
        canvas.ellipse((x - r, y - r, x + r, y + r), outline=mark.colour, width=r / 3)


def _star(x: float, y: float, r: float) -> list[tuple[float, float]]:
    return [
        (x + (r if i % 2 == 0 else r / 2.5) * math.sin(i * math.pi / 5), y - (r if i % 2 == 0 else r / 2.5)
         * math.cos(i * math.pi / 5))
        for i in range(10)
    ]


def _shade(colour: RGB, factor: float) -> RGB:
    return tuple(min(255, round(c * factor)) for c in colour)  # type: ignore[return-value]


# --- shapes: each draws its package; the label panel is drawn after the marks ---------------------------


def _box(c: _Canvas, look: Look) -> None:
    c.rect((0.27, 0.14, 0.73, 0.86), look.body)
    c.polygon([(0.27, 0.14), (0.33, 0.08), (0.79, 0.08), (0.73, 0.14)], _shade(look.body, 1.25))
    c.polygon([(0.73, 0.14), (0.79, 0.08), (0.79, 0.80), (0.73, 0.86)], _shade(look.body, 0.7))
    c.rect((0.27, 0.78, 0.73, 0.82), look.accent)


def _bottle(c: _Canvas, look: Look) -> None:
    c.rect((0.43, 0.07, 0.57, 0.15), look.accent, radius=0.015)
    c.rect((0.45, 0.15, 0.55, 0.25), look.body)
    c.rect((0.31, 0.22, 0.69, 0.88), look.body, radius=0.08)


def _can(c: _Canvas, look: Look) -> None:
    c.rect((0.33, 0.15, 0.67, 0.86), look.body, radius=0.03)
    c.ellipse((0.33, 0.11, 0.67, 0.19), fill=(196, 198, 202))
    c.rect((0.33, 0.78, 0.67, 0.82), look.accent)


def _drive(c: _Canvas, look: Look) -> None:
    c.rect((0.16, 0.27, 0.84, 0.75), look.body, radius=0.03)
    c.rect((0.3, 0.69, 0.7, 0.73), look.accent)


def _card(c: _Canvas, look: Look) -> None:
    c.polygon([(0.3, 0.26), (0.6, 0.2), (0.7, 0.3), (0.7, 0.8), (0.3, 0.8)], look.body)
    c.rect((0.3, 0.28, 0.7, 0.36), look.accent)


def _phone(c: _Canvas, look: Look) -> None:
    c.rect((0.32, 0.09, 0.68, 0.91), look.body, radius=0.05)
    c.rect((0.345, 0.13, 0.655, 0.87), SCREEN, radius=0.03)
    c.rect((0.46, 0.145, 0.54, 0.16), look.body, radius=0.007)


def _case(c: _Canvas, look: Look) -> None:
    c.rect((0.32, 0.09, 0.68, 0.91), look.body, radius=0.06)
    c.rect((0.36, 0.13, 0.49, 0.28), look.accent, radius=0.025)
    for x, y in ((0.395, 0.17), (0.45, 0.23)):
        c.ellipse((x - 0.025, y - 0.025, x + 0.025, y + 0.025), fill=SCREEN)


def _tv(c: _Canvas, look: Look) -> None:
    c.polygon([(0.44, 0.7), (0.56, 0.7), (0.62, 0.8), (0.38, 0.8)], look.accent)
    c.rect((0.07, 0.19, 0.93, 0.72), look.body, radius=0.01)
    c.rect((0.09, 0.21, 0.91, 0.7), SCREEN)


def _headphones(c: _Canvas, look: Look) -> None:
    c.draw.arc(c.at(0.2, 0.12, 0.8, 0.72), 180, 360, fill=look.body, width=round(0.05 * c.side))
    for left in (0.12, 0.66):
        c.ellipse((left, 0.36, left + 0.22, 0.68), fill=look.body)
        c.ellipse((left + 0.05, 0.42, left + 0.17, 0.62), fill=look.accent)


def _laptop(c: _Canvas, look: Look) -> None:
    c.rect((0.19, 0.14, 0.81, 0.62), look.body, radius=0.015)
    c.rect((0.22, 0.17, 0.78, 0.59), SCREEN)
    c.polygon([(0.19, 0.62), (0.81, 0.62), (0.92, 0.72), (0.08, 0.72)], _shade(look.body, 0.8))


def _appliance(c: _Canvas, look: Look) -> None:
    c.draw.arc(c.at(0.52, 0.26, 0.8, 0.66), 270, 90, fill=look.accent, width=round(0.04 * c.side))
    c.polygon([(0.3, 0.3), (0.18, 0.26), (0.3, 0.42)], look.body)
    c.rect((0.28, 0.2, 0.66, 0.8), look.body, radius=0.07)
    c.rect((0.25, 0.8, 0.69, 0.86), look.accent, radius=0.01)


def _cube(c: _Canvas, look: Look) -> None:
    c.rect((0.2, 0.13, 0.8, 0.87), look.body, radius=0.02)
    c.ellipse((0.33, 0.4, 0.67, 0.74), fill=SCREEN, outline=look.accent, width=0.025)
    c.rect((0.2, 0.34, 0.8, 0.36), look.accent)


def _shoe(c: _Canvas, look: Look) -> None:
    upper = [(0.12, 0.66), (0.14, 0.46), (0.4, 0.42), (0.56, 0.28), (0.72, 0.28), (0.78, 0.5), (0.9, 0.58), (0.9, 0.66)]
    c.polygon(upper, look.body)
    c.polygon([(0.1, 0.66), (0.92, 0.66), (0.9, 0.74), (0.12, 0.74)], look.accent)


def _shirt(c: _Canvas, look: Look) -> None:
    outline = [(0.3, 0.16), (0.42, 0.12), (0.58, 0.12), (0.7, 0.16), (0.88, 0.34), (0.78, 0.44), (0.7, 0.38),
               (0.7, 0.88), (0.3, 0.88), (0.3, 0.38), (0.22, 0.44), (0.12, 0.34)]
    c.polygon(outline, look.body)
    c.polygon([(0.42, 0.12), (0.58, 0.12), (0.5, 0.2)], look.accent)


def _trousers(c: _Canvas, look: Look) -> None:
    c.polygon([(0.3, 0.12), (0.7, 0.12), (0.77, 0.9), (0.56, 0.9), (0.5, 0.38), (0.44, 0.9), (0.23, 0.9)], look.body)
    c.rect((0.3, 0.12, 0.7, 0.17), look.accent)


SHAPES: dict[str, _Shape] = {
    "box": _Shape((0.27, 0.08, 0.79, 0.86), (0.31, 0.4, 0.69, 0.74), WHITE, _box),
    "bottle": _Shape((0.31, 0.07, 0.69, 0.88), (0.33, 0.44, 0.67, 0.76), WHITE, _bottle),
    "can": _Shape((0.33, 0.11, 0.67, 0.86), (0.35, 0.38, 0.65, 0.7), WHITE, _can),
    "drive": _Shape((0.16, 0.27, 0.84, 0.75), (0.22, 0.33, 0.78, 0.66), WHITE, _drive),
    "card": _Shape((0.3, 0.2, 0.7, 0.8), (0.32, 0.4, 0.68, 0.76), WHITE, _card),
    "phone": _Shape((0.32, 0.09, 0.68, 0.91), (0.35, 0.36, 0.65, 0.64), None, _phone),
    "case": _Shape((0.32, 0.09, 0.68, 0.91), (0.35, 0.5, 0.65, 0.78), WHITE, _case),
    "tv": _Shape((0.07, 0.19, 0.93, 0.8), (0.2, 0.3, 0.8, 0.6), None, _tv),
    "headphones": _Shape((0.12, 0.12, 0.88, 0.68), (0.3, 0.7, 0.7, 0.95), WHITE, _headphones),
    "laptop": _Shape((0.08, 0.14, 0.92, 0.72), (0.25, 0.24, 0.75, 0.52), None, _laptop),
    "appliance": _Shape((0.18, 0.2, 0.8, 0.86), (0.3, 0.42, 0.64, 0.68), WHITE, _appliance),
    "cube": _Shape((0.2, 0.13, 0.8, 0.87), (0.24, 0.16, 0.76, 0.33), WHITE, _cube),
    "shoe": _Shape((0.1, 0.28, 0.92, 0.74), (0.28, 0.77, 0.72, 0.96), WHITE, _shoe),
    "shirt": _Shape((0.12, 0.12, 0.88, 0.88), (0.34, 0.46, 0.66, 0.74), WHITE, _shirt),
    "trousers": _Shape((0.23, 0.12, 0.77, 0.9), (0.56, 0.2, 0.9, 0.44), WHITE, _trousers),
}
