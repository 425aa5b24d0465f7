"""The code burned into synthetic frames: frame number and capture time, machine-readable
(three rows of 32 black/white blocks in the luma plane) and human-readable (digits).

Rows, blocks 16x16 px starting at (64, 8): frame number (32 bits), capture time in ms
modulo 2^32, and a check word ``frame ^ time ^ 0x5A5A5A5A``; most significant bit first.
The browser-side reader in tests does the same sampling on a canvas.
"""
from __future__ import annotations

import numpy as np

BLOCK = 16
ORIGIN_X = 64
ORIGIN_Y = 8
BITS = 32
CHECK_MASK = 0x5A5A5A5A
ROWS = 3

# 5x7 bitmap font for what the human-readable line needs.
_FONT = {
    "0": "01110 10001 10011 10101 11001 10001 01110",
    "1": "00100 01100 00100 00100 00100 00100 01110",
    "2": "01110 10001 00001 00010 00100 01000 11111",
    "3": "11110 00001 00001 01110 00001 00001 11110",
    "4": "00010 00110 01010 10010 11111 00010 00010",
    "5": "11111 10000 11110 00001 00001 10001 01110",
    "6": "00110 01000 10000 11110 10001 10001 01110",
    "7": "11111 00001 00010 00100 01000 01000 01000",
    "8": "01110 10001 10001 01110 10001 10001 01110",
    "9": "01110 10001 10001 01111 00001 00010 01100",
    ":": "00000 01100 01100 00000 01100 01100 00000",
    ".": "00000 00000 00000 00000 00000 01100 01100",
    "#": "01010 01010 11111 01010 11111 01010 01010",
    " ": "00000 00000 00000 00000 00000 00000 00000",
}
_GLYPHS = {
    ch: np.array([[c == "1" for c in row] for row in rows.split()], dtype=bool)
    for ch, rows in _FONT.items()
}


def code_words(frame_number: int, capture_ms: int) -> tuple[int, int, int]:
    frame = frame_number & 0xFFFFFFFF
    time_word = capture_ms & 0xFFFFFFFF
    return frame, time_word, frame ^ time_word ^ CHECK_MASK


def burn_code(luma: np.ndarray, frame_number: int, capture_ms: int) -> None:
    """Draw the three block rows into a luma plane (uint8, at least 576x56)."""
    for row, word in enumerate(code_words(frame_number, capture_ms)):
        y = ORIGIN_Y + row * BLOCK
        for bit in range(BITS):
            x = ORIGIN_X + bit * BLOCK
            on = (word >> (BITS - 1 - bit)) & 1
            luma[y : y + BLOCK, x : x + BLOCK] = 235 if on else 16


def read_code(luma: np.ndarray) -> tuple[int, int] | None:
    """(frame number, capture ms mod 2^32) from a decoded luma plane, or None if unreadable."""
    words = []
    for row in range(ROWS):
        y = ORIGIN_Y + row * BLOCK + BLOCK // 2
        word = 0
        for bit in range(BITS):
            x = ORIGIN_X + bit * BLOCK + BLOCK // 2
            patch = luma[y - 3 : y + 3, x - 3 : x + 3]
            word = (word << 1) | int(patch.mean() > 128)
        words.append(word)
    frame, time_word, check = words
    if frame ^ time_word ^ CHECK_MASK != check:
        return None
    return frame, time_word


def burn_text(luma: np.ndarray, text: str, x: int, y: int, scale: int = 3) -> None:
    """Draw ``text`` (digits, ``:.#`` and spaces) in white on black."""
    width = len(text) * 6 * scale
    luma[y - scale : y + 8 * scale, x - scale : x + width + scale] = 16
    for i, ch in enumerate(text):
        glyph = _GLYPHS.get(ch, _GLYPHS[" "])
        block = np.kron(glyph, np.ones((scale, scale), dtype=bool))
        gx = x + i * 6 * scale
        region = luma[y : y + block.shape[0], gx : gx + block.shape[1]]
        region[block] = 235
