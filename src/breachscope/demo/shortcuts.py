"""Windows Recent-items shortcuts (``.lnk``), written with pylnk3.

Why the parts written here: breachscope reads the target from the LinkInfo local path (the
ID list alone does not give it a path), and the time of the opening from the shortcut's own
modification time, which the caller sets on the file (rules.md, Displayed: files opened,
from LNK). pylnk3's convenience constructor stamps the current time and looks the target up
on the local disk, so the header times, the ID list entries and the LinkInfo are set here
explicitly from the given times: the same inputs give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import ntpath

import pylnk3

VOLUME_SERIAL = 0x5C3E_19A4


def shortcut(target: str, size: int, written: dt.datetime, accessed: dt.datetime) -> bytes:
    """A shell link to the local file ``target`` (``C:\\...``) as Explorer writes in Recent.

    ``written`` is the target's modification time, ``accessed`` its last access (the
    opening); they go into the header and the ID list. The opening time that breachscope
    reads is the shortcut file's mtime, set by the caller.
    """
    lnk = pylnk3.create()
    lnk.link_flags.IsUnicode = True
    levels = list(pylnk3.path_levels(target))
    items: list[object] = [pylnk3.RootEntry(pylnk3.ROOT_MY_COMPUTER), pylnk3.DriveEntry(levels[0])]
    naive_written = written.replace(tzinfo=None)
    naive_accessed = accessed.replace(tzinfo=None)
    for position, level in enumerate(levels[1:], start=2):
        entry = pylnk3.PathSegmentEntry()
        is_file = position == len(levels)
        entry.type = pylnk3.TYPE_FILE if is_file else pylnk3.TYPE_FOLDER
        entry.file_size = size if is_file else 0
        entry.modified = naive_written
        entry.created = naive_written
        entry.accessed = naive_accessed
        entry.short_name = ntpath.split(level)[1]
        entry.full_name = entry.short_name
        items.append(entry)
    lnk.shell_item_id_list = pylnk3.LinkTargetIDList()
    lnk.shell_item_id_list.items = items
    info = pylnk3.LinkInfo()
    info.local = 1
    info.drive_type = pylnk3.DRIVE_FIXED
    info.drive_serial = VOLUME_SERIAL
    info.volume_label = ""
    info.local_base_path = target
    lnk.link_info = info
    # Unix seconds: pylnk3 would convert a datetime through the machine's local zone.
    lnk.creation_time = int(written.timestamp())
    lnk.modification_time = int(written.timestamp())
    lnk.access_time = int(accessed.timestamp())
    lnk.file_size = size
    lnk.work_dir = ntpath.dirname(target)
    buffer = io.BytesIO()
    lnk.write(buffer)
    return buffer.getvalue()
