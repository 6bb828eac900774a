"""The normalized tables: the one place a table and its Arrow types are defined.

Formats write rows into these tables; analyses read them. Column names follow OCSF where OCSF
has one (flattened with underscores) and are also the vocabulary of mapping files.

Physical rules (so that DuckDB and Spark read the same Parquet files): times are
``timestamp[us, tz=UTC]`` (Spark rejects nanosecond timestamps), integers int64, lists only of
strings, durations int64 microseconds. Every table carries ``evidence_id`` and ``record`` so each
row can be traced to its raw record.
"""

from __future__ import annotations

import functools

import pyarrow as pa

SCHEMA_VERSION = "1"

TIME = pa.timestamp("us", tz="UTC")
STR = pa.string()
INT = pa.int64()
BOOL = pa.bool_()
STRS = pa.list_(pa.string())

_REF = (("evidence_id", STR), ("record", STR))


def _table(*columns: tuple[str, pa.DataType]) -> pa.Schema:
    return pa.schema([pa.field(name, kind) for name, kind in (*columns, *_REF)])


TABLES: dict[str, pa.Schema] = {
    "evidence": _table(
        ("path", STR),
        ("sha256", STR),
        ("size", INT),
        ("format", STR),
        ("system", STR),
        ("host", STR),
        ("owner", STR),
        ("records", INT),
        ("errors", INT),
        ("warnings", INT),
    ),
    "problems": _table(("severity", STR), ("message", STR), ("system", STR), ("host", STR)),
    "messages": _table(
        ("message_id", STR),
        ("time", TIME),
        ("sender", STR),
        ("display_name", STR),
        ("reply_to", STR),
        ("recipients", STRS),
        ("subject", STR),
        ("auth_results", STR),
        ("mailbox_owner", STR),
        ("folder", STR),
        ("system", STR),
        ("host", STR),
    ),
    "attachments": _table(
        ("message_id", STR),
        ("filename", STR),
        ("sha256", STR),
        ("size", INT),
        ("mime", STR),
        ("system", STR),
        ("host", STR),
    ),
    "deliveries": _table(
        ("time", TIME),
        ("message_id", STR),
        ("sender", STR),
        ("recipient", STR),
        ("status", STR),
        ("system", STR),
        ("host", STR),
    ),
    "addresses": _table(
        ("address", STR),
        ("display_name", STR),
        ("where", STR),
        ("message_id", STR),
        ("mailbox_owner", STR),
        ("system", STR),
        ("host", STR),
    ),
    "logons": _table(
        ("time", TIME),
        ("system", STR),
        ("host", STR),
        ("account", STR),
        ("account_key", STR),
        ("outcome", STR),
        ("src_ip", STR),
        ("src_host", STR),
        ("dst_host", STR),
        ("method", STR),
        ("logon_type", STR),
        ("session_id", STR),
        ("user_agent", STR),
        ("assigned_ip", STR),
        ("end_time", TIME),
        ("country", STR),
        ("reason", STR),
    ),
    "credential_changes": _table(
        ("time", TIME),
        ("system", STR),
        ("host", STR),
        ("account", STR),
        ("account_key", STR),
        ("kind", STR),
        ("actor", STR),
    ),
    "processes": _table(
        ("time", TIME),
        ("host", STR),
        ("user", STR),
        ("pid", INT),
        ("image", STR),
        ("command_line", STR),
        ("parent_image", STR),
        ("sha256", STR),
        ("system", STR),
    ),
    "network": _table(
        ("time", TIME),
        ("start_time", TIME),
        ("host", STR),
        ("src_ip", STR),
        ("dst_ip", STR),
        ("dst_host", STR),
        ("dst_port", INT),
        ("url", STR),
        ("method", STR),
        ("status", STR),
        ("action", STR),
        ("bytes_out", INT),
        ("bytes_in", INT),
        ("user_agent", STR),
        ("user", STR),
        ("system", STR),
    ),
    "files": _table(
        ("host", STR),
        ("path", STR),
        ("path_key", STR),
        ("size", INT),
        ("mtime", TIME),
        ("atime", TIME),
        ("ctime", TIME),
        ("btime", TIME),
        ("sha256", STR),
        ("labels", STRS),
        ("kind", STR),
        ("deleted", BOOL),
        ("system", STR),
    ),
    "file_access": _table(
        ("time", TIME),
        ("host", STR),
        ("user", STR),
        ("path", STR),
        ("path_key", STR),
        ("how", STR),
        ("system", STR),
    ),
    "web_visits": _table(
        ("time", TIME),
        ("host", STR),
        ("user", STR),
        ("url", STR),
        ("title", STR),
        ("search_terms", STR),
        ("transition", STR),
        ("system", STR),
    ),
    "stored_credentials": _table(
        ("host", STR),
        ("user", STR),
        ("origin", STR),
        ("account", STR),
        ("account_key", STR),
        ("time", TIME),
        ("system", STR),
    ),
    "software": _table(
        ("host", STR),
        ("name", STR),
        ("version", STR),
        ("publisher", STR),
        ("install_date", TIME),
        ("observed_at", TIME),
        ("system", STR),
    ),
    "iocs": _table(("kind", STR), ("value", STR), ("source", STR)),
    "win_events": _table(
        ("time", TIME),
        ("host", STR),
        ("channel", STR),
        ("provider", STR),
        ("event_id", INT),
        ("record_id", INT),
        ("account", STR),
        ("data", STR),
        ("system", STR),
    ),
    "vulns": _table(
        ("cve", STR),
        ("cpe", STR),
        ("version_start_including", STR),
        ("version_start_excluding", STR),
        ("version_end_including", STR),
        ("version_end_excluding", STR),
        ("known_exploited", BOOL),
        ("source", STR),
    ),
}

# Documented short aliases: OCSF names accepted in mapping files for our column names.
OCSF_ALIASES: dict[str, str] = {
    "src_endpoint_ip": "src_ip",
    "src_endpoint_hostname": "src_host",
    "dst_endpoint_ip": "dst_ip",
    "dst_endpoint_hostname": "dst_host",
    "dst_endpoint_port": "dst_port",
    "user_name": "account",
    "status": "outcome",
    "auth_protocol": "method",
    "http_request_url": "url",
    "http_request_http_method": "method",
    "http_request_user_agent": "user_agent",
    "traffic_bytes_out": "bytes_out",
    "traffic_bytes_in": "bytes_in",
    "device_hostname": "host",
    "file_path": "path",
    "file_size": "size",
}

# Tables whose rows are events in time; they make up the `events` timeline view.
TIMELINE_TABLES: tuple[str, ...] = (
    "messages",
    "deliveries",
    "logons",
    "credential_changes",
    "processes",
    "network",
    "file_access",
    "web_visits",
    "win_events",
)


def columns(table: str) -> list[str]:
    """The column names of ``table``, in schema order."""
    return TABLES[table].names


@functools.cache
def column_set(table: str) -> frozenset[str]:
    """The column names of ``table`` as a set, made once: the store checks every row's keys
    against it (``Schema.names`` builds a new list on each call)."""
    return frozenset(TABLES[table].names)


def empty_table(table: str) -> pa.Table:
    """A zero-row Arrow table with the schema of ``table``."""
    return TABLES[table].empty_table()
