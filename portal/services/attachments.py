"""Files attached to messages: checked, written under a random name outside `static/`, then recorded.

The rule: the file is written first and the row only afterwards, so a failed write never leaves a row that
points nowhere. What a file is served as is decided from its first bytes, never from its name or from what
the browser claimed: only PNG, JPEG, GIF and WebP images are shown inline; everything else (HTML, SVG,
programs, documents) is downloaded as `application/octet-stream`.
"""

from __future__ import annotations

import contextlib
import mimetypes
import os
import re
import secrets
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from portal.errors import N_, DomainError, Invalid, LimitExceeded, NotFound
from portal.models import Attachment

MAX_PER_MESSAGE = 5
CHUNK = 64 * 1024
MAX_FILENAME = 120
# Programs and scripts a customer has no reason to send us, and an agent no reason to open.
BLOCKED_EXTENSIONS = frozenset({
    "exe", "com", "bat", "cmd", "msi", "msp", "scr", "pif", "cpl", "dll", "jar", "js", "jse", "vbs", "vbe",
    "wsf", "wsh", "ps1", "psm1", "hta", "lnk", "reg", "sh", "app", "apk", "deb", "rpm", "dmg", "iso",
})
INLINE_IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
DOWNLOAD_TYPE = "application/octet-stream"
_UNSAFE_CHARS = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*;]+')


class AttachmentNotSaved(DomainError):
    """The storage refused the file (disk full, folder not writable): nothing was recorded."""

    status_code = 503


@dataclass(frozen=True)
class Upload:
    """A file as the web layer received it; `stream` is read once."""

    filename: str
    stream: BinaryIO


@dataclass(frozen=True)
class AttachmentStore:
    folder: Path
    max_bytes: int
    max_count: int = MAX_PER_MESSAGE

    @classmethod
    def from_config(cls, config: dict) -> AttachmentStore:
        return cls(Path(str(config["ATTACHMENTS_DIR"])), int(config["MAX_ATTACHMENT_MB"]) * 1024 * 1024)

    @property
    def max_mb(self) -> int:
        return self.max_bytes // (1024 * 1024)

    def check(self, uploads: Sequence[Upload]) -> None:
        """Refuse before anything is written: too many files, or a kind of file we never accept."""
        if len(uploads) > self.max_count:
            raise LimitExceeded(N_("Attach at most %(count)s files to one message."), field="attachments",
                                count=self.max_count)
        for upload in uploads:
            if extension(upload.filename) in BLOCKED_EXTENSIONS:
                raise Invalid(N_("Files of type .%(ext)s cannot be attached."), field="attachments",
                              ext=extension(upload.filename))

    def save(self, uploads: Sequence[Upload], *, now: datetime) -> list[Attachment]:
        """Write every file, then return their (not yet added) rows. On any refusal or failure, the files
        written so far are removed again and nothing is returned."""
        self.check(uploads)
        rows: list[Attachment] = []
        try:
            for upload in uploads:
                rows.append(self._save_one(upload, now=now))
        except BaseException:
            self.discard(rows)
            raise
        return rows

    def path_for(self, attachment: Attachment) -> Path:
        key = attachment.storage_key
        if not re.fullmatch(r"[A-Za-z0-9_-]{16,64}", key):
            raise ValueError("not a storage key")
        return self.folder / key[:2] / key

    def discard(self, attachments: Sequence[Attachment]) -> None:
        for attachment in attachments:
            with contextlib.suppress(OSError, ValueError):
                self.path_for(attachment).unlink()

    def _save_one(self, upload: Upload, *, now: datetime) -> Attachment:
        name = safe_filename(upload.filename)
        key = secrets.token_urlsafe(24)
        row = Attachment(filename=name, content_type=DOWNLOAD_TYPE, size=0, storage_key=key, created_at=now)
        target = self.path_for(row)
        temporary = target.with_name(f".{key}.part")
        size, head = 0, b""
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(temporary, "wb") as out:
                while chunk := upload.stream.read(CHUNK):
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise LimitExceeded(N_("%(name)s is larger than %(mb)s MB."), field="attachments",
                                            name=name, mb=self.max_mb)
                    if len(head) < 16:
                        head += chunk[:16]
                    out.write(chunk)
            os.replace(temporary, target)
        except OSError as exc:
            raise AttachmentNotSaved(N_("We could not store %(name)s. Please try again later."),
                                     field="attachments", name=name) from exc
        finally:
            with contextlib.suppress(OSError):
                temporary.unlink()
        row.size = size
        row.content_type = sniff_image(head) or guessed_type(name)
        return row


def extension(filename: str) -> str:
    return filename.rsplit(".", 1)[-1].lower().strip() if "." in filename else ""


def safe_filename(filename: str) -> str:
    """The name to show and offer for download: no folders, no control or shell characters, not hidden,
    not too long (the extension is kept). Letters of any language stay."""
    name = unicodedata.normalize("NFC", filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_CHARS.sub("_", name)
    name = " ".join(name.split()).strip(" ._")
    if len(name) > MAX_FILENAME:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: MAX_FILENAME - len(ext) - 1] + dot + ext) if dot and len(ext) <= 10 else name[:MAX_FILENAME]
    return name or "attachment"


def sniff_image(head: bytes) -> str | None:
    """The image type the first bytes prove, for the four kinds shown inline; None for anything else."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def guessed_type(filename: str) -> str:
    """A descriptive type for lists ("application/pdf"); it never decides how the file is served."""
    guessed = mimetypes.guess_type(filename)[0] or DOWNLOAD_TYPE
    return DOWNLOAD_TYPE if guessed in INLINE_IMAGE_TYPES else guessed


@dataclass(frozen=True)
class Delivery:
    path: Path
    filename: str
    mimetype: str
    inline: bool


def delivery(store: AttachmentStore, attachment: Attachment) -> Delivery:
    """How to serve a stored file: inline with its sniffed type for the four image kinds, otherwise as a
    download of bytes. The type is read again from the file itself."""
    path = store.path_for(attachment)
    try:
        with open(path, "rb") as handle:
            head = handle.read(16)
    except OSError:
        raise NotFound(N_("This file is no longer available.")) from None
    image = sniff_image(head)
    return Delivery(path, attachment.filename, image or DOWNLOAD_TYPE, inline=image is not None)
