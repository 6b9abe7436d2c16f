"""Originals as stored: metadata and appended bytes dropped; the decode budget is kept."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin

from shelfready_core.errors import InvalidInput
from shelfready_recognition.image_input import open_photo
from shelfready_recognition.sanitize import clean_original

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
GPS_IFD = 0x8825


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("payload.html", "<script>alert(1)</script>")
    return buffer.getvalue()


def _jpeg_with_metadata(orientation: int = 6, progressive: bool = False) -> bytes:
    image = Image.new("RGB", (640, 480))
    for x in range(0, 640, 40):  # some detail so the entropy data has markers to skip
        image.paste((x % 255, 120, 255 - x % 255), (x, 0, x + 20, 480))
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "SerialCam"  # make
    exif[0xA431] = "SERIAL-123456"  # body serial number
    exif.get_ifd(GPS_IFD)[2] = (52.0, 22.0, 1.0)  # latitude
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif.tobytes(), comment=b"secret note", progressive=progressive)
    return buffer.getvalue()


@pytest.mark.parametrize("progressive", [False, True])
def test_jpeg_loses_metadata_and_appended_bytes_but_not_a_pixel(progressive: bool) -> None:
    original = _jpeg_with_metadata(progressive=progressive)
    polluted = original + _zip() + b"<html>trailing</html>"

    cleaned = clean_original(polluted, "JPEG", "p.jpg").data

    assert cleaned.endswith(b"\xff\xd9") and b"payload.html" not in cleaned
    assert b"trailing" not in cleaned and b"secret note" not in cleaned
    assert b"SERIAL-123456" not in cleaned and b"SerialCam" not in cleaned
    with Image.open(io.BytesIO(cleaned)) as image:
        exif = image.getexif()
        assert exif.get(0x0112) == 6  # orientation kept: the box is in upright pixels
        assert GPS_IFD not in exif
        assert image.info.get("comment") is None
        clean_pixels = image.convert("RGB").tobytes()
    with Image.open(io.BytesIO(original)) as image:
        assert clean_pixels == image.convert("RGB").tobytes()  # lossless: same decode
    assert len(cleaned) < len(polluted)


def test_upright_jpeg_keeps_no_exif_at_all() -> None:
    cleaned = clean_original(_jpeg_with_metadata(orientation=1), "JPEG", "p.jpg").data
    assert b"Exif" not in cleaned


def test_sample_photos_survive_cleaning() -> None:
    for path in sorted(SAMPLES.glob("*.jpg")):
        data = path.read_bytes()
        cleaned = clean_original(data, "JPEG", path.name).data
        before, after = open_photo(data, path.name), open_photo(cleaned, path.name)
        assert (after.width, after.height) == (before.width, before.height), path.name
        assert after.image.tobytes() == before.image.tobytes(), path.name


def test_truncated_jpeg_is_refused() -> None:
    data = _jpeg_with_metadata()
    with pytest.raises(InvalidInput, match="damaged or truncated"):
        clean_original(data[: len(data) // 2], "JPEG", "cut.jpg")


def test_png_is_reencoded_without_text_chunks_or_trailing_bytes() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "GPS 52.1 21.0 SERIAL-777")
    buffer = io.BytesIO()
    Image.new("RGB", (300, 200), (10, 200, 30)).save(buffer, "PNG", pnginfo=info)
    polluted = buffer.getvalue() + _zip()

    cleaned = clean_original(polluted, "PNG", "p.png").data

    assert b"SERIAL-777" not in cleaned and b"payload.html" not in cleaned
    assert cleaned.endswith(b"IEND\xaeB`\x82")
    with Image.open(io.BytesIO(cleaned)) as image:
        assert image.size == (300, 200) and image.getpixel((5, 5)) == (10, 200, 30)


def test_webp_is_reencoded_without_metadata() -> None:
    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0xA431] = "SERIAL-888"
    Image.new("RGB", (300, 200), (10, 200, 30)).save(buffer, "WEBP", exif=exif.tobytes())
    cleaned = clean_original(buffer.getvalue() + b"tail", "WEBP", "p.webp").data
    assert b"SERIAL-888" not in cleaned and not cleaned.endswith(b"tail")
    with Image.open(io.BytesIO(cleaned)) as image:
        assert image.format == "WEBP" and image.size == (300, 200)


def _huge_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (7000, 7000), (255, 255, 255)).save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def test_the_7000_by_7000_png_fails_with_a_reason_before_decoding(tmp_path: Path) -> None:
    """The issue's small PNG that decodes to 147 million bytes (140 MiB): refused with a
    sentence, and the process refusing it stays small (peak RSS, in a fresh interpreter)."""
    path = tmp_path / "huge.png"
    path.write_bytes(_huge_png())
    assert path.stat().st_size < 200_000
    with pytest.raises(InvalidInput) as refused:
        open_photo(path.read_bytes(), "huge.png")
    message = str(refused.value)
    assert "7000x7000 PNG" in message and "140 MB" in message and "over the 96 MB" in message

    script = (
        "import resource, sys\n"
        "from shelfready_core.errors import InvalidInput\n"
        "from shelfready_recognition.image_input import open_photo\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "try:\n"
        "    open_photo(open(sys.argv[1], 'rb').read(), 'huge.png')\n"
        "except InvalidInput:\n"
        "    pass\n"
        "after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "print(before, after)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ},
        check=True,
    )
    before_kb, after_kb = map(int, result.stdout.split())
    assert after_kb - before_kb < 20 * 1024, (before_kb, after_kb)  # under 20 MB more


def test_a_big_jpeg_is_within_budget_thanks_to_draft_decoding() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (7000, 7000), (200, 30, 30)).save(buffer, "JPEG")
    photo = open_photo(buffer.getvalue(), "big.jpg")
    assert (photo.width, photo.height) == (7000, 7000)


def test_other_formats_are_stored_as_png() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (300, 200), (10, 200, 30)).save(buffer, "GIF", comment=b"SERIAL-999")
    cleaned = clean_original(buffer.getvalue() + b"tail", "GIF", "p.gif")
    assert (cleaned.content_type, cleaned.extension) == ("image/png", "png")
    assert b"SERIAL-999" not in cleaned.data
    with Image.open(io.BytesIO(cleaned.data)) as image:
        assert image.format == "PNG" and image.size == (300, 200)
