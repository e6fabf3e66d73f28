"""Draw Nova's app icons (static/icons/): PNGs for the web app manifest and iOS, and the SVG
favicon. Run once after changing the design: `python scripts/make_icons.py`.

Pure standard library (zlib for PNG), so it adds no dependency: a sparkle (two four-pointed
stars) in white on Nova's accent blue. "any" icons are rounded squares on transparency;
"maskable" ones fill the square and keep the sparkle inside the central safe circle (80 %).
"""

from __future__ import annotations

import math
import struct
import zlib
from pathlib import Path

ICONS = Path(__file__).resolve().parents[1] / "static" / "icons"
ACCENT = (58, 91, 217)  # --accent in static/app.css
WHITE = (255, 255, 255)
SAMPLES = 4  # per axis, per pixel: edges are smoothed from 16 samples

Point = tuple[float, float]


def star(cx: float, cy: float, outer: float, inner: float) -> list[Point]:
    """A four-pointed star: tips up, right, down and left, waists on the diagonals."""
    points = []
    for i in range(8):
        angle = math.pi / 4 * i - math.pi / 2
        radius = outer if i % 2 == 0 else inner
        points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    return points


def sparkle(scale: float) -> list[list[Point]]:
    """The design on a unit square (0..1), shrunk by `scale` around its centre."""

    def place(x: float, y: float) -> tuple[float, float]:
        return 0.5 + (x - 0.5) * scale, 0.5 + (y - 0.5) * scale

    big, small = place(0.46, 0.54), place(0.74, 0.26)
    return [star(*big, 0.36 * scale, 0.085 * scale), star(*small, 0.14 * scale, 0.035 * scale)]


def inside(polygon: list[Point], x: float, y: float) -> bool:
    hit = False
    for (x1, y1), (x2, y2) in zip(polygon, polygon[1:] + polygon[:1], strict=True):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            hit = not hit
    return hit


def in_rounded_square(x: float, y: float, radius: float) -> bool:
    dx = max(radius - x, 0.0, x - (1 - radius))
    dy = max(radius - y, 0.0, y - (1 - radius))
    return dx * dx + dy * dy <= radius * radius


def draw(size: int, *, maskable: bool) -> bytes:
    """RGBA rows; `maskable` fills the square and keeps the design in the safe zone."""
    shapes = sparkle(0.62 if maskable else 0.86)
    corner = 0.0 if maskable else 0.22
    rows = bytearray()
    step = 1 / (size * SAMPLES)
    for py in range(size):
        rows.append(0)  # PNG filter: none
        for px in range(size):
            background = foreground = 0
            for sy in range(SAMPLES):
                for sx in range(SAMPLES):
                    x, y = (px * SAMPLES + sx + 0.5) * step, (py * SAMPLES + sy + 0.5) * step
                    if corner and not in_rounded_square(x, y, corner):
                        continue
                    background += 1
                    foreground += any(inside(shape, x, y) for shape in shapes)
            total = SAMPLES * SAMPLES
            alpha = background / total
            mix = foreground / background if background else 0.0
            rgb = [round(a + (b - a) * mix) for a, b in zip(ACCENT, WHITE, strict=True)]
            rows.extend([*rgb, round(alpha * 255)])
    return bytes(rows)


def png(size: int, rgba: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rgba, 9)) + chunk(b"IEND", b"")


def svg() -> str:
    paths = " ".join(
        "M" + " L".join(f"{x * 100:.2f} {y * 100:.2f}" for x, y in shape) + " Z" for shape in sparkle(0.86)
    )
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">'
        f'<rect width="100" height="100" rx="22" fill="#3a5bd9"/><path d="{paths}" fill="#fff"/></svg>\n'
    )


def main() -> None:
    ICONS.mkdir(parents=True, exist_ok=True)
    for name, size, maskable in (
        ("nova-192.png", 192, False),
        ("nova-512.png", 512, False),
        ("nova-maskable-192.png", 192, True),
        ("nova-maskable-512.png", 512, True),
        ("apple-touch-icon.png", 180, True),  # iOS rounds the corners itself and shows no transparency
    ):
        (ICONS / name).write_bytes(png(size, draw(size, maskable=maskable)))
    (ICONS / "nova.svg").write_text(svg())


if __name__ == "__main__":
    main()
