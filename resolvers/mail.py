"""Notification e-mails: short plain Indonesian text, and sending them over SMTP (aiosmtplib).

Who gets which e-mail is decided by the dispatcher (resolvers/dispatch.py) from an outbox event: the UMKM's owner on a
new or cancelled order, the buyer on a rejection or shipment, the OPD's treasurers (or the employee of a personal
order) on a payment reminder. A text names the order by its number, the seller by its business name and the amount;
never the buyer's name, address or telephone, nor anyone's bank account.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import aiosmtplib

FOOTER = (
    "\n\n--\nPasar UMKM Kota Surabaya. Pesan ini dikirim otomatis; jangan dibalas.\n"
    "Untuk berhenti menerima e-mail pemberitahuan, matikan pemberitahuan e-mail di akun Anda."
)


def rupiah(amount: int) -> str:
    return "Rp" + f"{amount:,}".replace(",", ".")


@dataclass(frozen=True)
class Mail:
    subject: str
    text: str


def render(topic: str, facts: dict[str, Any], seller: str) -> Mail | None:
    """The e-mail of one event, or None when the topic sends none."""
    number, total = facts.get("number", ""), rupiah(int(facts.get("total") or 0))
    reason = (facts.get("reason") or "").strip()
    why = f"\nAlasan: {reason}" if reason else ""
    if topic == "order.placed":
        return Mail(
            f"Pesanan baru {number}",
            f"Ada pesanan baru untuk {seller}: {number}, senilai {total}.\n"
            "Buka Pasar UMKM untuk menerima atau menolak pesanan ini.",
        )
    if topic == "order.cancelled":
        return Mail(
            f"Pesanan {number} dibatalkan",
            f"Pesanan {number} untuk {seller} senilai {total} dibatalkan.{why}\n"
            "Stok atau kapasitas yang dipesan sudah dikembalikan.",
        )
    if topic == "order.rejected":
        return Mail(
            f"Pesanan {number} ditolak",
            f"Pesanan {number} senilai {total} ditolak oleh {seller}.{why}\n"
            "Anda dapat memesan kembali dari penjual lain di Pasar UMKM.",
        )
    if topic == "order.shipped":
        return Mail(
            f"Pesanan {number} sedang dikirim",
            f"Pesanan {number} dari {seller} senilai {total} sedang dikirim.\n"
            "Setelah barang diterima, konfirmasikan penerimaan (BAST) di Pasar UMKM.",
        )
    if topic == "order.payment_reminder":
        days = facts.get("days_unpaid")
        since = f" sejak {days} hari" if days else ""
        return Mail(
            f"Pengingat pembayaran pesanan {number}",
            f"Pesanan {number} dari {seller} senilai {total} sudah diterima{since}, tetapi belum dibayar.\n"
            "Catat pembayarannya di Pasar UMKM setelah dibayar.",
        )
    return None


def message(sender: str, to: str, mail: Mail) -> EmailMessage:
    email = EmailMessage()
    email["From"], email["To"], email["Subject"] = sender, to, mail.subject
    email["Message-ID"] = make_msgid(domain="pasar-umkm")
    email.set_content(mail.text + FOOTER)
    return email


async def send(settings: Any, to: str, mail: Mail) -> None:
    """Send one e-mail; raises on failure (the dispatcher retries)."""
    await aiosmtplib.send(
        message(settings.smtp_sender, to, mail),
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_username or None,
        password=settings.smtp_password or None,
        start_tls=settings.smtp_starttls,
        timeout=settings.webhook_timeout_seconds,
    )
