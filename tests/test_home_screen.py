"""Clover on the Home Screen: the manifest, the icons and the tags an iPhone reads."""

import json
import re
import struct
import zlib

import pytest

APPLE_TAGS = {
    "apple-mobile-web-app-capable": "yes",
    "mobile-web-app-capable": "yes",
    "apple-mobile-web-app-title": "三叶草",
    "apple-mobile-web-app-status-bar-style": "default",
}


def png(data: bytes) -> tuple[int, int, bool]:
    """Width, height and whether it is whole: the signature, the IHDR and every chunk's CRC."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    offset, kinds = 8, []
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length : offset + 12 + length])
        assert zlib.crc32(kind + body) == crc, f"{kind!r} chunk is damaged"
        kinds.append(kind)
        offset += 12 + length
    assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND" and b"IDAT" in kinds
    width, height = struct.unpack(">II", data[16:24])
    return width, height, True


def fetched(client, url: str) -> bytes:
    with client.get(url) as response:
        assert response.status_code == 200, url
        assert response.mimetype == "image/png"
        return response.data


@pytest.mark.parametrize("url", ["/auth/login", "/offline"])
def test_every_page_carries_the_tags_an_iphone_reads(client, url):
    page = client.get(url).text
    for name, content in APPLE_TAGS.items():
        assert f'<meta name="{name}" content="{content}">' in page
    [icon] = re.findall(r'<link rel="apple-touch-icon" sizes="180x180" href="([^"]+)">', page)
    assert png(fetched(client, icon))[:2] == (180, 180)


def test_the_apple_touch_icon_has_opaque_corners(client):
    """iOS rounds the icon itself and shows transparent corners black."""
    data = fetched(client, "/static/icons/clover-180.png")
    bit_depth, colour_type = data[24], data[25]
    assert bit_depth == 8 and colour_type in (2, 6)  # RGB or RGBA, 8 bits a channel
    idat, offset = b"", 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        if data[offset + 4 : offset + 8] == b"IDAT":
            idat += data[offset + 8 : offset + 8 + length]
        offset += 12 + length
    raw = zlib.decompress(idat)
    # the top-left pixel: every PNG filter leaves the first pixel of the first row as it is
    corner = raw[1 : 1 + (4 if colour_type == 6 else 3)]
    assert colour_type == 2 or corner[3] == 255
    assert corner[:3] == bytes.fromhex("2f7d4f")  # the app's green to the very corner


def test_the_manifest_installs_clover_standalone_with_192_and_512_icons(client):
    with client.get("/static/manifest.webmanifest") as response:
        manifest = json.loads(response.data)
    assert (manifest["id"], manifest["scope"], manifest["start_url"]) == ("/", "/", "/")
    assert manifest["display"] == "standalone"
    sizes = set()
    for icon in manifest["icons"]:
        if icon["type"] != "image/png":
            continue
        width, height, _whole = png(fetched(client, icon["src"]))
        assert icon["sizes"] == f"{width}x{height}"
        sizes.add((icon["sizes"], icon["purpose"]))
    assert {("192x192", "any"), ("512x512", "any")} <= sizes
    assert {("192x192", "maskable"), ("512x512", "maskable")} <= sizes
