"""What a reseller does to a product photo it reuses: resize, crop or pad, brighten, watermark, re-encode.

Each edit is drawn from the caller's ``random.Random``, so a listing's copy is the same on every run;
the copy stays perceptually close to the original (a small pHash distance) while its bytes differ.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageDraw, ImageEnhance, ImageFont

WATERMARK_RATE = 0.6
PNG_RATE = 0.1  # screenshots and "optimised" uploads


@dataclass(frozen=True)
class Encoding:
    format: str  # "JPEG" or "PNG"
    quality: int = 90  # JPEG only

    @property
    def suffix(self) -> str:
        return ".png" if self.format == "PNG" else ".jpg"


ORIGINAL_ENCODING = Encoding("JPEG", 92)


def reseller_copy(original: Image.Image, seller: str, rng: random.Random) -> Image.Image:
    """The original brightened or darkened a little, cropped or padded, rescaled, perhaps watermarked."""
    image = ImageEnhance.Brightness(original).enhance(rng.uniform(0.9, 1.1))
    image = _cropped(image, rng) if rng.random() < 0.5 else _padded(image, rng)
    factor = rng.uniform(0.75, 1.5)
    image = image.resize((round(image.width * factor), round(image.height * factor)), Image.Resampling.BICUBIC)
    if rng.random() < WATERMARK_RATE:
        image = watermarked(image, seller, rng)
    return image


def reseller_encoding(rng: random.Random) -> Encoding:
    if rng.random() < PNG_RATE:
        return Encoding("PNG")
    return Encoding("JPEG", rng.randint(45, 88))


def watermarked(image: Image.Image, text: str, rng: random.Random) -> Image.Image:
    """``text`` in a corner, half transparent, as marketplaces' sellers stamp their photos."""
    layer = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    font = _font(max(8, image.width // 18))
    width = draw.textlength(text, font=font)
    margin = image.width * 0.03
    right, bottom = rng.random() < 0.5, rng.random() < 0.7
    x = image.width - margin - width if right else margin
    y = image.height - margin - font.size if bottom else margin  # type: ignore[union-attr]
    shade = rng.choice(((0, 0, 0), (255, 255, 255), (200, 30, 30)))
    draw.text((x, y), text, font=font, fill=(*shade, rng.randint(110, 180)))
    return Image.alpha_composite(image.convert("RGBA"), layer).convert("RGB")


def encoded(image: Image.Image, encoding: Encoding) -> bytes:
    """The file's bytes; no metadata, so the same pixels give the same bytes."""
    buffer = io.BytesIO()
    if encoding.format == "PNG":
        image.save(buffer, format="PNG", optimize=False)
    else:
        image.save(buffer, format="JPEG", quality=encoding.quality, optimize=False)
    return buffer.getvalue()


def _cropped(image: Image.Image, rng: random.Random) -> Image.Image:
    side = image.width
    left, top, right, bottom = (round(side * rng.uniform(0.0, 0.03)) for _ in range(4))
    return image.crop((left, top, side - right, side - bottom))


def _padded(image: Image.Image, rng: random.Random) -> Image.Image:
    side = image.width
    border = round(side * rng.uniform(0.01, 0.04))
    fill = rng.choice(((255, 255, 255), image.getpixel((0, 0))))
    canvas = Image.new("RGB", (side + 2 * border, side + 2 * border), fill)  # type: ignore[arg-type]
    canvas.paste(image, (border, border))
    return canvas


@lru_cache(maxsize=32)
def _font(pixels: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=pixels)
