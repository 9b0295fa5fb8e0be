"""Photo bytes to an RGB image, refusing decompression bombs before any pixel is decoded.

``Image.open`` reads only the header, so the declared size is checked against the pixel limit
before ``load`` allocates anything. Only the raster formats marketplaces serve are opened: Pillow's
other plugins (EPS runs Ghostscript, for one) are attack surface a listing photo never needs.
"""

from __future__ import annotations

import io
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError

from encoders.images.errors import FetchLimits, PhotoError

# MPO is how Pillow opens many phone-camera JPEGs; AVIF only where this Pillow build reads it.
_WANTED_FORMATS = ("JPEG", "MPO", "PNG", "WEBP", "GIF", "BMP", "AVIF")
_BACKGROUND = (255, 255, 255)


def _formats() -> tuple[str, ...]:
    Image.init()
    return tuple(name for name in _WANTED_FORMATS if name in Image.OPEN)


def decode_photo(data: bytes, limits: FetchLimits) -> Image.Image:
    """The photo as an RGB image, upright per its EXIF orientation; PhotoError when it is not a usable photo."""
    image = _open_checked(data, limits)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image.load()
            upright = _upright(image)
            return _to_rgb(upright)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise PhotoError("too_many_pixels", f"decompression bomb refused: {error}") from None
    except (OSError, SyntaxError, ValueError, EOFError) as error:  # truncated or corrupt data
        raise PhotoError("not_an_image", f"{image.format or 'image'} data cannot be decoded: {error}") from None


def _open_checked(data: bytes, limits: FetchLimits) -> Image.Image:
    if not data:
        raise PhotoError("not_an_image", "empty photo")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=_formats())
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise PhotoError("too_many_pixels", f"decompression bomb refused: {error}") from None
    except UnidentifiedImageError:
        raise PhotoError("not_an_image", "not an image in a supported format (JPEG, PNG, WebP, GIF, BMP)") from None
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise PhotoError("not_an_image", f"unreadable image header: {error}") from None
    width, height = image.size
    if width <= 0 or height <= 0:
        raise PhotoError("not_an_image", f"image declares a {width}x{height} size")
    if width * height > limits.max_pixels:
        raise PhotoError("too_many_pixels", f"{width}x{height} image, over {limits.max_pixels} pixels")
    return image


def _upright(image: Image.Image) -> Image.Image:
    """Rotated per EXIF; an unreadable EXIF block leaves the photo as stored rather than failing it."""
    try:
        return ImageOps.exif_transpose(image) or image
    except (OSError, SyntaxError, ValueError, KeyError, TypeError):
        return image


def _to_rgb(image: Image.Image) -> Image.Image:
    """RGB with transparency flattened onto white (a packshot's usual background), not onto black."""
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        flattened = Image.new("RGB", rgba.size, _BACKGROUND)
        flattened.paste(rgba, mask=rgba.getchannel("A"))
        return flattened
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit greyscale: scale to 8 bits instead of clipping everything above 255 to white.
        image = image.point(lambda value: value / 256).convert("L")
    return image.convert("RGB")
