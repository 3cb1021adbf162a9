"""What people call the codes the rules use: statuses, roles and follow-up
actions in Bahasa Indonesia, for every message a person reads (the domain's
refusals, the web pages, the exports and the e-mails)."""

from __future__ import annotations

STATUS = {"open": "Belum ditindaklanjuti", "in_progress": "Dalam proses", "submitted": "Menunggu verifikasi",
          "changes_requested": "Perlu perbaikan", "verified": "Terverifikasi",
          "not_actionable": "Tidak dapat ditindaklanjuti", "superseded": "Digantikan", "lapsed": "Kedaluwarsa"}
PRIORITY = {"high": "Tinggi", "medium": "Sedang", "low": "Rendah"}
ROLE = {"agency": "Instansi (OPD)", "evaluator": "Evaluator", "verifier": "Verifikator (APIP/Organisasi)",
        "secretary": "Sekretariat",
        "admin": "Admin"}
ACTION = {"action_recorded": "mencatat tindak lanjut", "evidence_added": "mengunggah bukti dukung",
          "submitted": "mengajukan verifikasi", "verified": "memverifikasi: tindak lanjut sesuai",
          "changes_requested": "meminta perbaikan", "not_actionable_requested": "memohon status tidak dapat "
          "ditindaklanjuti", "not_actionable_approved": "menyetujui: tidak dapat ditindaklanjuti",
          "not_actionable_rejected": "menolak permohonan tidak dapat ditindaklanjuti",
          "extension_requested": "memohon perpanjangan tenggat", "extension_approved": "menyetujui perpanjangan",
          "extension_rejected": "menolak perpanjangan", "lapsed": "kedaluwarsa pada akhir siklus",
          "plan_submitted": "mengajukan rencana aksi", "plan_accepted": "menyetujui rencana aksi",
          "plan_returned": "mengembalikan rencana aksi", "milestone_done": "menandai satu tahap rencana aksi selesai"}


def role(code: str) -> str:
    return ROLE.get(code, code)


def action(code: str) -> str:
    return ACTION.get(code, code)


def status(code: str) -> str:
    return STATUS.get(code, code)
