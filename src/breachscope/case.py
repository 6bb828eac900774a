"""The case manifest (``case.yaml``): model, loading, validation and time-zone rules.

The manifest is the one input contract (``../shared/spec/case-manifest.md``). Loading is strict
because a typo must not silently drop a fact: duplicate keys and unknown keys are errors, and
every scalar is read as a string first (YAML 1.1 would turn ``no`` into ``False`` and a
``DOMAIN\\user`` in double quotes into a TAB), then typed by the model. A time without an offset
is in the case's zone. Each problem becomes one line naming the key or item.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import regex
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError

MANIFEST_NAME = "case.yaml"
MATCH_TARGETS = ("path", "content", "url", "search")


class CaseError(Exception):
    """A manifest that cannot be used; the message names the key or item. Exit status 2."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Organization(_Strict):
    name: str | None = None
    mail_domains: list[str] = []
    egress_ips: list[str] = []


class SubjectAccount(_Strict):
    system: str
    account: str


class SubjectHost(_Strict):
    name: str
    ips: list[str] = []


class SubjectUser(_Strict):
    name: str
    email: str | None = None
    accounts: list[SubjectAccount] = []


class Subject(_Strict):
    hosts: list[SubjectHost] = []
    users: list[SubjectUser] = []


class Owner(_Strict):
    name: str | None = None
    email: str | None = None


class System(_Strict):
    name: str
    owner: Owner | None = None
    hosts: list[str] = []


class Rotation(_Strict):
    system: str
    account: str
    at: dt.datetime


class Attribution(_Strict):
    system: str
    account: str
    src_ip: str | None = None
    reason: str


class Known(_Strict):
    infected_at: dt.datetime | None = None
    contained_at: dt.datetime | None = None
    malicious_message_ids: list[str] = []
    rotations: list[Rotation] = []
    attributions: list[Attribution] = []


