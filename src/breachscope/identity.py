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

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.headerregistry import HeaderRegistry
from typing import Any

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

    Where the rules are silent: a local part with white space, control characters or RFC 5322
    specials (``()<>[]\\,;:"``) does not parse as ``local@domain`` and is not an address. The
    domain is mapped by UTS 46 first (so look-alike letters such as mathematical bold fold to
    their ASCII base and an ideographic full stop is a dot), then IDNA 2008 encoded; an all-ASCII
    domain that IDNA 2008 refuses only for UTS 46's non-STD3 leniency (``_`` in a label, hyphens
    in places IDNA 2008 forbids) is kept lower-cased, because such domains do send mail
    (``Neck_Serum.com`` in the phishing corpus) and dropping them would lose the sender.

    >>> normalize_address("T.Yamada+News@Example-Space.JP")
    't.yamada+news@example-space.jp'
    >>> normalize_address("bücher@Bücher.example")
    'bücher@xn--bcher-kva.example'
    >>> normalize_address("undisclosed-recipients") is None
    True
    >>> normalize_address("noreply@\U0001d5d4\U0001d5d7\U0001d5d4\U0001d5d6.de")
    'noreply@adac.de'
    >>> normalize_address("HEALTH__x@Neck_Serum.com")
    'health__x@neck_serum.com'
    >>> normalize_address("taxa@%pedidos.com") is None
    True
    >>> normalize_address("__Link(Aan,15@aol.com") is None
    True
    """
    text = nfc(raw.strip().strip("<>").strip())
    if text.count("@") != 1:
        return None
    local, domain = text.split("@")
    if not local or any(_not_in_local_part(c) for c in local):
        return None
    ascii_domain = _domain_key(domain)
    if ascii_domain is None:
        return None
    return f"{local.lower()}@{ascii_domain}"


_LOCAL_SPECIALS = frozenset('()<>[]\\,;:"@')
_LENIENT_LABEL = re.compile(r"[a-z0-9_-]{1,63}")


def _not_in_local_part(char: str) -> bool:
    return char in _LOCAL_SPECIALS or char.isspace() or unicodedata.category(char) in ("Cc", "Cs")


def _domain_key(domain: str) -> str | None:
    """The IDNA (UTS 46) ASCII form of a dotted domain, lower-cased; None if there is none."""
    try:
        mapped = idna.uts46_remap(domain, std3_rules=False, transitional=False)
    except (idna.IDNAError, UnicodeError, IndexError):
        return None
    mapped = mapped.rstrip(".")
    labels = mapped.split(".")
    if len(labels) < 2 or not all(labels):
        return None
    try:
        return idna.encode(mapped).decode("ascii").lower()
    except (idna.IDNAError, UnicodeError):
        pass
    lenient = all(
        _LENIENT_LABEL.fullmatch(label) and not label.startswith("xn--") for label in labels
    )
    return mapped if lenient and len(mapped) <= 253 else None


def split_address(formatted: str) -> tuple[str | None, str | None]:
    """(display name, normalised address) of one ``Name <addr>`` string.

    Read as one RFC 5322 mailbox first (quoted names, encoded words, ``addr (comment)``); when
    that does not give exactly one mailbox, as in an unquoted ``Yamada, Taro <t@x.jp>`` from a
    contacts export, the last ``<...>`` is the address and everything before it the name.

    >>> split_address('"Yamada, Taro" <T.Yamada@Example-Space.JP>')
    ('Yamada, Taro', 't.yamada@example-space.jp')
    >>> split_address("Yamada, Taro <t.yamada@example-space.jp>")
    ('Yamada, Taro', 't.yamada@example-space.jp')
    >>> split_address("=?utf-8?b?5bGx55Sw?= <t@example-space.jp>")
    ('山田', 't@example-space.jp')
    >>> split_address("t@example-space.jp")
    (None, 't@example-space.jp')
    """
    try:
        header: Any = _ADDRESS_PARSER("to", formatted)
        mailboxes = header.addresses
    except Exception:  # the stdlib header parser raises assorted errors on malformed input
        mailboxes = ()
    if len(mailboxes) == 1:
        mailbox = mailboxes[0]
        spec = f"{mailbox.username}@{mailbox.domain}" if mailbox.domain else mailbox.username
        address = normalize_address(spec)
        if address is not None:
            return mailbox.display_name.strip() or None, address
    if "<" in formatted and formatted.rstrip().endswith(">"):
        name, _, rest = formatted.rpartition("<")
        return name.strip().strip('"').strip() or None, normalize_address(rest)
    return None, normalize_address(formatted)


_ADDRESS_PARSER = HeaderRegistry()
