"""Noticing changes in the KB folder cheaply: file stamps, folder stamps, one folder's files. No Whoosh."""

from __future__ import annotations

import os
from pathlib import Path

from portal.articles import is_article_path


def stamp_of(stat: os.stat_result) -> str:
    return f"{stat.st_mtime_ns}:{stat.st_size}"


def changed_folders(before: tuple, after: tuple, kb_dir: Path) -> set[str]:
    """Folders (relative posix, "" for the top) added, removed or modified between two stamp sets."""
    old, new = dict(before), dict(after)
    changed = (old.keys() ^ new.keys()) | {folder for folder, stamp in new.items() if old.get(folder) != stamp}
    return {"" if folder == os.fspath(kb_dir) else os.path.relpath(folder, kb_dir).replace(os.sep, "/")
            for folder in changed}


def folder_files(kb_dir: Path, folder: str) -> list[tuple[str, os.stat_result]]:
    """The article files directly in one folder (relative posix path, "" for the top)."""
    prefix = folder + "/" if folder else ""
    found = []
    try:
        entries = list(os.scandir(kb_dir / folder if folder else kb_dir))
    except OSError:
        return found
    for entry in entries:
        relative = prefix + entry.name
        try:
            if entry.is_file(follow_symlinks=False) and is_article_path(relative):
                found.append((relative, entry.stat(follow_symlinks=False)))
        except OSError:
            continue
    return found


def folder_stamps(kb_dir: Path) -> tuple[tuple[str, int], ...]:
    """(folder, mtime) of every folder under the KB: cheap (no per-file stat) and changes whenever a file
    is created, deleted or replaced in it."""
    stamps, stack = [], [os.fspath(kb_dir)]
    while stack:
        folder = stack.pop()
        try:
            stamps.append((folder, os.stat(folder).st_mtime_ns))
            stack.extend(entry.path for entry in os.scandir(folder)
                         if entry.name[0] != "." and entry.is_dir(follow_symlinks=False))
        except OSError:
            continue
    return tuple(stamps)
