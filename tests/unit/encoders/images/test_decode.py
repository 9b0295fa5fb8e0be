"""decode_photo: bombs refused from the header alone, every common mode to upright RGB."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from encoders.images.decode import decode_photo
from encoders.images.errors import FetchLimits, PhotoError
from tests.unit.encoders.images.photo_server import jpeg_bytes, png_declaring

LIMITS = FetchLimits(max_pixels=1_000_000)


def encoded(image: Image.Image, fmt: str, **save: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **save)
    return buffer.getvalue()


def refused(data: bytes, limits: FetchLimits = LIMITS) -> PhotoError:
    with pytest.raises(PhotoError) as caught:
        decode_photo(data, limits)
    return caught.value


@pytest.mark.parametrize("size", [(2_000, 2_000), (20_000, 20_000), (100_000, 100_000)])
def test_a_header_declaring_too_many_pixels_is_refused_before_decoding(size: tuple[int, int]) -> None:
    bomb = png_declaring(*size)
    assert len(bomb) < 100
    # Decoding would fail on the 1-pixel payload (not_an_image); too_many_pixels proves the header check came first.
    assert refused(bomb).reason == "too_many_pixels"
    if size == (2_000, 2_000):
        assert refused(bomb, FetchLimits(max_pixels=10**8)).reason == "not_an_image"


def test_a_real_one_bit_bomb_is_refused() -> None:
    bomb = encoded(Image.new("1", (1_500, 1_000)), "PNG")  # 1.5 M pixels in a few hundred bytes
    assert len(bomb) < 5_000
    assert refused(bomb).reason == "too_many_pixels"
    assert decode_photo(bomb, FetchLimits(max_pixels=2_000_000)).size == (1_500, 1_000)


def test_a_jpeg_decodes_to_rgb() -> None:
    image = decode_photo(jpeg_bytes((40, 30), (10, 200, 30)), LIMITS)
    assert image.mode == "RGB" and image.size == (40, 30)
    red, green, blue = image.getpixel((20, 15))  # type: ignore[misc]
    assert green > 150 and red < 60 and blue < 80


def test_exif_orientation_is_applied() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    image = decode_photo(jpeg_bytes((40, 20), exif=exif.tobytes()), LIMITS)
    assert image.size == (20, 40)


def test_transparency_is_flattened_onto_white_and_palettes_cmyk_and_grey_become_rgb() -> None:
    clear = Image.new("RGBA", (8, 8), (0, 0, 0, 0))
    assert decode_photo(encoded(clear, "PNG"), LIMITS).getpixel((0, 0)) == (255, 255, 255)
    palette = Image.new("RGB", (8, 8), (0, 0, 255)).convert("P")
    assert decode_photo(encoded(palette, "GIF"), LIMITS).getpixel((0, 0)) == (0, 0, 255)
    cmyk = decode_photo(encoded(Image.new("CMYK", (8, 8), (0, 255, 255, 0)), "JPEG"), LIMITS)
    assert cmyk.mode == "RGB" and cmyk.getpixel((0, 0))[0] > 200  # type: ignore[index]
    deep = decode_photo(encoded(Image.new("I;16", (4, 4), 40_000), "PNG"), LIMITS)
    assert deep.getpixel((0, 0)) == (156, 156, 156)  # 40000 / 256, not clipped to white


def test_non_images_truncated_data_and_unsupported_formats_are_not_images() -> None:
    good = jpeg_bytes((64, 64))
    tiff = encoded(Image.new("RGB", (8, 8)), "TIFF")
    for data in (b"", b"<html>not found</html>", good[: len(good) // 2], tiff, b"%!PS-Adobe-3.0 EPSF-3.0\n"):
        assert refused(data).reason == "not_an_image"
