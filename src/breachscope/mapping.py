"""Mapping files: how a CSV or JSON-lines log with its own layout lands in a normalized table.

See formats.md ("Mapping files"). The column vocabulary of `schema` is normative; OCSF names
are accepted as documented aliases (`schema.OCSF_ALIASES`). A target that is not a column of
the table is an error naming it and listing the valid names, because a misspelt column would
otherwise silently drop a fact. Source columns that are not mapped stay in the raw record.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from breachscope.formats.base import Mapping
from breachscope.schema import OCSF_ALIASES, TABLES

MAPPABLE_TABLES = (
    "logons",
    "network",
    "files",
    "software",
    "deliveries",
    "credential_changes",
    "file_access",
    "web_visits",
    "messages",
    "processes",
)
TIME_FORMATS = ("epoch", "epoch_ms", "iso8601")
RESERVED = ("evidence_id", "record")


class MappingError(Exception):
    """A mapping file that cannot be used; the message names the key. Exit status 2."""


def _target(table: str, name: str, source: str, where: str) -> str:
    column = name if name in TABLES[table].names else OCSF_ALIASES.get(name, name)
    if column not in TABLES[table].names or column in RESERVED:
        valid = ", ".join(n for n in TABLES[table].names if n not in RESERVED)
        raise MappingError(
            f"{source}: {where}.{name}: {name!r} is not a column of table {table!r}; "
            f"valid names: {valid}"
        )
    return column


def parse_mapping(data: Any, source: str, sha256: str = "") -> Mapping:
    """Validate a loaded mapping document and resolve aliases."""
    if not isinstance(data, dict):
        raise MappingError(f"{source}: a mapping file is a YAML mapping with 'table' and 'fields'")
    unknown = set(data) - {"table", "time", "fields", "constants"}
    if unknown:
        raise MappingError(f"{source}: unknown key(s) {sorted(unknown)}")
    table = data.get("table")
    if table not in MAPPABLE_TABLES:
        raise MappingError(
            f"{source}: table {table!r} cannot be mapped; use one of {', '.join(MAPPABLE_TABLES)}"
        )
    time = data.get("time") or {}
    if isinstance(time, str):
        time = {"column": time}
    if not isinstance(time, dict):
        raise MappingError(f"{source}: time must be {{column: NAME, format: FORMAT}}")
    fmt = time.get("format", "iso8601")
    if fmt not in TIME_FORMATS and "%" not in str(fmt):
        raise MappingError(
            f"{source}: time.format {fmt!r}: use epoch, epoch_ms, iso8601 or a strptime pattern"
        )
    fields_in = data.get("fields") or {}
    constants_in = data.get("constants") or {}
    if not isinstance(fields_in, dict) or not isinstance(constants_in, dict):
        raise MappingError(f"{source}: fields and constants must be mappings")
    if time.get("column") and "time" not in TABLES[table].names:
        raise MappingError(f"{source}: time: table {table!r} has no time column")
    fields: dict[str, Any] = {}
    for name, spec in fields_in.items():
        if isinstance(spec, dict):
            if not isinstance(spec.get("column"), str):
                raise MappingError(f"{source}: fields.{name}: needs 'column'")
            if not isinstance(spec.get("map", {}), dict):
                raise MappingError(f"{source}: fields.{name}.map: must map raw values to values")
        elif not isinstance(spec, str):
            raise MappingError(f"{source}: fields.{name}: a source column name or {{column: ...}}")
        target = _target(table, str(name), source, "fields")
        if target in fields:
            raise MappingError(f"{source}: fields.{name}: {target!r} is mapped twice")
        fields[target] = spec
    constants = {
        _target(table, str(name), source, "constants"): value
        for name, value in constants_in.items()
    }
    return Mapping(
        table=table,
        time_column=time.get("column"),
        time_format=str(fmt),
        fields=fields,
        constants=constants,
        sha256=sha256,
    )


def load_mapping(path: Path) -> Mapping:
    """Read and validate a mapping file (YAML, duplicate keys rejected)."""
    try:
        raw = path.read_bytes()
        data = YAML(typ="base").load(raw.decode("utf-8"))
    except (OSError, UnicodeDecodeError, YAMLError) as error:
        raise MappingError(f"{path}: cannot be read: {error}") from None
    return parse_mapping(data, str(path), hashlib.sha256(raw).hexdigest())
