"""Mapping files: validation names the bad key, aliases resolve, files load strictly."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from breachscope.mapping import MAPPABLE_TABLES, MappingError, load_mapping, parse_mapping


def partner_portal(**changes: Any) -> dict[str, Any]:
    """The formats.md example mapping, with ``changes`` applied."""
    data: dict[str, Any] = {
        "table": "logons",
        "time": {"column": "timestamp", "format": "%Y-%m-%d %H:%M:%S"},
        "fields": {
            "account": "username",
            "src_ip": "client_ip",
            "outcome": {"column": "result", "map": {"OK": "success", "FAIL": "failure"}},
        },
        "constants": {"system": "partner-portal", "dst_host": "portal.partner.example"},
    }
    data.update(changes)
    return data


def test_the_example_mapping_parses() -> None:
    mapping = parse_mapping(partner_portal(), "portal.yaml")
    assert mapping.table == "logons"
    assert mapping.time_column == "timestamp"
    assert mapping.time_format == "%Y-%m-%d %H:%M:%S"
    assert mapping.fields["account"] == "username"
    assert mapping.fields["outcome"]["column"] == "result"
    assert mapping.constants == {"system": "partner-portal", "dst_host": "portal.partner.example"}


def test_misspelt_target_names_it_and_lists_valid_names() -> None:
    data = partner_portal(fields={"acount": "username"})
    with pytest.raises(MappingError) as caught:
        parse_mapping(data, "portal.yaml")
    message = str(caught.value)
    assert "portal.yaml" in message
    assert "'acount'" in message
    assert "valid names:" in message
    for column in ("account", "src_ip", "outcome", "assigned_ip", "end_time"):
        assert column in message.split("valid names:")[1]
    # Reserved columns are not offered: the reader sets them.
    assert "evidence_id" not in message.split("valid names:")[1]


def test_misspelt_constant_is_named_too() -> None:
    with pytest.raises(MappingError, match=r"constants\.sytem"):
        parse_mapping(partner_portal(constants={"sytem": "x"}), "portal.yaml")


@pytest.mark.parametrize("reserved", ["record", "evidence_id"])
def test_reserved_columns_cannot_be_mapped(reserved: str) -> None:
    with pytest.raises(MappingError, match=reserved):
        parse_mapping(partner_portal(fields={reserved: "x"}), "portal.yaml")


def test_ocsf_alias_is_accepted_and_resolved() -> None:
    data = partner_portal(fields={"src_endpoint_ip": "client_ip", "user_name": "username"})
    mapping = parse_mapping(data, "portal.yaml")
    assert mapping.fields == {"src_ip": "client_ip", "account": "username"}


def test_a_column_of_another_table_is_rejected() -> None:
    # dst_port is a network column, not a logons one.
    with pytest.raises(MappingError, match="dst_port"):
        parse_mapping(partner_portal(fields={"dst_port": "port"}), "portal.yaml")


@pytest.mark.parametrize("table", ["logins", "evidence", "iocs", None])
def test_unknown_or_unmappable_table_is_rejected(table: str | None) -> None:
    with pytest.raises(MappingError) as caught:
        parse_mapping(partner_portal(table=table), "portal.yaml")
    assert "cannot be mapped" in str(caught.value)
    assert all(name in str(caught.value) for name in MAPPABLE_TABLES)


@pytest.mark.parametrize("fmt", ["epoch_seconds", "rfc3339", "YYYY-MM-DD"])
def test_bad_time_format_is_rejected(fmt: str) -> None:
    with pytest.raises(MappingError, match=r"time\.format"):
        parse_mapping(partner_portal(time={"column": "ts", "format": fmt}), "portal.yaml")


@pytest.mark.parametrize("fmt", ["epoch", "epoch_ms", "iso8601", "%d/%b/%Y:%H:%M:%S %z"])
def test_good_time_formats_are_accepted(fmt: str) -> None:
    mapping = parse_mapping(partner_portal(time={"column": "ts", "format": fmt}), "x.yaml")
    assert mapping.time_format == fmt


def test_time_as_a_bare_column_defaults_to_iso8601() -> None:
    mapping = parse_mapping(partner_portal(time="ts"), "x.yaml")
    assert (mapping.time_column, mapping.time_format) == ("ts", "iso8601")


def test_unknown_top_level_key_is_rejected() -> None:
    with pytest.raises(MappingError, match="unknown key"):
        parse_mapping(partner_portal(feilds={}), "x.yaml")


def test_field_given_as_mapping_needs_column() -> None:
    with pytest.raises(MappingError, match=r"fields\.outcome: needs 'column'"):
        parse_mapping(partner_portal(fields={"outcome": {"map": {"OK": "success"}}}), "x.yaml")


def test_not_a_mapping_document() -> None:
    with pytest.raises(MappingError, match="'table' and 'fields'"):
        parse_mapping(["table", "logons"], "x.yaml")


def test_load_mapping_hashes_the_file_and_keeps_strings(tmp_path: Path) -> None:
    path = tmp_path / "vpn.yaml"
    text = (
        "table: logons\n"
        "time: {column: start, format: iso8601}\n"
        "fields: {account: user, assigned_ip: framed_ip, end_time: stop}\n"
        "constants: {system: vpn, method: no}\n"
    )
    path.write_text(text, encoding="utf-8")
    mapping = load_mapping(path)
    assert mapping.sha256 == hashlib.sha256(text.encode()).hexdigest()
    assert mapping.fields == {"account": "user", "assigned_ip": "framed_ip", "end_time": "stop"}
    assert mapping.constants["method"] == "no"  # YAML 1.1 would have made it False


def test_load_mapping_rejects_duplicate_keys(tmp_path: Path) -> None:
    path = tmp_path / "dup.yaml"
    path.write_text("table: logons\ntable: network\n", encoding="utf-8")
    with pytest.raises(MappingError, match="cannot be read"):
        load_mapping(path)


def test_load_mapping_names_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match=r"missing\.yaml"):
        load_mapping(tmp_path / "missing.yaml")


def test_a_time_column_on_a_table_without_time_is_rejected() -> None:
    data = {"table": "software", "time": {"column": "seen"}, "fields": {"name": "n"}}
    with pytest.raises(MappingError, match="has no time column"):
        parse_mapping(data, "m.yaml")


def test_a_column_mapped_twice_through_an_alias_is_rejected() -> None:
    data = {"table": "logons", "fields": {"src_ip": "a", "src_endpoint_ip": "b"}}
    with pytest.raises(MappingError, match="'src_ip' is mapped twice"):
        parse_mapping(data, "m.yaml")
