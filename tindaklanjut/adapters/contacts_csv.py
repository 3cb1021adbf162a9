"""Read the reminder contact directory from CSV.

Columns: agency_id, unit_id (empty = the whole agency), role, name, email,
webhook_url (either may be empty, not both). Comma or semicolon separated
(spreadsheets set to Indonesian locale write semicolons), UTF-8 with or
without BOM. Errors carry the row number as a spreadsheet shows it.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from tindaklanjut.domain.reminders import Contact, ContactRole, contact_role

COLUMNS = ("agency_id", "unit_id", "role", "name", "email", "webhook_url")
EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")
URL = re.compile(r"^https?://[^\s]+$")


@dataclass
class ContactFile:
    contacts: list[Contact] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def read_contacts(path: Path) -> ContactFile:
    return parse_contacts(path.read_text("utf-8-sig"))


def parse_contacts(text: str) -> ContactFile:
    result = ContactFile()
    first = text.splitlines()[0] if text.strip() else ""
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    header = [(h or "").strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        result.errors.append(f"baris 1: kolom tidak ada: {', '.join(missing)} (wajib: {', '.join(COLUMNS)})")
        return result
    reader.fieldnames = header
    seen: dict[tuple[str, str, str], int] = {}
    roles = ", ".join(r.value for r in ContactRole)
    for number, raw in enumerate(reader, start=2):
        row = {k: (v or "").strip() for k, v in raw.items() if k}
        if not any(row.values()):
            continue
        problems = []
        if not row["agency_id"]:
            problems.append("agency_id wajib diisi")
        try:
            role = contact_role(row["role"])
        except ValueError:
            role = None
            problems.append(f"peran '{row['role']}' tidak dikenal ({roles})")
        if not row["name"]:
            problems.append("nama wajib diisi")
        email, hook = row["email"] or None, row["webhook_url"] or None
        if email and not EMAIL.match(email):
            problems.append(f"alamat e-mail '{email}' tidak valid")
        if hook and not URL.match(hook):
            problems.append(f"webhook_url '{hook}' harus diawali http:// atau https://")
        if not email and not hook:
            problems.append("isi email atau webhook_url (boleh keduanya)")
        key = (row["agency_id"], row["unit_id"], row["role"].lower())
        if key in seen:
            problems.append(f"peran yang sama untuk instansi/unit ini sudah ada di baris {seen[key]}")
        seen.setdefault(key, number)
        if problems:
            result.errors.append(f"baris {number}: {'; '.join(problems)}")
            continue
        result.contacts.append(Contact(agency_id=row["agency_id"], unit_id=row["unit_id"], role=role,
                                       name=row["name"], email=email, webhook_url=hook))
    return result