class Sensitivity(_Strict):
    label: str
    patterns: list[str]
    match: list[Literal["path", "content", "url", "search"]] = ["path", "content", "url", "search"]

    @field_validator("patterns")
    @classmethod
    def _patterns_compile(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                regex.compile(pattern)
            except regex.error as error:
                raise ValueError(f"pattern {pattern!r} does not compile: {error}") from None
        return patterns


class EvidenceSpec(_Strict):
    path: str
    system: str | None = None
    host: str | None = None
    owner: str | None = None
    format: str | None = None
    mapping: str | None = None
    timezone: str | None = None
    year: int | None = None
    clock_offset: float | None = None
    mount: str | None = None

    @field_validator("timezone")
    @classmethod
    def _zone_exists(cls, zone: str | None) -> str | None:
        return _check_zone(zone) if zone is not None else None

    @field_validator("path", "mapping")
    @classmethod
    def _relative(cls, path: str | None) -> str | None:
        if path is not None and not path.strip():
            raise ValueError("must not be empty")
        return path

    @field_validator("mount")
    @classmethod
    def _drive(cls, mount: str | None) -> str | None:
        if mount is not None and not regex.fullmatch(r"[A-Za-z]:?", mount):
            raise ValueError(f"mount {mount!r} is not a drive letter such as 'D:'")
        return None if mount is None else mount[0].upper() + ":"


class Case(_Strict):
    case: str
    title: str | None = None
    timezone: str = "UTC"
    organization: Organization = Organization()
    subject: Subject = Subject()
    systems: list[System] = []
    known: Known = Known()
    iocs: list[str] = []
    sensitivity: list[Sensitivity] = []
    vulnerabilities: list[str] | None = None
    evidence: list[EvidenceSpec]

    @field_validator("timezone")
    @classmethod
    def _zone_exists(cls, zone: str) -> str:
        return _check_zone(zone)

    @model_validator(mode="after")
    def _localize_known_times(self) -> Case:
        """Naive times in ``known`` are in the case zone; stored as UTC."""
        zone = ZoneInfo(self.timezone)
        known = self.known
        rotations = [r.model_copy(update={"at": to_utc(r.at, zone)}) for r in known.rotations]
        fixed = known.model_copy(
            update={
                "infected_at": to_utc(known.infected_at, zone) if known.infected_at else None,
                "contained_at": to_utc(known.contained_at, zone) if known.contained_at else None,
                "rotations": rotations,
            }
        )
        object.__setattr__(self, "known", fixed)
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def system(self, name: str) -> System | None:
        """The declared system called ``name``, if any."""
        return next((s for s in self.systems if s.name == name), None)


def _check_zone(zone: str) -> str:
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{zone!r} is not an IANA time zone (e.g. 'Asia/Tokyo')") from None
    return zone


def to_utc(moment: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    """Aware UTC time for ``moment``; a naive time is read in ``zone``.

    A DST-ambiguous local time takes its first occurrence (``fold=0``); a local time that does
    not exist (skipped by a DST jump) raises ``ValueError``.

    >>> to_utc(dt.datetime(2011, 7, 6, 10, 12), ZoneInfo("Asia/Tokyo")).isoformat()
    '2011-07-06T01:12:00+00:00'
    """
    if moment.tzinfo is not None:
        return moment.astimezone(dt.UTC)
    local = moment.replace(tzinfo=zone, fold=0)
    utc = local.astimezone(dt.UTC)
    if utc.astimezone(zone).replace(tzinfo=None) != moment:
        raise ValueError(f"{moment.isoformat()} does not exist in {zone} (skipped by DST)")
    return utc


def load_case(location: str | Path) -> tuple[Case, Path]:
    """Load a manifest from a case folder or a YAML file; return it and the case folder."""
    path = Path(location)
    manifest = path / MANIFEST_NAME if path.is_dir() else path
    if not manifest.is_file():
        raise CaseError(f"{manifest}: no case manifest here (expected {MANIFEST_NAME})")
    try:
        text = manifest.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CaseError(f"{manifest}: cannot be read: {error}") from None
    return parse_case(text, source=str(manifest)), manifest.parent.resolve()


def parse_case(text: str, source: str = MANIFEST_NAME) -> Case:
    """Parse manifest text strictly; raise `CaseError` with one line per problem."""
    try:
        data = YAML(typ="base").load(text)
    except MarkedYAMLError as error:
        mark = error.problem_mark
        where = f"line {mark.line + 1}" if mark is not None else "?"
        problem = (error.problem or str(error)).strip()
        raise CaseError(f"{source}: {where}: {problem}") from None
    except YAMLError as error:
        raise CaseError(f"{source}: not valid YAML: {error}") from None
    if not isinstance(data, dict):
        raise CaseError(f"{source}: the manifest must be a mapping with 'case' and 'evidence'")
    try:
        return Case.model_validate(_drop_empty(data))
    except ValidationError as error:
        raise CaseError("\n".join(_describe(source, data, e) for e in error.errors())) from None


def _drop_empty(value: Any) -> Any:
    """YAML ``key:`` with no value reads as '' in the base loader; treat it as absent."""
    if isinstance(value, dict):
        return {k: _drop_empty(v) for k, v in value.items() if v != ""}
    if isinstance(value, list):
        return [_drop_empty(v) for v in value]
    return value


def _describe(source: str, data: Any, error: Any) -> str:
    location = error["loc"]
    key = ""
    for part in location:
        key += f"[{part}]" if isinstance(part, int) else (f".{part}" if key else str(part))
    message = error["msg"]
    if error["type"] == "extra_forbidden":
        message = "unknown key (check its spelling against case-manifest.md)"
    elif error["type"] == "missing":
        message = "required key is missing"
    item = _evidence_path(data, location)
    suffix = f" (evidence item {item!r})" if item else ""
    return f"{source}: {key or '(top)'}: {message}{suffix}"


def _evidence_path(data: Any, location: tuple[Any, ...]) -> str | None:
    if len(location) >= 2 and location[0] == "evidence" and isinstance(location[1], int):
        try:
            entry = data["evidence"][location[1]]
        except (KeyError, IndexError, TypeError):
            return None
        return entry.get("path") if isinstance(entry, dict) else None
    return None
