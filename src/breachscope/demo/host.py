"""The collected host folder ``evidence/hosts/WS-0423/C/Users/tyamada/...``.

What a responder copied from the PC with its time stamps (robocopy /COPY:DAT): documents
with and without sensitivity markings, the attachment as Outlook saved it, the dropped
executable, the Recent shortcuts, Chrome's History and Login Data, and the address book.

Why these documents: the labels of the case (``classified``: ``\\bclassified\\b`` or 極秘;
``htv-operations``: ``\\bHTV\\b.*(spec|operation)``) are matched against paths and content,
so the set covers a marking in the text, in a Japanese word, in a folder name, in a file
name, in an RTF on the desktop, and a trap: ``UNCLASSIFIED`` is not ``\\bclassified\\b``.
The shortcut of one labelled document was last written just before the attachment was
opened, so that document is stored but not displayed in the window.

Times: every file's modification (and access) time is set with ``os.utime``; a shortcut's
modification time is the last opening of its target (what breachscope reads).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

from breachscope.demo import chrome
from breachscope.demo.browsing import BrowseVisit
from breachscope.demo.contacts import ContactFact, contacts_vcf
from breachscope.demo.documents import docx, docx_text, pdf, rtf, text_file
from breachscope.demo.people import Directory
from breachscope.demo.records import HostFile, Opened, Ref, StoredLogin, Visit
from breachscope.demo.scenario import (
    ATTACHMENT_PATH,
    DROPPED_PATH,
    OPENED_AT,
    SUBJECT_HOST,
    SUBJECT_PROFILE,
    Scenario,
    jst,
)
from breachscope.demo.schedule import DESKTOP, DOCUMENTS, Plan
from breachscope.demo.shortcuts import shortcut

HOST_FOLDER = "evidence/hosts/WS-0423"
RECENT = f"{SUBJECT_PROFILE}\\AppData\\Roaming\\Microsoft\\Windows\\Recent"
CHROME_PROFILE = f"{SUBJECT_PROFILE}\\AppData\\Local\\Google\\Chrome\\User Data\\Default"
CONTACTS = f"{SUBJECT_PROFILE}\\Contacts\\contacts.vcf"
AUTHOR = "Taro Yamada"


@dataclass(frozen=True)
class _Document:
    path: str
    kind: str
    paragraphs: tuple[str, ...]
    written: dt.datetime
    title: str = ""


DOCUMENT_SET = (
    _Document(
        f"{DOCUMENTS}\\HTV\\HTV-2 operations spec v3.docx",
        "docx",
        (
            "CLASSIFIED",
            "HTV-2 Operations Specification, Revision 3",
            "This HTV operations specification covers the second flight's berthing sequence.",
            "Contingency procedures are listed in annex B.",
        ),
        jst(2011, 6, 8, 17, 40, 12),
        "HTV-2 operations specification",
    ),
    _Document(
        f"{DOCUMENTS}\\Projects\\kibo-ef-schedule-2011.docx",
        "docx",
        ("極秘", "Kibo Exposed Facility schedule 2011", "Payload handover dates and crew time."),
        jst(2011, 7, 5, 18, 2, 55),
        "Kibo EF schedule",
    ),
    _Document(
        f"{DOCUMENTS}\\Classified\\meeting-notes-0620.txt",
        "txt",
        ("Meeting notes 2011-06-20", "Attendees: project team", "Next review in July."),
        jst(2011, 6, 20, 18, 11, 3),
    ),
    _Document(
        f"{DOCUMENTS}\\Papers\\orbit-determination-draft.pdf",
        "pdf",
        (
            "UNCLASSIFIED // FOR PUBLIC RELEASE",
            "Orbit determination with sparse tracking data (draft)",
            "T. Yamada, Flight Dynamics Group",
        ),
        jst(2011, 6, 15, 16, 20, 0),
        "Orbit determination draft",
    ),
    _Document(
        f"{DOCUMENTS}\\Papers\\thermal-test-report.docx",
        "docx",
        ("Thermal vacuum test report", "All units passed the acceptance levels."),
        jst(2011, 5, 27, 10, 5, 41),
        "Thermal test report",
    ),
    _Document(
        f"{DOCUMENTS}\\travel\\itinerary-2011-06.docx",
        "docx",
        ("Itinerary", "Tokyo - Houston, 12-16 June 2011", "Hotel near the space center."),
        jst(2011, 6, 1, 12, 44, 30),
        "Itinerary",
    ),
    _Document(
        f"{DESKTOP}\\HTV ops memo.rtf",
        "rtf",
        ("HTV operation memo: berthing rehearsal on 14 July.", "Bring the checklist."),
        jst(2011, 7, 12, 15, 10, 22),
    ),
    _Document(
        f"{DOCUMENTS}\\notes\\lunch-menu.txt",
        "txt",
        ("Cafeteria menu", "Monday: curry", "Tuesday: soba"),
        jst(2011, 7, 8, 12, 1, 9),
    ),
    _Document(
        f"{DOCUMENTS}\\極秘_打合せメモ.txt",
        "txt",
        ("打合せメモ", "次回は7月に実施する。"),
        jst(2011, 6, 24, 17, 30, 0),
    ),
)


@dataclass
class HostFacts:
    files: list[HostFile] = field(default_factory=list)
    opened: list[Opened] = field(default_factory=list)
    visits: list[Visit] = field(default_factory=list)
    logins: list[StoredLogin] = field(default_factory=list)
    contacts: list[ContactFact] = field(default_factory=list)


def _local(folder: Path, windows_path: str) -> tuple[Path, str]:
    """(file in the collected folder, its path relative to the case folder)."""
    parts = windows_path.split("\\")
    rel = "/".join([HOST_FOLDER, parts[0].rstrip(":"), *parts[1:]])
    return folder / rel, rel


def _content(document: _Document) -> tuple[bytes, str]:
    """(bytes, the text breachscope extracts from them)."""
    paragraphs = list(document.paragraphs)
    if document.kind == "docx":
        data = docx(document.title, AUTHOR, paragraphs, document.written)
        return data, docx_text(document.title, AUTHOR, paragraphs)
    if document.kind == "pdf":
        return pdf(document.title, paragraphs), "\n".join(paragraphs)
    if document.kind == "rtf":
        return rtf(paragraphs), "\n".join(paragraphs)
    return text_file(paragraphs), "\r\n".join(paragraphs)


class _Writer:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.facts = HostFacts()

    def file(self, windows_path: str, data: bytes, mtime: dt.datetime, text: str = "") -> str:
        target, rel = _local(self.folder, windows_path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        stamp = int(mtime.timestamp() * 1_000_000_000)
        os.utime(target, ns=(stamp, stamp))
        self.facts.files.append(HostFile(SUBJECT_HOST, windows_path, text, mtime, Ref(rel, "file")))
        return rel

    def touch(self, windows_path: str, text: str, mtime: dt.datetime) -> str:
        """Record (and time-stamp) a file another module wrote."""
        target, rel = _local(self.folder, windows_path)
        stamp = int(mtime.timestamp() * 1_000_000_000)
        os.utime(target, ns=(stamp, stamp))
        self.facts.files.append(HostFile(SUBJECT_HOST, windows_path, text, mtime, Ref(rel, "file")))
        return rel


def write_host_folder(
    folder: Path,
    scenario: Scenario,
    people: Directory,
    plan: Plan,
    visits: list[BrowseVisit],
    attachment: bytes,
    executable: bytes,
) -> HostFacts:
    writer = _Writer(folder)
    sizes: dict[str, int] = {}
    written: dict[str, dt.datetime] = {}
    for document in DOCUMENT_SET:
        data, text = _content(document)
        writer.file(document.path, data, document.written, text)
        sizes[document.path] = len(data)
        written[document.path] = document.written
    writer.file(ATTACHMENT_PATH, attachment, OPENED_AT - dt.timedelta(seconds=2), "")
    sizes[ATTACHMENT_PATH] = len(attachment)
    written[ATTACHMENT_PATH] = OPENED_AT - dt.timedelta(seconds=2)
    writer.file(DROPPED_PATH, executable, OPENED_AT + dt.timedelta(seconds=5))

    # Recent shortcuts: one per target, written at its last opening.
    last_open: dict[str, dt.datetime] = {}
    for opened in plan.opens:
        last_open[opened.path] = max(opened.time, last_open.get(opened.path, opened.time))
    last_open[ATTACHMENT_PATH] = OPENED_AT + dt.timedelta(seconds=2)
    for opened_path, moment in sorted(last_open.items()):
        name = opened_path.rsplit("\\", 1)[1]
        data = shortcut(opened_path, sizes[opened_path], written[opened_path], moment)
        rel = writer.file(f"{RECENT}\\{name}.lnk", data, moment)
        writer.facts.opened.append(
            Opened(moment, SUBJECT_HOST, opened_path, "lnk", Ref(rel, "file"))
        )

    # Chrome: the history of the plan, the saved logins.
    history_path = f"{CHROME_PROFILE}\\History"
    history, rel = _local(folder, history_path)
    writer.facts.visits = chrome.write_history(history, rel, visits, scenario.rng("chrome"))
    writer.touch(history_path, "", visits[-1].time)
    logins_path = f"{CHROME_PROFILE}\\Login Data"
    logins, rel = _local(folder, logins_path)
    writer.facts.logins = chrome.write_login_data(logins, rel, scenario.rng("chrome-logins"))
    writer.touch(logins_path, "", chrome.TRAVEL_SAVED_AT)

    _, rel = _local(folder, CONTACTS)
    data, contacts = contacts_vcf(scenario, people, rel)
    writer.file(CONTACTS, data, jst(2011, 5, 20, 9, 30, 0), data.decode("utf-8"))
    writer.facts.contacts = contacts
    return writer.facts
