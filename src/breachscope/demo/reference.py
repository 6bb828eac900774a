"""The case's reference data: software inventory, vulnerability record, indicator list.

Why written here and not copied: the installed tool carries no corpora, so the generator
holds its own small copy of what it needs. The NVD record is CVE-2010-3333 ("RTF Stack
Buffer Overflow", MS10-087) in the shape NVD mirrors keep single records (``id``,
``configurations`` ...), with its real CPE configuration; Office 2007 is listed only as
``office:2007:sp2``, so a match on the inventory's version is an edition/service-pack match
(12.0.6425.1000 is SP2; SP3, 12.0.6612.1000, fixed it). The inventory puts the same SP2 on a
second host (a campaign risk) and SP3 elsewhere.
"""

from __future__ import annotations

import json
from pathlib import Path

from breachscope.demo.people import Directory
from breachscope.demo.scenario import (
    C2_DOMAIN,
    C2_IP,
    CVE,
    OFFICE_NAME,
    OFFICE_SP2,
    OFFICE_SP3,
    SUBJECT_HOST,
)

INVENTORY_PATH = "evidence/inventory/software.csv"
NVD_PATH = "vulndata/nvd-cve-2010-3333.json"
IOC_PATH = "iocs/c2.txt"
CAMPAIGN_HOST = "WS-0511"  # the other recipient's PC, on the same unpatched Office
MICROSOFT = "Microsoft Corporation"
SUBJECT_SOFTWARE = (
    (OFFICE_NAME, OFFICE_SP2, MICROSOFT, "2009-04-15"),
    ("Adobe Reader 9.4.0", "9.4.0", "Adobe Systems Incorporated", "2010-11-02"),
    ("Google Chrome", "12.0.742.122", "Google Inc.", "2011-06-28"),
    ("Java(TM) 6 Update 26", "6.0.260", "Oracle", "2011-06-10"),
    ("7-Zip 9.20", "9.20.00.0", "Igor Pavlov", "2010-12-01"),
)
CPE_MATCHES = (
    ("cpe:2.3:a:microsoft:office:2003:sp3:*:*:*:*:*:*", "A332D04D-CC8C-4F68-A261-BA2F2D8EAD1E"),
    ("cpe:2.3:a:microsoft:office:2004:*:*:*:*:macos:*:*", "0B191155-67F2-4C6E-BD0C-AF5AF6F04BA1"),
    ("cpe:2.3:a:microsoft:office:2007:sp2:*:*:*:*:*:*", "08AF794A-435D-4171-9DBB-EB7FAED96DBA"),
    ("cpe:2.3:a:microsoft:office:2008:*:*:*:*:macos:*:*", "421ACF1B-1B21-4416-98ED-BAA5C210EAE5"),
    ("cpe:2.3:a:microsoft:office:2010:*:*:*:*:*:*:*", "6F68DBEC-7A95-43B4-9174-79F89FC93BC5"),
    ("cpe:2.3:a:microsoft:office:2011:*:*:*:*:macos:*:*", "BCB90D64-B7B2-4301-91E3-A113569371F2"),
    ("cpe:2.3:a:microsoft:office:xp:sp3:*:*:*:*:*:*", "79BA1175-7F02-4435-AEA6-1BA8AADEB7EF"),
    (
        "cpe:2.3:a:microsoft:open_xml_file_format_converter:-:*:*:*:*:macos:*:*",
        "4BC69733-551E-4535-B851-4A3EF71E98CD",
    ),
)
DESCRIPTION = (
    "Stack-based buffer overflow in Microsoft Office XP SP3, Office 2003 SP3, Office 2007 SP2,"
    " Office 2010, Office 2004 and 2008 for Mac, Office for Mac 2011, and Open XML File Format"
    " Converter for Mac allows remote attackers to execute arbitrary code via crafted RTF data,"
    ' aka "RTF Stack Buffer Overflow Vulnerability."'
)


def inventory_csv(people: Directory) -> str:
    """``host,name,version,publisher,install_date`` for the subject and the colleagues' PCs."""
    rows = ["host,name,version,publisher,install_date"]
    rows += [f"{SUBJECT_HOST},{n},{v},{p},{d}" for n, v, p, d in SUBJECT_SOFTWARE]
    for person in sorted(people.staff, key=lambda p: p.host or ""):
        version = OFFICE_SP2 if person.host == CAMPAIGN_HOST else OFFICE_SP3
        date = "2009-10-20" if version == OFFICE_SP2 else "2011-03-02"
        rows.append(f"{person.host},{OFFICE_NAME},{version},{MICROSOFT},{date}")
        rows.append(f"{person.host},Adobe Reader 9.4.0,9.4.0,Adobe Systems Incorporated,2010-11-02")
    return "\r\n".join(rows) + "\r\n"


def nvd_record() -> dict[str, object]:
    """CVE-2010-3333 as an NVD API 2.0 mirror keeps one record."""
    return {
        "id": CVE,
        "sourceIdentifier": "secure@microsoft.com",
        "published": "2010-11-10T03:00:02.087",
        "lastModified": "2025-10-21T20:15:53.363",
        "vulnStatus": "Deferred",
        "cveTags": [],
        "descriptions": [{"lang": "en", "value": DESCRIPTION}],
        "metrics": {
            "cvssMetricV2": [
                {
                    "source": "nvd@nist.gov",
                    "type": "Primary",
                    "cvssData": {
                        "version": "2.0",
                        "vectorString": "AV:N/AC:M/Au:N/C:C/I:C/A:C",
                        "baseScore": 9.3,
                    },
                    "baseSeverity": "HIGH",
                    "userInteractionRequired": True,
                }
            ]
        },
        "cisaExploitAdd": "2022-03-03",
        "cisaActionDue": "2022-03-24",
        "cisaRequiredAction": "Apply updates per vendor instructions.",
        "cisaVulnerabilityName": "Microsoft Office Stack-based Buffer Overflow Vulnerability",
        "weaknesses": [
            {
                "source": "nvd@nist.gov",
                "type": "Primary",
                "description": [{"lang": "en", "value": "CWE-787"}],
            }
        ],
        "configurations": [
            {
                "nodes": [
                    {
                        "operator": "OR",
                        "negate": False,
                        "cpeMatch": [
                            {"vulnerable": True, "criteria": criteria, "matchCriteriaId": match}
                            for criteria, match in CPE_MATCHES
                        ],
                    }
                ]
            }
        ],
        "references": [
            {
                "url": "https://docs.microsoft.com/en-us/security-updates/securitybulletins/2010/ms10-087",
                "source": "secure@microsoft.com",
                "tags": ["Patch", "Vendor Advisory"],
            }
        ],
    }


def ioc_text(dropped_sha256: str) -> str:
    defanged_domain = C2_DOMAIN.replace(".", "[.]")
    defanged_ip = C2_IP.rsplit(".", 1)[0] + "[.]" + C2_IP.rsplit(".", 1)[1]
    return (
        "# Indicators of the July 2011 intrusion of WS-0423 (IT Security Office)\n"
        "# command and control server, defanged\n"
        f"{defanged_domain}\n{defanged_ip}\n"
        "# SHA-256 of the dropped executable\n"
        f"{dropped_sha256}\n"
    )


def write_reference(folder: Path, people: Directory, dropped_sha256: str) -> None:
    for rel, text in (
        (INVENTORY_PATH, inventory_csv(people)),
        (NVD_PATH, json.dumps(nvd_record(), indent=2) + "\n"),
        (IOC_PATH, ioc_text(dropped_sha256)),
    ):
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
