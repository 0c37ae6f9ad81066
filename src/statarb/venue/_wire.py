"""WebSocket text frames as the server writes them (RFC 6455 section 5.2), built without a library.

A server frame is unmasked, so a frame is a 2-, 4- or 10-byte header and the payload. The venue
encodes its frames once and writes many of them per socket write; the bytes are the ones the
``websockets`` protocol writes for ``send_text`` with compression off.
"""

from __future__ import annotations

#: FIN bit + opcode 1 (text)
_TEXT = 0x81


def text_frame(payload: bytes) -> bytes:
    """One unfragmented, unmasked text frame carrying ``payload`` (UTF-8 JSON text)."""
    n = len(payload)
    if n < 126:
        return bytes((_TEXT, n)) + payload
    if n < 1 << 16:
        return b"\x81\x7e" + n.to_bytes(2, "big") + payload
    return b"\x81\x7f" + n.to_bytes(8, "big") + payload


def text_frames(payloads: list[str]) -> list[bytes]:
    """:func:`text_frame` of every payload (encoded as UTF-8)."""
    return [text_frame(p.encode()) for p in payloads]


def combined_frames(names: list[str], payloads: list[str]) -> list[bytes]:
    """Frames of the combined-stream envelope ``{"stream":name,"data":payload}``."""
    return [
        text_frame(f'{{"stream":"{n}","data":{p}}}'.encode())
        for n, p in zip(names, payloads, strict=True)
    ]


__all__ = ["combined_frames", "text_frame", "text_frames"]
