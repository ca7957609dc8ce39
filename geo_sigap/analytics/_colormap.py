"""The heat overlay's colour ramp without matplotlib (27 MB of a worker's memory).

``INFERNO_R``: matplotlib's ``inferno_r`` colormap (BSD-style licence, like matplotlib),
256 RGB entries as ``(colormaps["inferno_r"](np.arange(256))[:, :3] * 255).astype(uint8)``
— the bytes the overlay drew with matplotlib, so the picture is the same.
:func:`png_rgba` writes an RGBA image as PNG with :mod:`zlib` alone.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

INFERNO_R = np.frombuffer(bytes.fromhex(
    "fcfea4fafda0f9fc9df7fb99f6fa95f5f891f4f78df3f689f2f485f2f381f1f27df1f079f1ee74f1ed70f1eb"
    "6cf1e968f1e864f2e660f2e45df3e259f3e056f3de52f4dc4ff4db4bf5d948f5d745f6d542f6d33ff7d13cf7"
    "cf3af8cd37f8cb34f8c931f9c72ff9c52cf9c32afac128fabf25fabd23fabb21fbb91efbb71cfbb51afbb318"
    "fbb116fbb014fbae12fbac10fbaa0efba80dfba60bfba40afba208fba007fb9e07fb9d06fb9b06fb9906fa97"
    "06fa9506fa9306fa9107f99008f98e08f98c09f88a0bf8880cf8870df7850ef78310f68111f68012f57e14f5"
    "7c15f47a16f37918f37719f2751af2741cf1721df0701ef06f1fef6d21ee6c22ed6a23ed6825ec6726eb6527"
    "ea6428e9622ae8612be75f2ce65e2de65c2ee55b30e45a31e35832e25733e05634df5436de5337dd5238dc50"
    "39db4f3ada4e3bd94d3dd74b3ed64a3fd54940d44841d24742d14643d04544cf4446cd4247cc4148cb4049c9"
    "3f4ac83e4bc73e4cc53d4dc43c4ec23b4fc13a50bf3951be3852bd3753bb3754ba3655b83556b73456b53357"
    "b43358b23259b1315aaf315bae305bac2f5cab2e5da92e5ea72d5fa62c5fa42c60a32b61a12b61a02a629e29"
    "639c29639b28649928649827659626669526669325679125679024688e24688d23698b226989226988216a86"
    "216a85206a83206b811f6b801f6b7e1e6c7d1d6c7b1d6c7a1c6d781c6d761b6d751b6d731a6d72196d70196e"
    "6e186e6d186e6b176e6a176e68166e66156e65156e63146e62146e60136e5f126e5d126e5b116e5a116d5810"
    "6d570f6d550f6d530e6d520e6c500d6c4f0d6c4d0c6b4b0c6b4a0b6a480b6a460a69450a69430a6841096740"
    "09663e09663c09653b096439096237096135096034095f32095d300a5c2e0a5a2d0a582b0a56290b54270b52"
    "260b50240b4e220b4c200c4a1f0c471d0c451c0c431a0b40190b3e170b3b160b39140b36130a34120a321009"
    "2f0f092d0e082a0d08280b07260a072309062108061f07051d06041b05041804031604031403021202021002"
    "010e01010b010109010007000006000004000003"
), dtype=np.uint8).reshape(256, 3)


def lookup(norm: np.ndarray, lut: np.ndarray = INFERNO_R) -> np.ndarray:
    """RGB uint8 of values in [0, 1], picked like matplotlib's ``Colormap.__call__``
    (``int(v * 256)``, 1.0 the last entry)."""
    idx = np.clip((np.asarray(norm, dtype=np.float64) * len(lut)).astype(np.int64), 0,
                  len(lut) - 1)
    return lut[idx]


def png_rgba(rgba: np.ndarray) -> bytes:
    """A PNG file (8-bit RGBA, no filter) of an ``(h, w, 4)`` uint8 image, first row on top."""
    rgba = np.ascontiguousarray(rgba, dtype=np.uint8)
    h, w = rgba.shape[:2]
    raw = np.zeros((h, 1 + 4 * w), dtype=np.uint8)  # filter byte 0 before each row
    raw[:, 1:] = rgba.reshape(h, 4 * w)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw.tobytes(), 6)) + chunk(b"IEND", b""))
