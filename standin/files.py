"""Photos and documents: uploads, file_ids and URLs, image checks, getFile and downloads."""

from __future__ import annotations

import mimetypes
import struct
import zlib
from typing import Any

from standin.errors import TelegramErrorReply, bad_request
from standin.messages import MAX_CAPTION_LENGTH, MessageStore
from standin.params import Params
from standin.records import StoredFile, UploadedFile

MAX_UPLOAD_BYTES = 50 * 1024 * 1024


def image_dimensions(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG, JPEG, GIF or WebP image; None when it is none of those.

    Telegram answers ``IMAGE_PROCESS_FAILED`` to a "photo" it cannot decode,
    so the stand-in needs to know real images from arbitrary bytes.
    """
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return width, height
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return width, height
    if data.startswith(b"\xff\xd8"):
        return _jpeg_dimensions(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP" and len(data) >= 30:
        chunk = data[12:16]
        if chunk == b"VP8X":
            return 1 + int.from_bytes(data[24:27], "little"), 1 + int.from_bytes(data[27:30], "little")
        if chunk == b"VP8 ":
            width, height = struct.unpack("<HH", data[26:30])
            return width & 0x3FFF, height & 0x3FFF
        if chunk == b"VP8L":
            bits = int.from_bytes(data[21:25], "little")
            return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None


def _jpeg_dimensions(data: bytes) -> tuple[int, int] | None:
    """Walk JPEG segments to the first start-of-frame marker."""
    i = 2
    while i + 9 <= len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:
            i += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:
            i += 2
            continue
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return width, height
        i += 2 + struct.unpack(">H", data[i + 2 : i + 4])[0]
    return None


def solid_png(width: int, height: int) -> bytes:
    """A valid greyscale PNG, used as the picture a simulated user sends."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


class FileStore(MessageStore):
    """Files the bot sent or users shared, addressed by file_id and file_path."""

    def file_by_path(self, file_path: str) -> StoredFile | None:
        return next((stored for stored in self._files.values() if stored.file_path == file_path), None)

    async def _send_photo(self, params: Params) -> dict[str, Any]:
        return await self._send_file(params, "photo")

    async def _send_document(self, params: Params) -> dict[str, Any]:
        return await self._send_file(params, "document")

    async def _send_file(self, params: Params, kind: str) -> dict[str, Any]:
        chat_id = self._required_chat_id(params)
        caption, entities = self._formatted(
            params, "caption", "caption_entities", MAX_CAPTION_LENGTH, "message caption is too long"
        )
        markup = self._reply_markup(params)
        stored = self._input_file(params, kind)
        self._check_can_write(chat_id)
        reply_to = self._reply_to(params, chat_id)
        self._take_send_slot(chat_id, paid=params.flag("allow_paid_broadcast"))
        message = self._record_bot_message(
            chat_id, kind, caption, params.text("caption") or "", params, entities, markup, reply_to, stored
        )
        return self._message_json(message)

    def _input_file(self, params: Params, kind: str) -> StoredFile:
        """Resolve a photo/document parameter: an upload, an ``attach://`` part, a file_id or a URL."""
        value = params.get(kind)
        if isinstance(value, str) and value.startswith("attach://"):
            value = params.get(value.removeprefix("attach://"))
            if not isinstance(value, UploadedFile):
                raise bad_request("wrong file identifier/HTTP URL specified")
        if value is None or value == "":
            raise bad_request(f"there is no {kind} in the request")
        if isinstance(value, UploadedFile):
            return self._store_upload(value, kind)
        reference = str(value)
        if reference.startswith(("http://", "https://")):
            name = reference.rstrip("/").rsplit("/", 1)[-1] or kind
            stored = self._store_file(kind, name, b"", mimetypes.guess_type(name)[0])
            stored.url = reference
            return stored
        known = self._files.get(reference)
        if known is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        if known.kind != kind:
            raise bad_request("type of file mismatch")
        return known

    def _store_upload(self, upload: UploadedFile, kind: str) -> StoredFile:
        if not upload.data:
            raise bad_request("file must be non-empty")
        if len(upload.data) > MAX_UPLOAD_BYTES:
            raise TelegramErrorReply(413, "Request Entity Too Large")
        # Like Telegram, trust the file name over the part's (usually generic) content type.
        mime_type = mimetypes.guess_type(upload.filename)[0] or upload.content_type
        if kind != "photo":
            return self._store_file(kind, upload.filename, upload.data, mime_type)
        dimensions = image_dimensions(upload.data)
        if dimensions is None:
            raise bad_request("IMAGE_PROCESS_FAILED")
        width, height = dimensions
        if width + height > 10000 or max(width, height) > 20 * min(width, height):
            raise bad_request("PHOTO_INVALID_DIMENSIONS")
        return self._store_file(kind, upload.filename, upload.data, mime_type, width=width, height=height)

    def _store_file(
        self, kind: str, filename: str, data: bytes, mime_type: str | None, *, width: int = 0, height: int = 0
    ) -> StoredFile:
        number = next(self._file_numbers)
        prefix = {"photo": "AgAC", "document": "BQAC", "sticker": "CAAC"}[kind]
        extension = filename.rsplit(".", 1)[-1] if "." in filename else "bin"
        stored = StoredFile(
            # Unique across stand-ins, as Telegram's ids are per bot: an id kept
            # from another instance is refused, as Telegram would refuse it.
            file_id=f"{prefix}{number:012d}{self._file_tag}",
            file_unique_id=f"AQAD{number:08d}",
            kind=kind,
            file_path=f"{kind}s/file_{number}.{extension}",
            filename=filename,
            data=data,
            mime_type=mime_type,
            width=width,
            height=height,
        )
        self._files[stored.file_id] = stored
        return stored

    async def _get_file(self, params: Params) -> dict[str, Any]:
        stored = self._files.get(params.text("file_id") or "")
        if stored is None:
            raise bad_request("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }
