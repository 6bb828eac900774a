"""Identity normalisation at ingest: accounts, hosts, paths and e-mail addresses.

Formats call these so analyses can compare plain columns (``account_key``, ``path_key``,
``address``) in Ibis. The rules are those of ``../shared/spec/rules.md`` (Identity). Each step
is a small pure function; the normalizers are ordered tuples of them.

Where the rules are silent: a NetBIOS domain (``EXSPACE\\user``) becomes a DNS realm when the
manifest links the two (an account with that prefix on a system whose hosts carry a DNS
domain); otherwise the NetBIOS name itself, lower-cased, is the realm, so the same spelling
always meets itself. A bare user name stays bare: the credential key is (system, account_key),
so the system already says which authority checks it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.headerregistry import Address

import idna

from breachscope.case import Case

NOT_CREDENTIALS = frozenset({"anonymous logon", "-", ""})


def nfc(text: str) -> str:
    """Unicode NFC.

    >>> nfc("e\\u0301") == "\\u00e9"
    True
    """
    return unicodedata.normalize("NFC", text)


def casefold(text: str) -> str:
    """Case-insensitive comparison form.

    >>> casefold("EXSPACE\\\\TYamada")
    'exspace\\\\tyamada'
    """
    return text.casefold()


def strip_blanks(text: str) -> str:
    """Surrounding white space is never part of an identity.

    >>> strip_blanks("  tyamada ")
    'tyamada'
    """
    return text.strip()


ACCOUNT_NORMALIZERS: tuple[Callable[[str], str], ...] = (strip_blanks, nfc, casefold)


@dataclass(frozen=True)
class Realms:
    """What the manifest says about domains: NetBIOS name -> DNS realm, and local hosts."""

    netbios: dict[str, str] = field(default_factory=dict)
    hosts: frozenset[str] = frozenset()

    @classmethod
    def from_case(cls, case: Case | None) -> Realms:
        if case is None:
            return cls()
        netbios: dict[str, str] = {}
        for user in case.subject.users:
            for entry in user.accounts:
                if "\\" not in entry.account:
                    continue
                prefix = casefold(entry.account.split("\\", 1)[0])
                system = case.system(entry.system)
                domain = _dns_domain(system.hosts if system else [])
                if domain and prefix not in netbios:
                    netbios[prefix] = domain
        hosts = frozenset(host_key(h.name) for h in case.subject.hosts)
        return cls(netbios=netbios, hosts=hosts)


def _dns_domain(names: Iterable[str]) -> str | None:
    for name in names:
        bare = name.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
        if bare.count(".") >= 2 and not bare.replace(".", "").isdigit():
            return casefold(bare.split(".", 1)[1])
    return None


def account_key(account: str, realms: Realms = Realms(), host: str | None = None) -> str:
    """The comparison key of an account as seen in evidence.

    ``DOMAIN\\user`` and ``user@realm`` become ``user@<domain>``; a local account
    (``HOST\\user``, ``.\\user``) stays ``host\\user``; a domain prefix is never dropped.

    >>> account_key("EXSPACE\\\\TYamada", Realms({"exspace": "example-space.jp"}))
    'tyamada@example-space.jp'
    >>> account_key("tyamada@EXAMPLE-SPACE.JP")
    'tyamada@example-space.jp'
    >>> account_key(".\\\\Admin", host="WS-0423")
    'ws-0423\\\\admin'
    """
    text = account
    for step in ACCOUNT_NORMALIZERS:
        text = step(text)
    if "\\" in text:
        prefix, user = text.split("\\", 1)
        local = host_key(host) if host else ""
        if prefix in (".", "") and local:
            return f"{local}\\{user}"
        if prefix == local or prefix in realms.hosts:
            return f"{prefix}\\{user}"
        return f"{user}@{realms.netbios.get(prefix, prefix)}"
    return text


def is_credential_account(account: str | None) -> bool:
    """Machine accounts (``...$``) and ANONYMOUS LOGON are not credentials."""
    if account is None:
        return False
    text = casefold(strip_blanks(account))
    return text not in NOT_CREDENTIALS and not text.endswith("$")


def host_key(host: str) -> str:
    """Hosts compare casefolded, without domain.

    >>> host_key("WS-0423.example-space.jp")
    'ws-0423'
    >>> host_key("10.20.4.23")
    '10.20.4.23'
    """
    text = casefold(strip_blanks(host))
    if text.replace(".", "").isdigit() or ":" in text:
        return text
    return text.split(".", 1)[0]


def display_path(path: str, mount: str | None = None) -> str:
    """A Windows path as findings show it: ``\\`` separators and an upper-case drive letter.

    No drive letter means ``C:`` unless the item says ``mount``.

    >>> display_path("c:/Users/taro/Doc.docx")
    'C:\\\\Users\\\\taro\\\\Doc.docx'
    >>> display_path("/Users/x", mount="D:")
    'D:\\\\Users\\\\x'
    """
    text = path.replace("/", "\\")
    if len(text) >= 2 and text[1] == ":":
        return text[0].upper() + text[1:]
    drive = mount or "C:"
    return drive + ("" if text.startswith("\\") else "\\") + text


def path_key(path: str, mount: str | None = None) -> str:
    """The comparison key of a Windows path: display form, casefolded.

    >>> path_key("C:/Users/Taro/Doc.DOCX")
    'c:\\\\users\\\\taro\\\\doc.docx'
    """
    return casefold(nfc(display_path(path, mount)))


def normalize_address(raw: str) -> str | None:
    """An e-mail address in comparison form, or None if it is not one.

    An address counts only if it is ``local@domain`` with one ``@`` and a dotted domain. The
    domain is IDNA (UTS 46) encoded and lower-cased, the local part lower-cased; plus-tags and
    dots are kept.

    >>> normalize_address("T.Yamada+News@Example-Space.JP")
    't.yamada+news@example-space.jp'
    >>> normalize_address("bücher@Bücher.example")
    'bücher@xn--bcher-kva.example'
    >>> normalize_address("undisclosed-recipients") is None
    True
    """
    text = nfc(raw.strip().strip("<>").strip())
    if text.count("@") != 1:
        return None
    local, domain = text.split("@")
    if not local or not domain or any(c.isspace() for c in text):
        return None
    domain = domain.rstrip(".")
    if "." not in domain or domain.startswith(".") or ".." in domain:
        return None
    try:
        ascii_domain = idna.encode(domain, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        return None
    return f"{local.lower()}@{ascii_domain.lower()}"


def split_address(formatted: str) -> tuple[str | None, str | None]:
    """(display name, normalised address) of one ``Name <addr>`` string."""
    try:
        parsed = Address(addr_spec=formatted)
        return None, normalize_address(parsed.addr_spec)
    except (ValueError, IndexError, TypeError):
        pass
    if "<" in formatted and formatted.rstrip().endswith(">"):
        name, _, rest = formatted.rpartition("<")
        return name.strip().strip('"') or None, normalize_address(rest)
    return None, normalize_address(formatted)
