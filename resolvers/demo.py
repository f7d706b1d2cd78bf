"""Believable Surabaya demo data: OPD with budgets, UMKM with history, products, a year of orders (items, events,
payments, ratings) as they go without a fairness policy, one login per role.

`seed_demo()` fills an empty database (the kecamatan/kelurahan reference data must be loaded) in one transaction,
using bulk inserts and a private `random.Random(seed)`, so the same seed gives the same rows (timestamps are
spread relative to the moment of seeding). Every user shares `DEMO_PASSWORD`; it is hashed once.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from bisect import bisect_right
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from tortoise.transactions import in_transaction

from models.accounts import User
from models.base import OpdKind, Role, Scale, ScaleSource, UmkmStatus
from models.catalog import Product
from models.orders import (
    OPEN_STATUSES,
    CapacityUse,
    Order,
    OrderEvent,
    OrderItem,
    OrderKind,
    OrderSource,
    OrderStatus,
    Payment,
    Rating,
)
from models.registry import (
    Category,
    Kecamatan,
    Kelurahan,
    Opd,
    OpdBudget,
    Umkm,
    UmkmServedKecamatan,
    UmkmStatusChange,
)
from resolvers.accounts import hash_password
from resolvers.fairness_stats import rebuild_stats
from resolvers.sales import rebuild_monthly_sales

DEMO_PASSWORD = "pasar-demo-2026"
DEMO_DOMAIN = "demo.pasar.id"
UMKM_COUNT = 300
PRODUCT_COUNT = 1500
BATCH = 500
HISTORY_DAYS = 548  # about 18 months
BUDGET_YEARS = (2025, 2026)
PAGU_MIN, PAGU_MAX = 500_000_000, 150_000_000_000  # Rp500 juta .. Rp150 miliar

_SLUG_RE = re.compile(r"[^a-z0-9]+")


def slugify(text: str) -> str:
    return _SLUG_RE.sub("-", text.lower()).strip("-")


# ---------------------------------------------------------------- categories

# (name, description, children)
CATEGORY_TREE: list[tuple[str, str, list[tuple[str, str]]]] = [
    (
        "Konsumsi rapat",
        "Makanan untuk rapat, pelatihan dan acara dinas (batas harga per orang sesuai standar biaya).",
        [
            ("Snack box", "Snack box, kue basah dan jajan pasar per orang."),
            ("Nasi kotak", "Nasi kotak dan nasi bungkus per orang."),
            ("Tumpeng", "Tumpeng dan tumpeng mini untuk syukuran dan peresmian."),
        ],
    ),
    ("Batik", "Batik tulis dan batik cap, motif khas Suroboyo; batik Kamis ASN.", []),
    (
        "Sepatu",
        "Sepatu buatan perajin Surabaya.",
        [
            ("Sepatu sekolah", "Sepatu sekolah hitam untuk SD, SMP dan SMA."),
            ("Pantofel", "Sepatu pantofel dan PDH kulit untuk ASN."),
        ],
    ),
    ("Seragam & jasa jahit", "Jahit seragam sekolah, seragam ASN dan batik; harga per set.", []),
    ("Kerajinan & souvenir", "Kerajinan tangan dan cendera mata untuk tamu instansi.", []),
    ("ATK & cetak", "Alat tulis kantor, fotokopi, percetakan dan stempel.", []),
    (
        "Jasa",
        "Jasa untuk kantor dan acara.",
        [
            ("Laundry", "Laundry kiloan, seragam, linen dan karpet."),
            ("Cleaning service", "Kebersihan kantor, deep cleaning dan cuci AC."),
            ("Catering", "Catering prasmanan, coffee break dan makan harian pegawai."),
        ],
    ),
]

# ---------------------------------------------------------------- OPD

# (code, name, kind, kecamatan, kelurahan or None, address, pagu range for 2025 in juta rupiah)
OPD_ROWS: list[tuple[str, str, OpdKind, str, str | None, str, tuple[int, int]]] = [
    (
        "DISPENDIK",
        "Dinas Pendidikan",
        OpdKind.DINAS,
        "Wonokromo",
        None,
        "Jl. Jagir Wonokromo No. 354",
        (90_000, 150_000),
    ),
    ("DINKES", "Dinas Kesehatan", OpdKind.DINAS, "Wonocolo", None, "Jl. Jemursari No. 197", (70_000, 130_000)),
    (
        "DINKOPUMDAG",
        "Dinas Koperasi, Usaha Kecil dan Menengah dan Perdagangan",
        OpdKind.DINAS,
        "Genteng",
        None,
        "Jl. Tunjungan No. 1-3 (Gedung Siola)",
        (15_000, 40_000),
    ),
    ("DLH", "Dinas Lingkungan Hidup", OpdKind.DINAS, "Sukolilo", None, "Jl. Raya Menur No. 31-A", (40_000, 90_000)),
    (
        "DPRKPP",
        "Dinas Perumahan Rakyat dan Kawasan Permukiman serta Pertanahan",
        OpdKind.DINAS,
        "Genteng",
        None,
        "Jl. Jimerto No. 25-27",
        (20_000, 60_000),
    ),
    (
        "DSDABM",
        "Dinas Sumber Daya Air dan Bina Marga",
        OpdKind.DINAS,
        "Genteng",
        None,
        "Jl. Jimerto No. 25-27",
        (30_000, 80_000),
    ),
    (
        "DISPUSIP",
        "Dinas Perpustakaan dan Kearsipan",
        OpdKind.DINAS,
        "Rungkut",
        None,
        "Jl. Rungkut Asri Tengah No. 5-7",
        (5_000, 15_000),
    ),
    (
        "DISBUDPORAPAR",
        "Dinas Kebudayaan, Kepemudaan dan Olah Raga serta Pariwisata",
        OpdKind.DINAS,
        "Genteng",
        None,
        "Jl. Tunjungan No. 1-3 (Gedung Siola)",
        (15_000, 45_000),
    ),
    (
        "DISPENDUKCAPIL",
        "Dinas Kependudukan dan Pencatatan Sipil",
        OpdKind.DINAS,
        "Genteng",
        None,
        "Jl. Tunjungan No. 1-3 (Gedung Siola)",
        (8_000, 20_000),
    ),
    ("DISHUB", "Dinas Perhubungan", OpdKind.DINAS, "Gayungan", None, "Jl. Dukuh Menanggal No. 1", (25_000, 70_000)),
    ("DINSOS", "Dinas Sosial", OpdKind.DINAS, "Sukolilo", None, "Jl. Arief Rahman Hakim No. 131-133", (30_000, 75_000)),
    (
        "DISPERINAKER",
        "Dinas Perindustrian dan Tenaga Kerja",
        OpdKind.DINAS,
        "Wonocolo",
        None,
        "Jl. Jemursari No. 197",
        (6_000, 18_000),
    ),
    (
        "DP3APPKB",
        "Dinas Pemberdayaan Perempuan dan Perlindungan Anak serta Pengendalian Penduduk dan Keluarga Berencana",
        OpdKind.DINAS,
        "Tegalsari",
        None,
        "Jl. Kedungsari No. 18",
        (10_000, 30_000),
    ),
    (
        "DKPP",
        "Dinas Ketahanan Pangan dan Pertanian",
        OpdKind.DINAS,
        "Jambangan",
        None,
        "Jl. Pagesangan II No. 56",
        (8_000, 25_000),
    ),
    (
        "DISKOMINFO",
        "Dinas Komunikasi dan Informatika",
        OpdKind.DINAS,
        "Genteng",
        None,
        "Jl. Jimerto No. 25-27",
        (20_000, 55_000),
    ),
    (
        "DPMPTSP",
        "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu",
        OpdKind.DINAS,
        "Genteng",
        None,
        "Jl. Tunjungan No. 1-3 (Gedung Siola)",
        (5_000, 15_000),
    ),
    (
        "DPKP",
        "Dinas Pemadam Kebakaran dan Penyelamatan",
        OpdKind.DINAS,
        "Bubutan",
        None,
        "Jl. Pasar Turi No. 21",
        (15_000, 40_000),
    ),
    (
        "SATPOL-PP",
        "Satuan Polisi Pamong Praja",
        OpdKind.LAINNYA,
        "Genteng",
        None,
        "Jl. Jaksa Agung Suprapto No. 2",
        (15_000, 45_000),
    ),
    (
        "BAPPEDALITBANG",
        "Badan Perencanaan Pembangunan Daerah, Penelitian dan Pengembangan",
        OpdKind.BADAN,
        "Genteng",
        None,
        "Jl. Pacar No. 8",
        (8_000, 25_000),
    ),
    (
        "BPKAD",
        "Badan Pengelolaan Keuangan dan Aset Daerah",
        OpdKind.BADAN,
        "Genteng",
        None,
        "Jl. Jimerto No. 25-27",
        (10_000, 35_000),
    ),
    ("BAPENDA", "Badan Pendapatan Daerah", OpdKind.BADAN, "Genteng", None, "Jl. Jimerto No. 25-27", (10_000, 30_000)),
    (
        "BKPSDM",
        "Badan Kepegawaian dan Pengembangan Sumber Daya Manusia",
        OpdKind.BADAN,
        "Genteng",
        None,
        "Jl. Jimerto No. 25-27",
        (6_000, 20_000),
    ),
    (
        "BPBD",
        "Badan Penanggulangan Bencana Daerah",
        OpdKind.BADAN,
        "Genteng",
        None,
        "Jl. Jaksa Agung Suprapto No. 2",
        (5_000, 15_000),
    ),
    (
        "BAKESBANGPOL",
        "Badan Kesatuan Bangsa dan Politik",
        OpdKind.BADAN,
        "Genteng",
        None,
        "Jl. Jaksa Agung Suprapto No. 2",
        (3_000, 10_000),
    ),
    ("SETDA", "Sekretariat Daerah", OpdKind.SEKRETARIAT, "Genteng", None, "Jl. Taman Surya No. 1", (40_000, 100_000)),
    ("SETWAN", "Sekretariat DPRD", OpdKind.SEKRETARIAT, "Genteng", None, "Jl. Yos Sudarso No. 18-22", (25_000, 70_000)),
    ("INSPEKTORAT", "Inspektorat", OpdKind.LAINNYA, "Genteng", None, "Jl. Sedap Malam No. 7-9", (3_000, 9_000)),
    (
        "RSUD-SOEWANDHIE",
        "RSUD dr. Mohamad Soewandhie",
        OpdKind.RSUD,
        "Simokerto",
        None,
        "Jl. Tambak Rejo No. 45-47",
        (80_000, 150_000),
    ),
    (
        "RSUD-BDH",
        "RSUD Bhakti Dharma Husada",
        OpdKind.RSUD,
        "Benowo",
        None,
        "Jl. Raya Kendung No. 115-117",
        (60_000, 120_000),
    ),
    (
        "KEC-GENTENG",
        "Kecamatan Genteng",
        OpdKind.KECAMATAN,
        "Genteng",
        None,
        "Jl. Ketabang Kali No. 47",
        (1_500, 5_000),
    ),
    (
        "KEC-TAMBAKSARI",
        "Kecamatan Tambaksari",
        OpdKind.KECAMATAN,
        "Tambaksari",
        None,
        "Jl. Ploso Timur No. 2",
        (1_500, 5_000),
    ),
    ("KEC-RUNGKUT", "Kecamatan Rungkut", OpdKind.KECAMATAN, "Rungkut", None, "Jl. Kalirungkut No. 1", (1_500, 5_000)),
    (
        "KEC-WONOKROMO",
        "Kecamatan Wonokromo",
        OpdKind.KECAMATAN,
        "Wonokromo",
        None,
        "Jl. Jagir Wonokromo No. 229",
        (1_500, 5_000),
    ),
    (
        "KEC-SUKOLILO",
        "Kecamatan Sukolilo",
        OpdKind.KECAMATAN,
        "Sukolilo",
        None,
        "Jl. Raya Keputih No. 78",
        (1_500, 5_000),
    ),
    ("KEC-BENOWO", "Kecamatan Benowo", OpdKind.KECAMATAN, "Benowo", None, "Jl. Raya Kendung No. 2", (1_500, 5_000)),
    (
        "KEL-KETABANG",
        "Kelurahan Ketabang",
        OpdKind.KELURAHAN,
        "Genteng",
        "Ketabang",
        "Jl. Ketabang Kali No. 2",
        (500, 1_500),
    ),
    ("KEL-PLOSO", "Kelurahan Ploso", OpdKind.KELURAHAN, "Tambaksari", "Ploso", "Jl. Ploso Timur No. 11", (500, 1_500)),
    (
        "KEL-KEPUTIH",
        "Kelurahan Keputih",
        OpdKind.KELURAHAN,
        "Sukolilo",
        "Keputih",
        "Jl. Keputih Tegal No. 1",
        (500, 1_500),
    ),
    ("SMPN-1", "SMP Negeri 1 Surabaya", OpdKind.SEKOLAH, "Genteng", None, "Jl. Pacar No. 4-6", (500, 2_000)),
    ("SMPN-12", "SMP Negeri 12 Surabaya", OpdKind.SEKOLAH, "Krembangan", None, "Jl. Sikatan No. 26", (500, 2_000)),
]

BUYER_OPD = "DISPENDIK"
EXTRA_BUYER_OPDS = ("DINKES", "RSUD-SOEWANDHIE", "KEC-GENTENG", "DISBUDPORAPAR", "DLH", "SETDA")

# ---------------------------------------------------------------- products


@dataclass(frozen=True)
class Item:
    """A product template; `{v}` in name and description is filled with one of `variants`."""

    category: str  # slug
    name: str
    unit: str
    price: tuple[int, int]
    description: str
    variants: tuple[str, ...] = ("",)
    options: tuple[str, ...] = ()
    made_to_order: bool = False
    capacity: tuple[int, int] = (0, 0)  # monthly, for made to order
    stock: tuple[int, int] = (0, 500)  # for stocked goods
    lead: tuple[int, int] = (0, 2)
    min_order: tuple[int, int] = (1, 1)


SHIRT = ("S", "M", "L", "XL", "XXL")
UNIFORM = ("S", "M", "L", "XL")
SCHOOL_SHOES = tuple(str(n) for n in range(31, 43))
MEN_SHOES = tuple(str(n) for n in range(38, 45))
WOMEN_SHOES = tuple(str(n) for n in range(36, 42))
ALL_SHOES = tuple(str(n) for n in range(36, 45))
MOTIFS = (
    "Semanggi Suroboyo",
    "Kembang Bungur",
    "Sparkling Surabaya",
    "Mangrove Wonorejo",
    "Sura lan Baya",
    "Jembatan Suramadu",
    "Kenjeran",
    "Gembili Wonokromo",
    "Parang Suroboyo",
    "Tugu Pahlawan",
)
LAUK = (
    "Ayam Bakar",
    "Ayam Goreng Lalapan",
    "Rawon Daging",
    "Empal Penyet",
    "Bandeng Presto",
    "Ayam Rica-Rica",
    "Pecel Telur",
)
SNACK_DRINKS = ("Tanpa minum", "Air mineral", "Teh kotak")

SNACK_BOX_3 = Item(
    "snack-box",
    "Snack Box Isi 3 {v}",
    "box",
    (8_000, 13_000),
    "Snack box isi 3 {v}: risoles, lemper ayam dan kue lumpur (bisa pilih isi). Cocok untuk konsumsi rapat, "
    "pelatihan dan pengajian kantor; dikemas rapi dengan tisu.",
    variants=("Jajan Pasar", "Kue Basah", "Manis Gurih", "Tradisional"),
    options=SNACK_DRINKS,
    stock=(50, 500),
    lead=(1, 2),
    min_order=(20, 50),
)
SNACK_BOX_4 = Item(
    "snack-box",
    "Snack Box Isi 4 {v}",
    "box",
    (12_000, 18_000),
    "Snack box isi 4 {v}: pastel, sus vla, lapis legit dan onde-onde. Untuk rapat dinas dan tamu instansi; "
    "bisa tambah air mineral.",
    variants=("Premium", "Spesial", "Rapat", "Komplit"),
    options=SNACK_DRINKS,
    stock=(50, 400),
    lead=(1, 2),
    min_order=(20, 50),
)
SNACK_ITEMS = [
    SNACK_BOX_3,
    SNACK_BOX_4,
    Item(
        "snack-box",
        "Snack Box Premium Isi 5",
        "box",
        (17_000, 23_000),
        "Snack box premium isi 5 kue basah dan kue kering, plus air mineral. Untuk rapat pimpinan dan acara resmi.",
        stock=(30, 300),
        lead=(1, 2),
        min_order=(20, 30),
    ),
    Item(
        "snack-box",
        "Lapis Surabaya (Spiku) Potong",
        "pcs",
        (4_000, 7_500),
        "Kue lapis Surabaya (spiku) potong, oleh-oleh khas Suroboyo; bisa masuk snack box rapat.",
        stock=(50, 400),
        lead=(1, 2),
        min_order=(20, 50),
    ),
    Item(
        "snack-box",
        "Kue Basah Satuan {v}",
        "pcs",
        (2_500, 5_000),
        "Kue basah satuan ({v}) untuk snack rapat dan jajan pasar acara kelurahan.",
        variants=("Lemper Ayam", "Risoles Ragout", "Kue Lumpur", "Dadar Gulung", "Pastel Sayur", "Onde-Onde"),
        stock=(100, 500),
        lead=(1, 1),
        min_order=(25, 50),
    ),
    Item(
        "snack-box",
        "Paket Coffee Break Rapat",
        "paket",
        (15_000, 23_000),
        "Paket coffee break per orang: 2 kue, kopi atau teh panas. Untuk rapat pagi dan sosialisasi.",
        stock=(30, 300),
        lead=(1, 2),
        min_order=(20, 30),
    ),
    Item(
        "tumpeng",
        "Tumpeng Mini {v}",
        "porsi",
        (25_000, 45_000),
        "Tumpeng mini {v} per orang dengan lauk ayam, telur, urap dan sambal goreng kentang; "
        "untuk syukuran dan ulang tahun kantor.",
        variants=("Nasi Kuning", "Nasi Uduk"),
        made_to_order=True,
        capacity=(100, 600),
        lead=(1, 3),
        min_order=(10, 20),
    ),
]
NASI_ITEMS = [
    Item(
        "nasi-kotak",
        "Nasi Kotak {v}",
        "box",
        (22_000, 42_000),
        "Nasi kotak lauk {v}, sayur, sambal, kerupuk dan buah. Untuk konsumsi rapat, pelatihan dan acara dinas; "
        "harga per orang sesuai standar biaya.",
        variants=LAUK,
        stock=(50, 400),
        lead=(1, 2),
        min_order=(10, 30),
    ),
    Item(
        "nasi-kotak",
        "Nasi Kotak Hemat {v}",
        "box",
        (20_000, 27_000),
        "Nasi kotak hemat lauk {v} dengan sayur dan sambal; cocok untuk konsumsi rapat RT/RW dan kerja bakti.",
        variants=("Ayam Suwir", "Telur Balado", "Tongkol Pedas", "Ayam Kecap"),
        stock=(50, 500),
        lead=(1, 1),
        min_order=(20, 50),
    ),
    Item(
        "nasi-kotak",
        "Nasi Kotak Premium {v}",
        "box",
        (38_000, 49_000),
        "Nasi kotak premium {v}, dua lauk, sayur, buah dan air mineral. Untuk tamu dan rapat pimpinan.",
        variants=("Iga Bakar", "Gurami Asam Manis", "Sate Ayam Madura", "Daging Bumbu Bali"),
        stock=(30, 200),
        lead=(1, 2),
        min_order=(10, 20),
    ),
    Item(
        "nasi-kotak",
        "Nasi Campur Suroboyo",
        "box",
        (22_000, 32_000),
        "Nasi campur khas Suroboyo: empal, serundeng, telur pindang, mie goreng dan sambal. Nasi kotak untuk rapat.",
        stock=(30, 300),
        lead=(1, 2),
        min_order=(10, 20),
    ),
    Item(
        "nasi-kotak",
        "Rujak Cingur Porsi",
        "porsi",
        (20_000, 30_000),
        "Rujak cingur khas Surabaya per porsi, bumbu petis dipisah; untuk makan siang rapat.",
        stock=(20, 200),
        lead=(1, 1),
        min_order=(10, 20),
    ),
    Item(
        "tumpeng",
        "Tumpeng Nasi Kuning 20 Porsi",
        "paket",
        (450_000, 750_000),
        "Tumpeng nasi kuning untuk 20 orang, lauk lengkap (ayam goreng, telur, perkedel, urap, sambal goreng). "
        "Untuk syukuran, peresmian dan ulang tahun instansi.",
        made_to_order=True,
        capacity=(20, 80),
        lead=(2, 3),
    ),
    Item(
        "tumpeng",
        "Tumpeng Nasi Kuning 30 Porsi",
        "paket",
        (650_000, 1_100_000),
        "Tumpeng nasi kuning besar untuk 30 orang dengan lauk komplit dan hiasan; pesan minimal 2 hari sebelumnya.",
        made_to_order=True,
        capacity=(10, 60),
        lead=(2, 4),
    ),
    SNACK_BOX_3,
]
BATIK_ITEMS = [
    Item(
        "batik",
        "Kemeja Batik Tulis Motif {v}",
        "potong",
        (275_000, 400_000),
        "Batik tulis motif {v} khas Suroboyo, kain katun primisima, pewarna alami. Cocok untuk batik Kamis ASN "
        "dan acara resmi; ukuran S sampai XXL.",
        variants=MOTIFS,
        options=SHIRT,
        stock=(0, 60),
        lead=(0, 3),
    ),
    Item(
        "batik",
        "Kemeja Batik Cap Motif {v}",
        "potong",
        (150_000, 250_000),
        "Kemeja batik cap motif {v}, lengan pendek, katun adem. Batik Suroboyo untuk kerja hari Kamis.",
        variants=MOTIFS,
        options=SHIRT,
        stock=(0, 120),
        lead=(0, 2),
    ),
    Item(
        "batik",
        "Kemeja Batik Lengan Panjang Motif {v}",
        "potong",
        (200_000, 325_000),
        "Kemeja batik kombinasi tulis dan cap motif {v}, lengan panjang dengan furing; untuk acara formal dan "
        "seragam batik instansi.",
        variants=MOTIFS,
        options=SHIRT,
        stock=(0, 80),
        lead=(0, 3),
    ),
    Item(
        "batik",
        "Blus Batik Wanita Motif {v}",
        "potong",
        (150_000, 275_000),
        "Blus batik wanita motif {v}, potongan modern untuk ASN perempuan; batik Suroboyo nyaman dipakai seharian.",
        variants=MOTIFS,
        options=("S", "M", "L", "XL"),
        stock=(0, 80),
        lead=(0, 2),
    ),
    Item(
        "batik",
        "Kain Batik Tulis Motif {v} 2 m",
        "potong",
        (250_000, 400_000),
        "Kain batik tulis motif {v} panjang 2 meter, bisa dijahit sendiri; cocok untuk cendera mata tamu.",
        variants=MOTIFS,
        stock=(0, 40),
        lead=(0, 2),
    ),
    Item(
        "batik",
        "Outer Batik Motif {v}",
        "potong",
        (175_000, 300_000),
        "Outer batik motif {v} untuk wanita, bahan katun; batik Suroboyo untuk kerja dan acara.",
        variants=MOTIFS,
        options=("All size",),
        stock=(0, 60),
        lead=(0, 2),
    ),
    Item(
        "batik",
        "Seragam Batik Kamis Instansi (Pesanan)",
        "potong",
        (150_000, 225_000),
        "Batik seragam Kamis untuk instansi dengan motif khusus; dibuat sesuai pesanan, ukuran S sampai XXL.",
        options=SHIRT,
        made_to_order=True,
        capacity=(50, 300),
        lead=(14, 30),
        min_order=(10, 20),
    ),
    Item(
        "kerajinan-souvenir",
        "Tas Batik Motif {v}",
        "pcs",
        (50_000, 150_000),
        "Tas jinjing batik motif {v}, souvenir khas Surabaya untuk tamu instansi.",
        variants=MOTIFS,
        stock=(0, 100),
        lead=(0, 3),
    ),
]
SEPATU_ITEMS = [
    Item(
        "sepatu-sekolah",
        "Sepatu Sekolah Hitam {v}",
        "pasang",
        (150_000, 260_000),
        "Sepatu sekolah hitam model {v}, sol karet jahit, kuat dipakai setiap hari. Untuk SD, SMP dan SMA.",
        variants=("Tali", "Perekat", "Kulit Sintetis"),
        options=SCHOOL_SHOES,
        stock=(0, 200),
        lead=(0, 3),
    ),
    Item(
        "sepatu-sekolah",
        "Sepatu Sekolah Sneakers Hitam Putih",
        "pasang",
        (150_000, 250_000),
        "Sepatu sekolah sneakers hitam dengan sol putih, ringan dan empuk; sepatu sekolah buatan perajin Surabaya.",
        options=SCHOOL_SHOES,
        stock=(0, 200),
        lead=(0, 3),
    ),
    Item(
        "pantofel",
        "Sepatu Pantofel Pria Kulit Sapi",
        "pasang",
        (350_000, 800_000),
        "Sepatu pantofel pria kulit sapi asli, sol karet anti selip; untuk kerja ASN dan acara resmi.",
        options=MEN_SHOES,
        stock=(0, 80),
        lead=(0, 5),
    ),
    Item(
        "pantofel",
        "Sepatu Pantofel Pria Kulit Sintetis",
        "pasang",
        (175_000, 350_000),
        "Sepatu pantofel pria kulit sintetis, ringan dan mudah dirawat; sepatu kerja harian.",
        options=MEN_SHOES,
        stock=(0, 150),
        lead=(0, 3),
    ),
    Item(
        "pantofel",
        "Sepatu Pantofel Wanita Hak Rendah",
        "pasang",
        (250_000, 550_000),
        "Sepatu pantofel wanita hak 3 cm, kulit, nyaman untuk kerja; sepatu dinas ASN perempuan.",
        options=WOMEN_SHOES,
        stock=(0, 100),
        lead=(0, 3),
    ),
    Item(
        "pantofel",
        "Sepatu PDH Kulit Mengkilap",
        "pasang",
        (400_000, 800_000),
        "Sepatu PDH kulit mengkilap untuk upacara dan pakaian dinas harian; ukuran 38 sampai 44.",
        options=MEN_SHOES,
        stock=(0, 60),
        lead=(0, 5),
    ),
    Item(
        "pantofel",
        "Sepatu Kulit Custom Ukuran Kaki",
        "pasang",
        (550_000, 800_000),
        "Sepatu kulit dibuat sesuai ukuran kaki (custom), model pantofel atau boots; pengerjaan tangan.",
        options=ALL_SHOES,
        made_to_order=True,
        capacity=(15, 60),
        lead=(10, 21),
    ),
    Item(
        "sepatu",
        "Sandal Kulit Pria",
        "pasang",
        (150_000, 300_000),
        "Sandal kulit pria jahit tangan, sol karet; buatan perajin sepatu Surabaya.",
        options=MEN_SHOES,
        stock=(0, 100),
        lead=(0, 3),
    ),
]
JAHIT_ITEMS = [
    Item(
        "seragam-jasa-jahit",
        "Jahit Seragam Sekolah {v}",
        "set",
        (100_000, 150_000),
        "Jasa jahit seragam sekolah {v} (kemeja dan celana/rok), rapi dan kuat; ukur di sekolah untuk pesanan partai.",
        variants=("SD", "SMP", "SMA/SMK"),
        options=UNIFORM,
        made_to_order=True,
        capacity=(60, 300),
        lead=(7, 14),
        min_order=(1, 10),
    ),
    Item(
        "seragam-jasa-jahit",
        "Jahit Seragam PDH ASN",
        "set",
        (140_000, 180_000),
        "Jahit seragam PDH/PSH ASN lengkap dengan atribut; bahan dari kami atau dari pemesan.",
        options=UNIFORM,
        made_to_order=True,
        capacity=(40, 200),
        lead=(7, 14),
        min_order=(1, 10),
    ),
    Item(
        "seragam-jasa-jahit",
        "Jahit Seragam Batik Sekolah",
        "set",
        (110_000, 160_000),
        "Jahit seragam batik sekolah sesuai motif sekolah; jasa jahit seragam untuk SD dan SMP.",
        options=UNIFORM,
        made_to_order=True,
        capacity=(60, 300),
        lead=(7, 14),
        min_order=(5, 20),
    ),
    Item(
        "seragam-jasa-jahit",
        "Jahit Seragam Pramuka",
        "set",
        (100_000, 145_000),
        "Jahit seragam pramuka siaga dan penggalang, lengkap dengan tanda; harga per set.",
        options=UNIFORM,
        made_to_order=True,
        capacity=(60, 250),
        lead=(7, 14),
        min_order=(1, 10),
    ),
    Item(
        "seragam-jasa-jahit",
        "Jahit Seragam Olahraga Sekolah",
        "set",
        (100_000, 140_000),
        "Seragam olahraga sekolah kaos dan training, sablon atau bordir logo sekolah.",
        options=UNIFORM,
        made_to_order=True,
        capacity=(80, 300),
        lead=(7, 14),
        min_order=(10, 20),
    ),
    Item(
        "seragam-jasa-jahit",
        "Seragam Kerja Bordir Logo Instansi",
        "set",
        (150_000, 180_000),
        "Seragam kerja (kemeja dan celana) dengan bordir logo instansi; untuk petugas lapangan dan kantor.",
        options=UNIFORM,
        made_to_order=True,
        capacity=(40, 200),
        lead=(10, 21),
        min_order=(10, 20),
    ),
    Item(
        "seragam-jasa-jahit",
        "Vermak Celana & Permak Baju",
        "potong",
        (15_000, 40_000),
        "Jasa vermak celana, potong panjang, ganti resleting dan permak baju; selesai cepat.",
        made_to_order=True,
        capacity=(150, 500),
        lead=(1, 3),
    ),
    Item(
        "seragam-jasa-jahit",
        "Jahit Kemeja Batik (Kain dari Pemesan)",
        "potong",
        (75_000, 125_000),
        "Jasa jahit kemeja batik dari kain pemesan, lengan pendek atau panjang, dengan furing.",
        options=SHIRT,
        made_to_order=True,
        capacity=(40, 150),
        lead=(5, 10),
    ),
]
KERAJINAN_ITEMS = [
    Item(
        "kerajinan-souvenir",
        "Tas Anyaman Eceng Gondok",
        "pcs",
        (75_000, 250_000),
        "Tas anyaman eceng gondok buatan tangan warga; souvenir ramah lingkungan untuk tamu.",
        stock=(0, 80),
        lead=(0, 5),
    ),
    Item(
        "kerajinan-souvenir",
        "Gantungan Kunci Ikon Suroboyo (isi 12)",
        "paket",
        (25_000, 60_000),
        "Gantungan kunci ikon Suroboyo (Sura lan Baya, Tugu Pahlawan, Suramadu), isi 12; souvenir acara.",
        stock=(10, 300),
        lead=(0, 3),
    ),
    Item(
        "kerajinan-souvenir",
        "Miniatur Jembatan Suramadu",
        "pcs",
        (85_000, 250_000),
        "Miniatur Jembatan Suramadu dari kayu dan logam, dalam kotak kaca; cendera mata resmi untuk tamu.",
        stock=(0, 50),
        lead=(0, 5),
    ),
    Item(
        "kerajinan-souvenir",
        "Plakat Kayu Logo Instansi",
        "pcs",
        (150_000, 450_000),
        "Plakat kayu jati ukir dengan logo instansi dan tulisan sesuai pesanan; kenang-kenangan tamu dan purna tugas.",
        made_to_order=True,
        capacity=(20, 80),
        lead=(5, 10),
    ),
    Item(
        "kerajinan-souvenir",
        "Goodie Bag Kain Blacu Sablon",
        "pcs",
        (12_000, 35_000),
        "Goodie bag kain blacu sablon logo acara, pengganti kantong plastik untuk seminar dan pelatihan.",
        made_to_order=True,
        capacity=(500, 2000),
        lead=(3, 7),
        min_order=(50, 100),
    ),
    Item(
        "kerajinan-souvenir",
        "Kotak Tisu Motif Batik",
        "pcs",
        (35_000, 90_000),
        "Kotak tisu kayu berlapis kain batik motif Suroboyo; hiasan meja kantor dan souvenir.",
        stock=(0, 120),
        lead=(0, 3),
    ),
    Item(
        "kerajinan-souvenir",
        "Tumbler Sablon Logo Acara",
        "pcs",
        (35_000, 85_000),
        "Tumbler stainless dengan sablon atau grafir logo acara; souvenir seminar dan rapat kerja.",
        made_to_order=True,
        capacity=(200, 1000),
        lead=(3, 7),
        min_order=(24, 50),
    ),
    Item(
        "kerajinan-souvenir",
        "Kerajinan Kerang Kenjeran {v}",
        "pcs",
        (25_000, 120_000),
        "Kerajinan kerang khas Pantai Kenjeran berupa {v}; oleh-oleh dan souvenir khas Surabaya.",
        variants=("Lampu Hias", "Bingkai Foto", "Hiasan Dinding", "Tempat Pensil"),
        stock=(0, 150),
        lead=(0, 3),
    ),
    Item(
        "kerajinan-souvenir",
        "Hampers Kue Kering & Kerajinan",
        "paket",
        (150_000, 350_000),
        "Hampers kue kering dengan wadah anyaman dan kartu ucapan; bingkisan untuk tamu dan hari raya.",
        made_to_order=True,
        capacity=(30, 200),
        lead=(3, 7),
    ),
]
ATK_ITEMS = [
    Item(
        "atk-cetak",
        "Kertas HVS A4 70 gram",
        "rim",
        (45_000, 62_000),
        "Kertas HVS A4 70 gram isi 500 lembar untuk printer dan fotokopi; ATK kantor.",
        stock=(0, 300),
        lead=(0, 1),
    ),
    Item(
        "atk-cetak",
        "Map Snelhecter Plastik (isi 50)",
        "paket",
        (45_000, 85_000),
        "Map snelhecter plastik folio isi 50, warna bisa pilih; perlengkapan arsip kantor.",
        options=("Merah", "Biru", "Hijau", "Kuning"),
        stock=(0, 200),
        lead=(0, 1),
    ),
    Item(
        "atk-cetak",
        "Paket ATK Rapat",
        "paket",
        (15_000, 35_000),
        "Paket ATK rapat per peserta: bolpoin, blocknote dan map plastik; untuk pelatihan dan sosialisasi.",
        stock=(20, 400),
        lead=(0, 2),
        min_order=(20, 30),
    ),
    Item(
        "atk-cetak",
        "Cetak Kartu Nama (1 box isi 100)",
        "box",
        (35_000, 80_000),
        "Cetak kartu nama dinas isi 100 lembar, art carton 260 gram, desain dibantu; percetakan cepat.",
        made_to_order=True,
        capacity=(200, 800),
        lead=(1, 3),
    ),
    Item(
        "atk-cetak",
        "Stempel Flash Instansi",
        "pcs",
        (70_000, 130_000),
        "Stempel flash dinas sesuai desain logo instansi, tinta warna pilihan; jadi satu hari.",
        made_to_order=True,
        capacity=(50, 200),
        lead=(1, 2),
    ),
    Item(
        "atk-cetak",
        "Cetak Banner Acara 1 x 3 m",
        "pcs",
        (60_000, 150_000),
        "Cetak banner/spanduk acara ukuran 1 x 3 meter, bahan flexi, lengkap mata ayam; digital printing.",
        made_to_order=True,
        capacity=(100, 400),
        lead=(1, 2),
    ),
    Item(
        "atk-cetak",
        "Fotokopi & Jilid Laporan",
        "pcs",
        (7_500, 25_000),
        "Fotokopi dan jilid laporan soft cover atau spiral; untuk dokumen rapat dan laporan pertanggungjawaban.",
        made_to_order=True,
        capacity=(300, 1500),
        lead=(0, 1),
    ),
    Item(
        "atk-cetak",
        "Cetak Undangan Rapat (isi 100)",
        "paket",
        (75_000, 200_000),
        "Cetak undangan rapat atau acara isi 100 lembar dengan amplop; percetakan cepat.",
        made_to_order=True,
        capacity=(50, 300),
        lead=(1, 3),
    ),
    Item(
        "atk-cetak",
        "Cetak Sertifikat / Piagam",
        "pcs",
        (3_000, 10_000),
        "Cetak sertifikat atau piagam pelatihan di kertas tebal, nama peserta dicetak satu per satu.",
        made_to_order=True,
        capacity=(500, 3000),
        lead=(1, 3),
        min_order=(20, 50),
    ),
    Item(
        "atk-cetak",
        "Tinta Printer Refill",
        "pcs",
        (25_000, 60_000),
        "Tinta printer refill 100 ml hitam dan warna; ATK kantor.",
        options=("Hitam", "Cyan", "Magenta", "Kuning"),
        stock=(0, 150),
        lead=(0, 1),
    ),
]
LAUNDRY_ITEMS = [
    Item(
        "laundry",
        "Laundry Kiloan Reguler (per 5 kg)",
        "paket",
        (30_000, 50_000),
        "Laundry kiloan cuci, kering, setrika per 5 kg; antar jemput untuk kantor dan asrama.",
        made_to_order=True,
        capacity=(300, 1200),
        lead=(2, 3),
    ),
    Item(
        "laundry",
        "Laundry Seragam & Jas Kantor",
        "potong",
        (15_000, 35_000),
        "Laundry seragam dinas dan jas, setrika uap rapi; bisa langganan bulanan.",
        made_to_order=True,
        capacity=(200, 800),
        lead=(2, 3),
    ),
    Item(
        "laundry",
        "Cuci Karpet Kantor & Masjid (per 10 m²)",
        "paket",
        (80_000, 150_000),
        "Cuci karpet kantor dan masjid per 10 meter persegi, dijemput dan diantar kembali.",
        made_to_order=True,
        capacity=(30, 150),
        lead=(3, 5),
    ),
    Item(
        "laundry",
        "Laundry Linen & Taplak Rapat",
        "paket",
        (50_000, 120_000),
        "Laundry linen, taplak meja rapat dan sarung kursi per paket 10 potong.",
        made_to_order=True,
        capacity=(50, 300),
        lead=(2, 3),
    ),
    Item(
        "laundry",
        "Cuci Gorden Kantor (per 5 kg)",
        "paket",
        (60_000, 110_000),
        "Cuci gorden dan vitrase kantor per 5 kg, bisa bongkar pasang.",
        made_to_order=True,
        capacity=(30, 150),
        lead=(3, 5),
    ),
]
CLEANING_ITEMS = [
    Item(
        "cleaning-service",
        "Cleaning Service Harian (1 petugas)",
        "paket",
        (150_000, 250_000),
        "Jasa cleaning service harian satu petugas dengan alat dan bahan; kebersihan kantor dan sekolah.",
        made_to_order=True,
        capacity=(20, 60),
        lead=(1, 3),
    ),
    Item(
        "cleaning-service",
        "Deep Cleaning Ruang Kantor (per 100 m²)",
        "paket",
        (400_000, 1_000_000),
        "Deep cleaning ruang kantor per 100 meter persegi: lantai, kaca, toilet dan sofa.",
        made_to_order=True,
        capacity=(10, 40),
        lead=(2, 5),
    ),
    Item(
        "cleaning-service",
        "Cuci AC Split (per unit)",
        "pcs",
        (75_000, 125_000),
        "Cuci AC split per unit, cek freon dan kebersihan filter; untuk kantor dan puskesmas.",
        made_to_order=True,
        capacity=(60, 300),
        lead=(1, 3),
    ),
    Item(
        "cleaning-service",
        "Pembersihan Pasca Acara",
        "paket",
        (500_000, 1_500_000),
        "Jasa bersih-bersih setelah acara atau pameran, termasuk angkut sampah.",
        made_to_order=True,
        capacity=(5, 30),
        lead=(1, 3),
    ),
    Item(
        "cleaning-service",
        "Fogging & Pengendalian Hama Ringan",
        "paket",
        (300_000, 750_000),
        "Fogging nyamuk dan pengendalian hama ringan untuk kantor, sekolah dan balai RW.",
        made_to_order=True,
        capacity=(10, 40),
        lead=(2, 5),
    ),
]
CATERING_ITEMS = [
    Item(
        "catering",
        "Catering Prasmanan (min. 50 porsi)",
        "porsi",
        (35_000, 49_000),
        "Catering prasmanan per porsi dengan nasi, dua lauk, sayur, buah dan es buah; peralatan saji disediakan.",
        made_to_order=True,
        capacity=(500, 3000),
        lead=(3, 7),
        min_order=(50, 100),
    ),
    Item(
        "catering",
        "Coffee Break Rapat per Orang",
        "porsi",
        (15_000, 23_000),
        "Coffee break rapat per orang: dua kue, kopi atau teh, disajikan di lokasi.",
        made_to_order=True,
        capacity=(500, 2000),
        lead=(1, 3),
        min_order=(20, 30),
    ),
    Item(
        "catering",
        "Catering Harian Pegawai",
        "porsi",
        (20_000, 30_000),
        "Catering makan siang harian pegawai, menu berganti tiap hari; langganan bulanan.",
        made_to_order=True,
        capacity=(600, 3000),
        lead=(2, 5),
        min_order=(20, 30),
    ),
    NASI_ITEMS[0],
    NASI_ITEMS[5],
    SNACK_BOX_4,
]


@dataclass(frozen=True)
class Trade:
    key: str
    weight: int
    items: list[Item]
    female_share: float
    names: tuple[str, ...]  # business name patterns: {p} person ("Bu Yuli"), {b} brand, {k} kelurahan
    brands: tuple[str, ...]
    about: str


TRADES = [
    Trade(
        "snack",
        50,
        SNACK_ITEMS,
        0.85,
        ("Snack {p}", "Kue Basah {p}", "Jajan Pasar {p}", "Dapur Kue {p}", "Snack Box {b}", "Kue {b}"),
        ("Arek Suroboyo", "Sumber Rejeki", "Manis Legi", "Barokah", "Sari Rasa", "Lancar Jaya", "Mekar Sari", "Cahaya"),
        "Membuat snack box, kue basah dan jajan pasar (lemper, risoles, kue lumpur, spiku) untuk rapat, pengajian "
        "dan acara kantor.",
    ),
    Trade(
        "nasi",
        45,
        NASI_ITEMS,
        0.8,
        ("Nasi Kotak {p}", "Dapur {p}", "Warung {p}", "Catering {b}", "Depot {b}", "Nasi Kotak {b}"),
        ("Sari Rasa", "Rasa Sayang", "Citra Rasa", "Bu Dhe", "Pojok", "Barokah", "Suroboyo", "Sedap Malam"),
        "Menyediakan nasi kotak, nasi campur dan tumpeng untuk konsumsi rapat dan acara dinas; masakan rumahan khas "
        "Suroboyo.",
    ),
    Trade(
        "batik",
        45,
        BATIK_ITEMS,
        0.6,
        ("Batik {b}", "Rumah Batik {b}", "Batik {p}", "Galeri Batik {k}", "Batik Tulis {b}"),
        ("Kenongo", "Semanggi", "Kembang Bungur", "Mangrove", "Sawunggaling", "Suroboyo", "Jayengrono", "Tunjungan"),
        "Perajin batik tulis dan batik cap motif Suroboyo (Semanggi, Kembang Bungur, Mangrove) untuk batik Kamis ASN "
        "dan seragam instansi.",
    ),
    Trade(
        "sepatu",
        30,
        SEPATU_ITEMS,
        0.15,
        ("Sepatu {p}", "Sepatu Kulit {b}", "Bengkel Sepatu {p}", "Pantofel {b}", "Sepatu {b}"),
        ("Jaya Kulit", "Arjuna", "Kuat Jaya", "Pahlawan", "Tunjungan", "Gajah Mada", "Kali Mas", "Wijaya"),
        "Produsen sepatu sekolah dan sepatu pantofel kulit buatan tangan, melayani pesanan sekolah dan instansi.",
    ),
    Trade(
        "jahit",
        45,
        JAHIT_ITEMS,
        0.8,
        ("Jahit Rapi {p}", "Penjahit {p}", "Konveksi {b}", "Modiste {p}", "Seragam {b}", "Jahit {p}"),
        ("Sinar", "Rapi Jali", "Mandiri", "Mutiara", "Sumber Makmur", "Tunas Jaya", "Delima", "Anugerah"),
        "Penjahit seragam sekolah, seragam PDH ASN dan seragam batik; terima pesanan partai dan ukur di tempat.",
    ),
    Trade(
        "kerajinan",
        35,
        KERAJINAN_ITEMS,
        0.6,
        ("Kerajinan {p}", "Souvenir {b}", "Griya Kriya {k}", "Anyaman {p}", "Kriya {b}"),
        ("Arek Suroboyo", "Kenjeran", "Suramadu", "Pahlawan", "Kampung Lawas", "Wonorejo", "Bungur", "Kalimas"),
        "Kerajinan tangan dan souvenir khas Surabaya: anyaman eceng gondok, kerajinan kerang Kenjeran, plakat dan "
        "cendera mata tamu.",
    ),
    Trade(
        "atk",
        25,
        ATK_ITEMS,
        0.45,
        ("Fotokopi & ATK {b}", "Percetakan {b}", "Toko ATK {p}", "Digital Printing {b}"),
        ("Berkah", "Jaya Abadi", "Sinar Terang", "Mitra", "Prima", "Cepat Jadi", "Karya Mandiri", "Abadi"),
        "Toko ATK, fotokopi dan percetakan: kertas, map, stempel, banner dan kartu nama untuk kebutuhan kantor.",
    ),
    Trade(
        "laundry",
        10,
        LAUNDRY_ITEMS,
        0.7,
        ("Laundry {b}", "{p} Laundry", "Laundry Kiloan {b}"),
        ("Bersih Wangi", "Kilat", "Harum", "Segar", "Bening", "Rapi"),
        "Jasa laundry kiloan, cuci seragam, linen rapat dan karpet kantor; antar jemput.",
    ),
    Trade(
        "cleaning",
        6,
        CLEANING_ITEMS,
        0.3,
        ("Cleaning Service {b}", "Jasa Bersih {b}", "Resik {b}"),
        ("Mandiri", "Kinclong", "Sejahtera", "Amanah", "Prima"),
        "Jasa cleaning service harian, deep cleaning kantor, cuci AC dan bersih-bersih pasca acara.",
    ),
    Trade(
        "catering",
        9,
        CATERING_ITEMS,
        0.75,
        ("Catering {p}", "Prasmanan {b}", "Catering {b}"),
        ("Sari Rasa", "Nikmat", "Selera Nusantara", "Dapur Ibu", "Kembang Joyo"),
        "Catering prasmanan, coffee break dan nasi kotak untuk rapat dan acara instansi.",
    ),
]
TRADE_BY_KEY = {t.key: t for t in TRADES}

# ---------------------------------------------------------------- people and places

FEMALE_FIRST = (
    "Yuli", "Endang", "Sri", "Rini", "Wati", "Sumiati", "Lilik", "Ninik", "Yanti", "Tutik", "Siti", "Dewi", "Ani",
    "Eka", "Lestari", "Umi", "Nur", "Fitri", "Retno", "Indah", "Wulan", "Ratna", "Erna", "Hartini", "Suprapti",
    "Mariyam", "Khusnul", "Anik", "Titik", "Endah", "Yayuk", "Sulis", "Dwi", "Lina", "Wiwik", "Sukarti", "Mamik",
    "Ida", "Nanik", "Rohmah",
)  # fmt: skip
FEMALE_LAST = (
    "Astutik", "Rahayu", "Wahyuni", "Lestari", "Susilowati", "Handayani", "Purwaningsih", "Setyowati",
    "Kusumawati", "Fatimah", "Maslakhah", "Mujiati", "Suryani", "Indrawati", "Nurhayati", "Hidayati", "Marlina",
    "Sholikhah", "Wijayanti", "Sulistyowati",
)  # fmt: skip
MALE_FIRST = (
    "Slamet", "Agus", "Budi", "Heru", "Joko", "Bambang", "Hadi", "Imam", "Yusuf", "Hasan", "Rudi", "Eko", "Teguh",
    "Arif", "Sugeng", "Didik", "Ahmad", "Fauzi", "Sholeh", "Bagus", "Wahyu", "Priyo", "Hendra", "Anang", "Totok",
    "Gatot", "Rizal", "Dedy", "Kholil", "Mansur", "Samsul", "Ilham", "Nanang", "Yoyok",
)  # fmt: skip
MALE_LAST = (
    "Santoso", "Wibowo", "Prasetyo", "Hidayat", "Susanto", "Setiawan", "Kurniawan", "Saputra", "Hariyanto",
    "Firmansyah", "Syaifuddin", "Hakim", "Purnomo", "Wijaya", "Sutrisno", "Effendi", "Mulyono", "Rahman",
    "Suharto", "Maulana",
)  # fmt: skip
STREET_SUFFIX = (
    "",
    " Gg. 2",
    " Gg. 5",
    " Timur III",
    " Tengah",
    " Baru",
    " Indah Blok B",
    " Lor",
    " Kidul",
    " Gg. Buntu",
)
BANKS = (
    ("Bank Jatim", 10, 30),
    ("BRI", 15, 30),
    ("BNI", 10, 12),
    ("Bank Mandiri", 13, 12),
    ("BSI", 10, 8),
    ("BCA", 10, 8),
)
PHONE_PREFIXES = ("0812", "0813", "0821", "0822", "0852", "0853", "0856", "0857", "0878", "0895", "0896")
VERIFY_NOTES = (
    "NIB cocok dengan data OSS; survei lapangan sesuai.",
    "Dokumen lengkap, tempat usaha dikunjungi petugas kecamatan.",
    "Terverifikasi bersama pendamping UMKM kelurahan.",
    "NIB dan rekening atas nama pemilik sudah dicek.",
    "",
)
SUSPEND_NOTES = (
    "Keluhan pesanan terlambat berulang dari dua OPD; menunggu klarifikasi pemilik.",
    "NIB tidak aktif di OSS; mohon perbarui data perizinan.",
    "Produk tidak sesuai foto dan deskripsi; dibekukan sementara.",
    "Rekening bank tidak sesuai nama pemilik; mohon perbaiki.",
    "Pemilik meminta penangguhan sementara karena renovasi tempat usaha.",
)
REINSTATE_NOTES = ("Klarifikasi diterima, diaktifkan kembali.", "Data perizinan sudah diperbarui.")
SINCE_NOTES = (
    "Berdiri sejak {y}.",
    "Usaha keluarga sejak {y}.",
    "Mempekerjakan {n} warga sekitar.",
    "Binaan Dinkopumdag sejak {y}.",
    "Pernah ikut pameran UMKM Balai Kota {y}.",
)

# Fixed showcase UMKM at the start of the list: (name, owner, female, honorific, trade, kecamatan, kelurahan)
SHOWCASE = (
    ("Snack Bu Yuli", "Yuli Astutik", True, "Bu", "snack", "Genteng", "Ketabang"),
    ("Batik Kenongo", "Endah Kusumawati", True, "Bu", "batik", "Tambaksari", "Ploso"),
    ("Sepatu Cak Mat", "Rahmat Hidayat", False, "Cak", "sepatu", "Wonokromo", "Jagir"),
    ("Jahit Rapi Bu Endang", "Endang Sulistyowati", True, "Bu", "jahit", "Sawahan", "Putat Jaya"),
)


@dataclass
class _Owner:
    email: str
    full_name: str
    first: str
    honorific: str
    created_at: dt.datetime | None = None
    umkm_indices: list[int] = field(default_factory=list)


def _price(rng: random.Random, low: int, high: int) -> int:
    step = 500 if high <= 100_000 else 5_000 if high <= 1_000_000 else 25_000
    return low + step * rng.randint(0, (high - low) // step)


def _between(rng: random.Random, start: dt.datetime, end: dt.datetime) -> dt.datetime:
    span = max((end - start).total_seconds(), 0.0)
    return (start + dt.timedelta(seconds=rng.uniform(0, span))).replace(microsecond=0)


def _early(rng: random.Random, start: dt.datetime, end: dt.datetime) -> dt.datetime:
    """Like `_between` (one draw from `rng`), skewed to the start: most products are listed soon after sign-up."""
    span = max((end - start).total_seconds(), 0.0)
    return (start + dt.timedelta(seconds=span * rng.random() ** 3)).replace(microsecond=0)


def _digits(rng: random.Random, n: int) -> str:
    return "".join(str(rng.randrange(10)) for _ in range(n))


# ---------------------------------------------------------------- public


async def database_is_empty() -> bool:
    """True when there are no users, no OPD and no UMKM (reference kecamatan/kelurahan do not count)."""
    return not (await User.exists() or await Opd.exists() or await Umkm.exists())


async def seed_demo(seed: int = 2026) -> list[tuple[str, str, str]]:
    """Load believable Surabaya demo data into an EMPTY database (reference kecamatan/kelurahan already loaded by
    models.load_reference_data()). Returns [(role, email, password), ...] one login per role."""
    rng = random.Random(seed)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    password_hash = hash_password(DEMO_PASSWORD)  # argon2 is slow: once for every demo user

    async with in_transaction():
        if not await database_is_empty():
            raise RuntimeError("seed_demo needs an empty database (users, OPD or UMKM exist)")
        kecamatans = await Kecamatan.all().order_by("code")
        kelurahans = await Kelurahan.all().order_by("code")
        if not kecamatans or not kelurahans:
            raise RuntimeError("load the reference kecamatan/kelurahan first (models.load_reference_data())")
        kec_by_name = {k.name: k.id for k in kecamatans}
        kec_name_by_id = {k.id: k.name for k in kecamatans}
        kel_by_names = {(kec_name_by_id[k.kecamatan_id], k.name): k for k in kelurahans}

        category_ids = await _seed_categories()
        opd_ids = await _seed_opds(rng, kec_by_name, kel_by_names)

        # ---- staff users (one per role, plus extra buyers/treasurers)
        buyer_opd = opd_ids[BUYER_OPD]
        staff = [
            (Role.ADMIN, "admin", "Rina Kusumaningtyas", None),
            (Role.OPD_BUYER, "pembeli", "Agus Prasetyo", buyer_opd),
            (Role.OPD_TREASURER, "bendahara", "Sri Handayani", buyer_opd),
            (Role.EMPLOYEE, "asn", "Dewi Lestari", buyer_opd),
            (Role.ANALYST, "analis", "Bagus Wicaksono", None),
        ]
        for code in EXTRA_BUYER_OPDS:
            local = code.lower()
            staff.append(
                (Role.OPD_BUYER, f"pembeli.{local}", f"{rng.choice(MALE_FIRST)} {rng.choice(MALE_LAST)}", opd_ids[code])
            )
            staff.append(
                (
                    Role.OPD_TREASURER,
                    f"bendahara.{local}",
                    f"{rng.choice(FEMALE_FIRST)} {rng.choice(FEMALE_LAST)}",
                    opd_ids[code],
                )
            )
        staff_created = now - dt.timedelta(days=HISTORY_DAYS + 30)
        users = [
            User(
                email=f"{local}@{DEMO_DOMAIN}",
                password_hash=password_hash,
                full_name=name,
                role=role,
                opd_id=opd_id,
                created_at=staff_created,
            )
            for role, local, name, opd_id in staff
        ]

        # ---- UMKM plans (pure Python), then owners, then rows
        plans = _plan_umkms(rng, now, kelurahans, kel_by_names, kec_name_by_id)
        owners = _plan_owners(rng, plans)
        for owner in owners:
            users.append(
                User(
                    email=owner.email,
                    password_hash=password_hash,
                    full_name=owner.full_name,
                    role=Role.UMKM_OWNER,
                    created_at=owner.created_at,
                )
            )
        await User.bulk_create(users, batch_size=BATCH)
        user_ids = dict(await User.all().values_list("email", "id"))
        admin_id = user_ids[f"admin@{DEMO_DOMAIN}"]

        umkm_rows = []
        for owner in owners:
            for i in owner.umkm_indices:
                plans[i]["owner_id"] = user_ids[owner.email]
        for plan in plans:
            umkm_rows.append(Umkm(**{k: v for k, v in plan.items() if not k.startswith("_")}))
        await Umkm.bulk_create(umkm_rows, batch_size=BATCH)
        umkm_ids = dict(await Umkm.all().values_list("nib", "id"))

        served, changes, products = [], [], []
        for plan in plans:
            umkm_id = umkm_ids[plan["nib"]]
            served.extend(UmkmServedKecamatan(umkm_id=umkm_id, kecamatan_id=k) for k in plan["_served"])
            for from_status, to_status, at, actor, note in plan["_history"]:
                changes.append(
                    UmkmStatusChange(
                        umkm_id=umkm_id,
                        from_status=from_status,
                        to_status=to_status,
                        actor_id=plan["owner_id"] if actor == "owner" else admin_id,
                        note=note,
                        created_at=at,
                    )
                )
            products.extend(_products_for(rng, now, plan, umkm_id, category_ids))
        await UmkmServedKecamatan.bulk_create(served, batch_size=BATCH)
        await UmkmStatusChange.bulk_create(changes, batch_size=BATCH)
        await Product.bulk_create(products, batch_size=BATCH)

        await _seed_orders(rng, now, plans, umkm_ids, password_hash)
        # history was inserted directly: derive the maintained figures from it the way `pasar … rebuild` does
        await rebuild_monthly_sales(fix=True)
        await rebuild_stats(fix=True)
        await _seed_omzet(rng, now)

    return [
        (Role.ADMIN.value, f"admin@{DEMO_DOMAIN}", DEMO_PASSWORD),
        (Role.OPD_BUYER.value, f"pembeli@{DEMO_DOMAIN}", DEMO_PASSWORD),
        (Role.OPD_TREASURER.value, f"bendahara@{DEMO_DOMAIN}", DEMO_PASSWORD),
        (Role.EMPLOYEE.value, f"asn@{DEMO_DOMAIN}", DEMO_PASSWORD),
        (Role.UMKM_OWNER.value, f"umkm@{DEMO_DOMAIN}", DEMO_PASSWORD),
        (Role.ANALYST.value, f"analis@{DEMO_DOMAIN}", DEMO_PASSWORD),
    ]


# ---------------------------------------------------------------- steps


async def _seed_categories() -> dict[str, int]:
    """Insert the tree (top level, then children); returns slug -> id."""
    await Category.bulk_create(
        [Category(name=name, slug=slugify(name), description=desc) for name, desc, _ in CATEGORY_TREE], batch_size=BATCH
    )
    top_ids = dict(await Category.all().values_list("slug", "id"))
    children = [
        Category(name=child, slug=slugify(child), description=child_desc, parent_id=top_ids[slugify(name)])
        for name, _, kids in CATEGORY_TREE
        for child, child_desc in kids
    ]
    await Category.bulk_create(children, batch_size=BATCH)
    return dict(await Category.all().values_list("slug", "id"))


async def _seed_opds(
    rng: random.Random, kec_by_name: dict[str, int], kel_by_names: dict[tuple[str, str], Kelurahan]
) -> dict[str, int]:
    """Insert the OPD and their 2025/2026 pagu; returns code -> id."""
    opds = []
    for code, name, kind, kec, kel, address, _ in OPD_ROWS:
        kecamatan_id = kel_by_names[(kec, kel)].kecamatan_id if kel else kec_by_name[kec]
        opds.append(Opd(code=code, name=name, kind=kind, kecamatan_id=kecamatan_id, address=f"{address}, Surabaya"))
    await Opd.bulk_create(opds, batch_size=BATCH)
    opd_ids = dict(await Opd.all().values_list("code", "id"))
    budgets = []
    for code, *_, (low, high) in OPD_ROWS:
        amount = rng.randint(low, high) * 1_000_000  # whole juta rupiah
        for year in BUDGET_YEARS:
            budgets.append(OpdBudget(opd_id=opd_ids[code], year=year, amount=amount))
            amount = round(amount * rng.uniform(0.94, 1.12) / 1_000_000) * 1_000_000
            amount = min(max(amount, PAGU_MIN), PAGU_MAX)
    await OpdBudget.bulk_create(budgets, batch_size=BATCH)
    return opd_ids


def _plan_umkms(
    rng: random.Random,
    now: dt.datetime,
    kelurahans: list[Kelurahan],
    kel_by_names: dict[tuple[str, str], Kelurahan],
    kec_name_by_id: dict[int, str],
) -> list[dict]:
    """Every UMKM as a dict of Umkm fields plus private `_` keys (trade, history, served, people)."""
    n_free = UMKM_COUNT - len(SHOWCASE)
    trades = rng.choices([t.key for t in TRADES], weights=[t.weight for t in TRADES], k=n_free)
    # every kelurahan gets at least one UMKM; the rest fall anywhere
    places = list(kelurahans) + rng.choices(kelurahans, k=n_free - len(kelurahans))
    rng.shuffle(places)
    # statuses: ~85% verified, ~10% pending, ~5% suspended (showcase ones are verified)
    n_pending, n_suspended = round(UMKM_COUNT * 0.10), round(UMKM_COUNT * 0.05)
    statuses = [UmkmStatus.PENDING] * n_pending + [UmkmStatus.SUSPENDED] * n_suspended
    statuses += [UmkmStatus.VERIFIED] * (n_free - len(statuses))
    rng.shuffle(statuses)
    all_kec_ids = sorted(kec_name_by_id)

    plans: list[dict] = []
    used_nibs: set[str] = set()
    for i in range(UMKM_COUNT):
        if i < len(SHOWCASE):
            name, owner_name, female, honorific, trade_key, kec, kel_name = SHOWCASE[i]
            kel = kel_by_names[(kec, kel_name)]
            status = UmkmStatus.VERIFIED
            person = False
        else:
            j = i - len(SHOWCASE)
            trade_key, kel, status = trades[j], places[j], statuses[j]
            name, owner_name, female, honorific = "", "", False, ""
            person = True
        trade = TRADE_BY_KEY[trade_key]
        kec_name = kec_name_by_id[kel.kecamatan_id]
        if person:
            female = rng.random() < trade.female_share
            first = rng.choice(FEMALE_FIRST if female else MALE_FIRST)
            owner_name = f"{first} {rng.choice(FEMALE_LAST if female else MALE_LAST)}"
            honorific = rng.choice(("Bu", "Bu", "Mbak", "Ning") if female else ("Pak", "Cak", "Cak", "Mas"))

        nib = ""
        while not nib or nib in used_nibs:
            nib = rng.choice(("81", "91", "02", "12")) + _digits(rng, 11)
        used_nibs.add(nib)

        if status is UmkmStatus.PENDING:
            created = now - dt.timedelta(days=rng.uniform(1, 45))
        elif status is UmkmStatus.SUSPENDED:
            created = now - dt.timedelta(days=rng.uniform(120, HISTORY_DAYS))
        else:
            created = now - dt.timedelta(days=rng.uniform(20, HISTORY_DAYS))
        created = created.replace(microsecond=0)

        history = [(None, UmkmStatus.PENDING, created, "owner", "registered")]
        verified_at = None
        if status is not UmkmStatus.PENDING:
            verified_at = min(created + dt.timedelta(days=rng.uniform(1, 14)), now - dt.timedelta(days=2))
            verified_at = verified_at.replace(microsecond=0)
            history.append((UmkmStatus.PENDING, UmkmStatus.VERIFIED, verified_at, "admin", rng.choice(VERIFY_NOTES)))
            if status is UmkmStatus.SUSPENDED:
                at = _between(rng, verified_at + dt.timedelta(days=30), now - dt.timedelta(days=1))
                history.append((UmkmStatus.VERIFIED, UmkmStatus.SUSPENDED, at, "admin", rng.choice(SUSPEND_NOTES)))
            elif i >= len(SHOWCASE) and rng.random() < 0.04 and (now - verified_at).days > 90:
                at = _between(rng, verified_at + dt.timedelta(days=20), now - dt.timedelta(days=40))
                back = _between(rng, at + dt.timedelta(days=3), at + dt.timedelta(days=30))
                history.append((UmkmStatus.VERIFIED, UmkmStatus.SUSPENDED, at, "admin", rng.choice(SUSPEND_NOTES)))
                history.append((UmkmStatus.SUSPENDED, UmkmStatus.VERIFIED, back, "admin", rng.choice(REINSTATE_NOTES)))

        city_wide = i == 0 or (i >= len(SHOWCASE) and rng.random() < 0.30)
        served: list[int] = []
        if not city_wide and rng.random() < 0.35:
            others = [k for k in all_kec_ids if k != kel.kecamatan_id]
            served = sorted(rng.sample(others, rng.randint(1, 4)))

        roll = rng.random()
        scale = Scale.MIKRO if roll < 0.78 else Scale.KECIL if roll < 0.96 else Scale.MENENGAH
        bank, digits, _ = rng.choices(BANKS, weights=[b[2] for b in BANKS])[0]
        extra = rng.choice(SINCE_NOTES).format(y=rng.randint(2005, 2023), n=rng.randint(2, 12))
        plans.append(
            {
                "name": name,
                "nib": nib,
                "owner_name": owner_name,
                "phone": rng.choice(PHONE_PREFIXES) + _digits(rng, rng.choice((7, 8))),
                "address": f"Jl. {kel.name}{rng.choice(STREET_SUFFIX)} No. {rng.randint(1, 180)}, Surabaya",
                "kelurahan_id": kel.id,
                "kecamatan_id": kel.kecamatan_id,
                "serves_city_wide": city_wide,
                "scale": scale,
                "scale_source": ScaleSource.DECLARED,
                "status": status,
                "verified_at": verified_at,
                "bank_name": bank,
                "bank_account": _digits(rng, digits),
                "bank_account_name": owner_name.upper(),
                "created_at": created,
                "_trade": trade_key,
                "_showcase": not person,
                "_n_products": PRODUCT_COUNT // UMKM_COUNT,
                "_female": female,
                "_honorific": honorific,
                "_kel_name": kel.name,
                "_kec_name": kec_name,
                "_extra": extra,
                "_history": history,
                "_served": served,
            }
        )

    # about five products each (3 to 7, as the trade allows), exactly PRODUCT_COUNT in all
    for _ in range(UMKM_COUNT // 2):
        give, take = rng.sample(plans[len(SHOWCASE) :], 2)
        room = min(7, len(TRADE_BY_KEY[take["_trade"]].items))
        if give["_n_products"] > 3 and take["_n_products"] < room:
            give["_n_products"] -= 1
            take["_n_products"] += 1
    # business names and descriptions need the owner: _plan_owners fills them
    return plans


def _plan_owners(rng: random.Random, plans: list[dict]) -> list[_Owner]:
    """Most owners run one UMKM, a few run two; umkm@ runs exactly the first (verified) one."""
    first_free = len(SHOWCASE)
    rest = list(range(first_free, len(plans)))
    rng.shuffle(rest)
    n_pairs = 12
    groups = [[i] for i in range(first_free)]
    groups += [sorted(rest[2 * k : 2 * k + 2]) for k in range(n_pairs)]
    groups += [[i] for i in rest[2 * n_pairs :]]
    groups.sort(key=lambda g: g[0])

    used_names = {s[0] for s in SHOWCASE}
    owners: list[_Owner] = []
    n = 0
    for group in groups:
        lead = plans[group[0]]
        if group[0] == 0:
            email = f"umkm@{DEMO_DOMAIN}"
        else:
            n += 1
            email = f"owner{n}@{DEMO_DOMAIN}"
        owner = _Owner(
            email=email,
            full_name=lead["owner_name"],
            first=lead["owner_name"].split()[0],
            honorific=lead["_honorific"],
            created_at=min(plans[i]["created_at"] for i in group),
            umkm_indices=group,
        )
        for i in group:
            plan = plans[i]
            plan["owner_name"] = owner.full_name
            plan["bank_account_name"] = owner.full_name.upper()
            if i >= first_free:
                plan["name"] = _business_name(rng, plan, owner, used_names)
            trade = TRADE_BY_KEY[plan["_trade"]]
            plan["description"] = (
                f"{plan['name']} di Kelurahan {plan['_kel_name']}, Kecamatan {plan['_kec_name']}. {trade.about} "
                f"{plan['_extra']}"
            )
        owners.append(owner)
    return owners


def _business_name(rng: random.Random, plan: dict, owner: _Owner, used: set[str]) -> str:
    trade = TRADE_BY_KEY[plan["_trade"]]
    person = f"{owner.honorific} {owner.first}"
    for _ in range(12):
        name = rng.choice(trade.names).format(p=person, b=rng.choice(trade.brands), k=plan["_kel_name"])
        if name not in used:
            break
    else:
        name = f"{name} {plan['_kel_name']}"
        if name in used:
            name = f"{name} {plan['nib'][-3:]}"
    used.add(name)
    return name


def _products_for(
    rng: random.Random, now: dt.datetime, plan: dict, umkm_id: int, category_ids: dict[str, int]
) -> list[Product]:
    """The UMKM's products, drawn from its trade's templates."""
    trade = TRADE_BY_KEY[plan["_trade"]]
    items = rng.sample(trade.items, min(plan["_n_products"], len(trade.items)))
    boost = {Scale.MIKRO: 1, Scale.KECIL: 2, Scale.MENENGAH: 4}[plan["scale"]]
    showcase = plan["_showcase"]
    out = []
    for item in items:
        variant = rng.choice(item.variants)
        name = item.name.format(v=variant).strip()
        description = item.description.format(v=variant.lower() if variant else "").replace("  ", " ")
        if item.made_to_order:
            stock, capacity = 0, rng.randint(*item.capacity) * boost
        else:
            low, high = item.stock
            stock = 0 if rng.random() < 0.05 and not showcase else rng.randint(max(low, 1), high) * boost
            capacity = None
        out.append(
            Product(
                umkm_id=umkm_id,
                category_id=category_ids[item.category],
                name=name,
                description=description,
                unit=item.unit,
                price=_price(rng, *item.price),
                image_urls=[],
                options=list(item.options),
                made_to_order=item.made_to_order,
                stock=stock,
                monthly_capacity=capacity,
                lead_time_days=rng.randint(*item.lead),
                min_order_quantity=rng.randint(*item.min_order),
                active=showcase or rng.random() >= 0.03,
                created_at=_early(rng, plan["created_at"], now),
            )
        )
    return out


# ---------------------------------------------------------------- order history
#
# A year of orders as it goes without a fairness policy: buyers return to the sellers they know, so a few popular
# UMKM take most of the money and about half of the verified ones never sell. Each order draws from its own
# `random.Random` (seeded from the main one), so a change of "now" (weekday, month) changes only that order.

JAKARTA = ZoneInfo("Asia/Jakarta")
ORDER_COUNT = 5000  # planned over the last ORDER_DAYS; a few fall out (seller not yet verified, capacity full)
ORDER_DAYS = 365
PERSONAL_SHARE = 0.05  # personal orders by employees
SELLER_SHARE = 0.55  # verified UMKM that ever get an order
ZIPF_S = 1.4  # popularity of the sellers by rank: 1 / rank ** ZIPF_S
LATE_PAYERS = 4  # OPD whose treasurer pays 30 to 75 days after delivery
EXTRA_EMPLOYEE_OPDS = ("DINKES", "SETDA", "BAPPEDALITBANG", "KEC-GENTENG", "DISKOMINFO", "RSUD-SOEWANDHIE")
FOOD_TRADES = frozenset({"snack", "nasi", "catering"})

# What an OPD buys from each trade (relative weight per order, before a seller's popularity)
TRADE_DEMAND = {
    "snack": 3.0,
    "nasi": 3.0,
    "batik": 1.0,
    "sepatu": 0.4,
    "jahit": 0.6,
    "kerajinan": 0.8,
    "atk": 1.2,
    "laundry": 0.4,
    "cleaning": 0.3,
    "catering": 0.8,
}
PERSONAL_DEMAND = {
    "snack": 0.4,
    "nasi": 0.3,
    "batik": 5.0,
    "sepatu": 2.0,
    "jahit": 1.0,
    "kerajinan": 1.0,
    "atk": 0.1,
    "laundry": 0.8,
    "cleaning": 0.0,
    "catering": 0.1,
}
MONTH_SEASON = {1: 0.7, 2: 0.85, 3: 0.9, 4: 1.0, 5: 1.05, 6: 1.1, 7: 1.15, 8: 1.15, 9: 1.0, 10: 1.05, 11: 1.15, 12: 1.3}
SCHOOL_MONTHS = (6, 7, 8)  # new school year: uniforms and shoes
WEEKDAY_WEIGHT = (1.0, 1.0, 1.0, 1.0, 0.8, 0.08, 0.02)  # Monday .. Sunday, for OPD buyers

# Quantity per line for OPD orders: first matching name fragment, else the category; then at least the minimum.
QTY_BY_NAME: tuple[tuple[str, tuple[int, int]], ...] = (
    ("Tumpeng Nasi Kuning", (1, 4)),
    ("Tumpeng Mini", (20, 100)),
    ("Kue Basah Satuan", (50, 300)),
    ("Spiku", (20, 120)),
    ("Custom", (2, 12)),
    ("Kain Batik", (2, 20)),
    ("Seragam Batik Kamis", (20, 120)),
    ("Vermak", (5, 40)),
    ("Jahit Kemeja Batik", (5, 30)),
    ("Goodie Bag", (50, 300)),
    ("Tumbler", (24, 150)),
    ("Plakat", (1, 10)),
    ("Hampers", (5, 40)),
    ("Miniatur", (2, 20)),
    ("Kertas HVS", (5, 50)),
    ("Map Snelhecter", (2, 20)),
    ("Paket ATK", (20, 100)),
    ("Kartu Nama", (1, 10)),
    ("Stempel", (1, 5)),
    ("Banner", (1, 8)),
    ("Fotokopi", (10, 150)),
    ("Undangan", (1, 5)),
    ("Sertifikat", (30, 300)),
    ("Tinta", (2, 12)),
    ("Laundry Kiloan", (4, 40)),
    ("Laundry Seragam", (10, 80)),
    ("Karpet", (1, 8)),
    ("Linen", (2, 20)),
    ("Gorden", (1, 10)),
    ("Cleaning Service Harian", (5, 22)),
    ("Deep Cleaning", (1, 6)),
    ("Cuci AC", (4, 30)),
    ("Pasca Acara", (1, 2)),
    ("Fogging", (1, 4)),
    ("Prasmanan", (50, 300)),
)
QTY_BY_CATEGORY = {
    "snack-box": (20, 150),
    "nasi-kotak": (20, 150),
    "tumpeng": (1, 4),
    "batik": (5, 40),
    "sepatu-sekolah": (10, 60),
    "pantofel": (10, 60),
    "sepatu": (10, 60),
    "seragam-jasa-jahit": (10, 80),
    "kerajinan-souvenir": (5, 50),
    "atk-cetak": (5, 50),
    "laundry": (2, 20),
    "cleaning-service": (1, 10),
    "catering": (20, 200),
}
PERSONAL_QTY = {"snack-box": (20, 40), "nasi-kotak": (10, 30), "catering": (20, 40), "laundry": (1, 4)}

ORDER_NOTES = {
    "food": (
        "Konsumsi rapat koordinasi.",
        "Rapat evaluasi triwulan.",
        "Sosialisasi program ke warga.",
        "Pelatihan pegawai, dua sesi.",
        "Musrenbang kelurahan.",
        "Pengajian rutin kantor.",
        "Mohon diantar sebelum pukul 09.00.",
        "Mohon 5 box dipisah untuk yang vegetarian.",
    ),
    "jahit": (
        "Seragam siswa baru; daftar ukuran menyusul via WA.",
        "Bordir logo di dada kiri.",
        "Untuk petugas lapangan.",
        "Mohon ukur di sekolah hari Senin.",
    ),
    "service": (
        "Mohon konfirmasi jadwal lewat telepon.",
        "Dikerjakan hari Sabtu saat kantor libur.",
        "Area lantai 2 dan 3.",
    ),
    "goods": (
        "Untuk tamu kunjungan kerja.",
        "Kebutuhan kantor bulan ini.",
        "Untuk kegiatan Hari Jadi Kota Surabaya.",
        "Mohon sertakan nota/kuitansi.",
        "Kirim ke bagian umum.",
    ),
    "personal": ("Untuk batik Kamis.", "Titip di pos satpam kantor.", "Ukuran sesuai pilihan.", ""),
}
ADDRESS_PREFIXES = ("", "", "", "Ruang Rapat Lt. 2, ", "Aula, ", "Bagian Umum, ", "Sekretariat, ")
REJECT_REASONS = (
    "Kapasitas produksi untuk tanggal tersebut sudah penuh.",
    "Bahan baku sedang kosong, mohon maaf.",
    "Waktu terlalu mepet untuk jumlah pesanan ini.",
    "Ada keperluan keluarga pada tanggal tersebut, tidak bisa produksi.",
    "Alamat pengiriman di luar jangkauan kami untuk jumlah ini.",
)
CANCEL_REASONS = (
    "Acara ditunda.",
    "Salah input jumlah, akan pesan ulang.",
    "Anggaran kegiatan direvisi.",
    "Rapat dibatalkan pimpinan.",
    "Sudah dipenuhi dari pos lain.",
)
RATING_COMMENTS = {
    5: (
        "Tepat waktu dan rapi, terima kasih.",
        "Rasanya enak, peserta rapat puas.",
        "Kualitas bagus, sesuai pesanan.",
        "Pelayanan ramah, akan pesan lagi.",
        "",
        "",
    ),
    4: ("Bagus, pengiriman sedikit terlambat.", "Sesuai pesanan.", "Kemasan bisa lebih rapi.", "", ""),
    3: ("Cukup, ada beberapa yang kurang.", "Terlambat hampir satu jam.", "Ukuran ada yang tidak pas, sudah ditukar."),
    2: ("Jumlah kurang dua, dikirim susulan.", "Terlambat dan kurang rapi."),
    1: ("Tidak sesuai pesanan.",),
}


@dataclass
class _Seller:
    umkm_id: int
    owner_id: int
    trade: str
    windows: list[tuple[dt.datetime, dt.datetime]]  # while VERIFIED
    popularity: float = 0.0
    rank: int = 0  # in its trade, 0 = most popular

    def open_at(self, at: dt.datetime) -> bool:
        return any(start <= at < end for start, end in self.windows)


@dataclass
class _Line:
    product: dict
    option: str | None
    quantity: int


@dataclass
class _Planned:
    kind: OrderKind
    opd_id: int
    buyer_id: int
    seller: _Seller
    lines: list[_Line]
    needed_by: dt.date
    address: str
    note: str
    times: dict[OrderStatus, dt.datetime]  # every transition that happened, in order
    closed_reason: str = ""
    received_by: str | None = None
    payer_id: int | None = None
    reference: str = ""
    rating: tuple[int, str, dt.datetime] | None = None
    id: int = 0

    @property
    def status(self) -> OrderStatus:
        return list(self.times)[-1]

    @property
    def created(self) -> dt.datetime:
        return self.times[OrderStatus.SUBMITTED]


def _jakarta(day: dt.date, hours: float) -> dt.datetime:
    """UTC time of `hours` after midnight of `day` in Asia/Jakarta, whole seconds."""
    at = dt.datetime.combine(day, dt.time(), JAKARTA) + dt.timedelta(seconds=round(hours * 3600))
    return at.astimezone(dt.UTC)


def _opd_demand(code: str, kind: OpdKind) -> dict[str, float]:
    demand = dict(TRADE_DEMAND)
    boosts: dict[str, float] = {}
    if kind is OpdKind.SEKOLAH or code == "DISPENDIK":
        boosts = {"jahit": 4, "sepatu": 5, "batik": 1.5, "atk": 1.5}
    elif kind is OpdKind.RSUD or code == "DINKES":
        boosts = {"laundry": 5, "cleaning": 4, "catering": 2}
    elif kind in (OpdKind.KECAMATAN, OpdKind.KELURAHAN):
        boosts = {"snack": 1.5, "nasi": 1.5, "kerajinan": 0.5, "cleaning": 1.5}
    elif code in ("SETDA", "SETWAN", "DISBUDPORAPAR"):
        boosts = {"kerajinan": 2.5, "catering": 2}
    elif code in ("SATPOL-PP", "DPKP", "DISHUB"):
        boosts = {"jahit": 2.5, "sepatu": 2.5}
    for trade, factor in boosts.items():
        demand[trade] *= factor
    return demand


def _quantity(rng: random.Random, product: dict, personal: bool, big: bool) -> int:
    """Units of one line; `big` sellers (the leaders of their trade) get the larger orders."""
    name, category = product["name"], product["category"]
    if personal:
        low, high = PERSONAL_QTY.get(category, (1, 3))
    else:
        low, high = next((r for frag, r in QTY_BY_NAME if frag in name), None) or QTY_BY_CATEGORY.get(category, (1, 20))
    q = round(low + (high - low) * rng.random() ** (1.0 if big else 1.7))  # small orders are the common ones
    if q >= 20 and rng.random() < 0.7:
        q = round(q / 5) * 5  # buyers order round numbers for 25, 40, 100 people
    return max(q, product["min_order_quantity"])


async def _seed_orders(
    rng: random.Random, now: dt.datetime, plans: list[dict], umkm_ids: dict[str, int], password_hash: str
) -> None:
    """A year of orders before `now` with items, events, payments, ratings and the capacity open orders hold."""
    opds = await Opd.all().order_by("id").values("id", "code", "kind", "address")
    buyers, treasurers, employees = await _order_people(rng, opds, password_hash, now)
    pagu = dict(await OpdBudget.filter(year=BUDGET_YEARS[0]).values_list("opd_id", "amount"))
    by_trade = _rank_sellers(rng, now, plans, umkm_ids)
    by_seller = await _products_by_seller([s for group in by_trade.values() for s in group])

    # who pays how fast: most OPD in 3 to 20 days, a few late payers 30 to 75 days
    candidates = [o for o in opds if o["kind"] in (OpdKind.DINAS, OpdKind.BADAN, OpdKind.RSUD, OpdKind.SEKRETARIAT)]
    late = {o["id"] for o in rng.sample([o for o in candidates if o["code"] != BUYER_OPD], LATE_PAYERS)}
    pay_days = {
        o["id"]: (rng.uniform(38, 58), 10.0, 30, 75) if o["id"] in late else (rng.uniform(5, 11), 3.5, 3, 20)
        for o in opds
    }
    opd_weights = [pagu.get(o["id"], PAGU_MIN) ** 0.5 for o in opds]
    demand: dict[int | None, dict[str, float]] = {o["id"]: _opd_demand(o["code"], o["kind"]) for o in opds}
    opd_by_id = {o["id"]: o for o in opds}

    today = now.astimezone(JAKARTA).date()
    days = [today - dt.timedelta(days=d) for d in range(ORDER_DAYS)]
    trend = [0.65 + 0.5 * (ORDER_DAYS - d) / ORDER_DAYS for d in range(ORDER_DAYS)]  # the platform grows
    day_cum: dict[bool, list[float]] = {}
    for personal in (False, True):
        acc, cum = 0.0, []
        for day, grow in zip(days, trend, strict=True):
            week = 0.8 if personal and day.weekday() >= 5 else 1.0 if personal else WEEKDAY_WEIGHT[day.weekday()]
            acc += week * grow * MONTH_SEASON[day.month]
            cum.append(acc)
        day_cum[personal] = cum

    market = _Market(by_trade, {**demand, None: PERSONAL_DEMAND})

    n_personal = round(ORDER_COUNT * PERSONAL_SHARE)
    planned: list[_Planned] = []
    for n in range(ORDER_COUNT):
        orng = random.Random(rng.getrandbits(64))
        personal = n < n_personal
        if personal:
            # asn@ (the first employee) buys most; the others now and then
            buyer_id, opd_id, receiver = (
                employees[0] if orng.random() < 0.4 else orng.choice(employees[1:] or employees)
            )
        else:
            opd_id = orng.choices(opds, weights=opd_weights)[0]["id"]
            buyer_id, receiver = orng.choice(buyers[opd_id]), None
        order = _plan_order(
            orng, now, personal, opd_by_id[opd_id], buyer_id, days, day_cum[personal], market, by_seller
        )
        if order is None:
            continue
        order.payer_id = buyer_id if personal else treasurers[opd_id]
        _plan_life(orng, now, order, pay_days[opd_id], receiver)
        planned.append(order)

    planned.sort(key=lambda o: (o.created, o.buyer_id))
    capacity = _hold_capacity(planned)
    planned = [o for o in planned if o.lines]
    _payment_references(planned)
    await _insert_orders(planned, capacity)


async def _order_people(
    rng: random.Random, opds: list[dict], password_hash: str, now: dt.datetime
) -> tuple[dict[int, list[int]], dict[int, int], list[tuple[int, int, str]]]:
    """A buyer and a treasurer for every OPD lacking one, a few more employees; returns who buys and pays for whom:
    OPD id -> buyer ids, OPD id -> treasurer id, [(employee id, OPD id, name)] with asn@ first."""
    rows = await User.filter(opd_id__isnull=False).order_by("id").values("role", "opd_id")
    has = {(Role(r["role"]), r["opd_id"]) for r in rows}
    created = now - dt.timedelta(days=HISTORY_DAYS + 30)

    def person(female: bool) -> str:
        return (
            f"{rng.choice(FEMALE_FIRST)} {rng.choice(FEMALE_LAST)}"
            if female
            else f"{rng.choice(MALE_FIRST)} {rng.choice(MALE_LAST)}"
        )

    new = []
    for opd in opds:
        local = opd["code"].lower()
        for role, prefix, female_share in ((Role.OPD_BUYER, "pembeli", 0.4), (Role.OPD_TREASURER, "bendahara", 0.7)):
            if (role, opd["id"]) not in has:
                new.append((role, f"{prefix}.{local}", person(rng.random() < female_share), opd["id"]))
    opd_id_by_code = {o["code"]: o["id"] for o in opds}
    for code in EXTRA_EMPLOYEE_OPDS:
        new.append((Role.EMPLOYEE, f"asn.{code.lower()}", person(rng.random() < 0.55), opd_id_by_code[code]))
    await User.bulk_create(
        [
            User(
                email=f"{local}@{DEMO_DOMAIN}",
                password_hash=password_hash,
                full_name=name,
                role=role,
                opd_id=opd_id,
                created_at=created,
            )
            for role, local, name, opd_id in new
        ],
        batch_size=BATCH,
    )
    buyers: dict[int, list[int]] = {}
    treasurers: dict[int, int] = {}
    employees: list[tuple[int, int, str]] = []
    for r in (
        await User.filter(opd_id__isnull=False, active=True).order_by("id").values("id", "role", "opd_id", "full_name")
    ):
        role = Role(r["role"])
        if role is Role.OPD_BUYER:
            buyers.setdefault(r["opd_id"], []).append(r["id"])
        elif role is Role.OPD_TREASURER:
            treasurers.setdefault(r["opd_id"], r["id"])
        elif role is Role.EMPLOYEE:
            employees.append((r["id"], r["opd_id"], r["full_name"]))
    return buyers, treasurers, employees


def _rank_sellers(
    rng: random.Random, now: dt.datetime, plans: list[dict], umkm_ids: dict[str, int]
) -> dict[str, list[_Seller]]:
    """Trade -> its sellers, most popular first. Long-verified UMKM tend to lead; umkm@'s UMKM comes second in its
    trade. Only the first SELLER_SHARE of each trade's verified UMKM ever get an order, by a Zipf popularity."""
    ranked: list[tuple[float, _Seller]] = []
    for i, plan in enumerate(plans):
        if plan["status"] is not UmkmStatus.VERIFIED:
            continue
        windows, start = [], None
        for _from, to, at, *_ in plan["_history"]:
            if to is UmkmStatus.VERIFIED and start is None:
                start = at
            elif to is not UmkmStatus.VERIFIED and start is not None:
                windows.append((start, at))
                start = None
        if start is not None:
            windows.append((start, now + dt.timedelta(days=1)))
        seller = _Seller(umkm_ids[plan["nib"]], plan["owner_id"], plan["_trade"], windows)
        years = (now - plan["verified_at"]).days / 365
        key = 2.0 if i == 0 else rng.random() ** (1 / (0.25 + min(years, 1.5)))
        ranked.append((key, seller))
    ranked.sort(key=lambda r: -r[0])
    by_trade: dict[str, list[_Seller]] = {}
    for _, seller in ranked:
        by_trade.setdefault(seller.trade, []).append(seller)
    out: dict[str, list[_Seller]] = {}
    for trade, group in sorted(by_trade.items()):
        if ranked and group[0] is ranked[0][1] and len(group) > 1:
            group.insert(1, group.pop(0))  # umkm@ (plans[0], key 2.0)
        group = group[: max(1, round(len(group) * SELLER_SHARE))]
        for rank, seller in enumerate(group):
            seller.popularity = 1 / (rank + 1) ** ZIPF_S
            seller.rank = rank
        out[trade] = group
    return out


class _Market:
    """Picks the seller of an order: the trade by what the buyer needs that month, then a seller of that trade by
    popularity, among those verified by the end of the month (the caller checks the exact day)."""

    def __init__(self, by_trade: dict[str, list[_Seller]], demand: dict[int | None, dict[str, float]]) -> None:
        self.by_trade = by_trade
        self.trades = sorted(by_trade)
        self.demand = demand  # OPD id, or None for personal orders -> weight per trade
        self._trade_cum: dict[tuple[int | None, int, int], list[float]] = {}
        self._seller_cum: dict[tuple[str, int, int], list[float]] = {}

    def sellers_cum(self, trade: str, day: dt.date) -> list[float]:
        key = (trade, day.year, day.month)
        if key not in self._seller_cum:
            month_end = _jakarta(day.replace(day=28) + dt.timedelta(days=4), 0)
            acc, cum = 0.0, []
            for seller in self.by_trade[trade]:
                acc += seller.popularity if seller.windows and seller.windows[0][0] < month_end else 0.0
                cum.append(acc)
            self._seller_cum[key] = cum
        return self._seller_cum[key]

    def pick(self, rng: random.Random, buyer: int | None, day: dt.date) -> _Seller | None:
        key = (buyer, day.year, day.month)
        if key not in self._trade_cum:
            acc, cum = 0.0, []
            for trade in self.trades:
                weight = self.demand[buyer].get(trade, 0.0)
                if day.month in SCHOOL_MONTHS and trade in ("jahit", "sepatu"):
                    weight *= 2.5
                acc += weight if self.sellers_cum(trade, day)[-1] > 0 else 0.0
                cum.append(acc)
            self._trade_cum[key] = cum
        if self._trade_cum[key][-1] <= 0:
            return None
        trade = rng.choices(self.trades, cum_weights=self._trade_cum[key])[0]
        return rng.choices(self.by_trade[trade], cum_weights=self.sellers_cum(trade, day))[0]


async def _products_by_seller(sellers: list[_Seller]) -> dict[int, tuple[list[dt.datetime], list[dict]]]:
    """UMKM id -> (listing times, active products) in listing order, each with its category slug."""
    slugs = dict(await Category.all().values_list("id", "slug"))
    rows = (
        await Product.filter(active=True, umkm_id__in=[s.umkm_id for s in sellers])
        .order_by("created_at", "id")
        .values(
            "id",
            "umkm_id",
            "category_id",
            "name",
            "unit",
            "price",
            "options",
            "made_to_order",
            "monthly_capacity",
            "lead_time_days",
            "min_order_quantity",
            "created_at",
        )
    )
    out: dict[int, tuple[list[dt.datetime], list[dict]]] = {}
    for row in rows:
        row["category"] = slugs[row["category_id"]]
        times, products = out.setdefault(row["umkm_id"], ([], []))
        times.append(row["created_at"])
        products.append(row)
    return out


def _note_kind(trade: str, personal: bool) -> str:
    if personal:
        return "personal"
    if trade in FOOD_TRADES:
        return "food"
    if trade in ("laundry", "cleaning"):
        return "service"
    return "jahit" if trade == "jahit" else "goods"


def _plan_order(
    rng: random.Random,
    now: dt.datetime,
    personal: bool,
    opd: dict,
    buyer_id: int,
    days: list[dt.date],
    day_cum: list[float],
    market: _Market,
    by_seller: dict[int, tuple[list[dt.datetime], list[dict]]],
) -> _Planned | None:
    """Day, seller, lines and needed-by date of one order; None when no seller could take it then."""
    day = rng.choices(days, cum_weights=day_cum)[0]
    hours = rng.uniform(6, 22) if personal else rng.uniform(7.5, 16)
    created = _jakarta(day, hours)
    if created >= now:
        created = now - dt.timedelta(minutes=rng.randint(5, 600))
    for _ in range(40):
        seller = market.pick(rng, None if personal else opd["id"], created.astimezone(JAKARTA).date())
        if seller is None:
            return None
        if not seller.open_at(created) or seller.umkm_id not in by_seller:
            continue
        times, products = by_seller[seller.umkm_id]
        pool = products[: bisect_right(times, created)]
        if personal:
            pool = [p for p in pool if p["min_order_quantity"] <= 30]
        if pool:
            break
    else:
        return None

    n_lines = rng.choices((1, 2, 3), weights=(70, 22, 8) if personal else (50, 32, 18))[0]
    lines: list[_Line] = []
    seen: set[tuple[int, str | None]] = set()
    product = rng.choice(pool)
    for _ in range(n_lines):
        option = rng.choice(product["options"]) if product["options"] else None
        if (product["id"], option) not in seen:
            seen.add((product["id"], option))
            quantity = _quantity(rng, product, personal, seller.rank < 3)
            if product["made_to_order"]:
                quantity = min(quantity, product["monthly_capacity"] or 0)
            if quantity >= product["min_order_quantity"]:
                lines.append(_Line(product, option, quantity))
        # the next line: another size of the same product, or another product
        if not (product["options"] and rng.random() < 0.6):
            product = rng.choice(pool)
    if not lines:
        return None

    lead = max(line.product["lead_time_days"] for line in lines)
    if seller.trade in FOOD_TRADES:
        extra = rng.choice((0, 0, 1, 1, 2, 3, 5, 7))
    elif lead >= 7:
        extra = rng.randint(0, 21)
    else:
        extra = rng.randint(0, 10)
    needed_by = created.astimezone(JAKARTA).date() + dt.timedelta(days=max(lead, 1) + extra)
    note = rng.choice(ORDER_NOTES[_note_kind(seller.trade, personal)]) if rng.random() < 0.55 else ""
    address = opd["address"] if personal else rng.choice(ADDRESS_PREFIXES) + opd["address"]
    return _Planned(
        kind=OrderKind.PERSONAL if personal else OrderKind.OPD,
        opd_id=opd["id"],
        buyer_id=buyer_id,
        seller=seller,
        lines=lines,
        needed_by=needed_by,
        address=address,
        note=note,
        times={OrderStatus.SUBMITTED: created},
    )


def _plan_life(
    rng: random.Random, now: dt.datetime, order: _Planned, pay: tuple[float, float, int, int], receiver: str | None
) -> None:
    """What happened to the order up to `now`: every draw is made whatever `now` is, then cut at `now`.
    `receiver` signs the BAST of a personal order (the employee); an OPD's is one of its staff."""
    created = order.created
    personal = order.kind is OrderKind.PERSONAL
    roll = rng.random()
    late = rng.choices((0, 1, 2), weights=(88, 9, 3))[0]
    arrived = _jakarta(order.needed_by + dt.timedelta(days=late), rng.uniform(8, 15))
    # a seller says no, or the buyer calls it off, well before the goods would come
    reject_at = created + min(dt.timedelta(hours=rng.uniform(0.3, 30)), (arrived - created) * 0.5)
    cancel_at = created + min(dt.timedelta(hours=rng.uniform(0.5, 60)), (arrived - created) * 0.6)
    reject_reason, cancel_reason = rng.choice(REJECT_REASONS), rng.choice(CANCEL_REASONS)

    food = order.seller.trade in FOOD_TRADES
    gap = dt.timedelta(hours=rng.uniform(0.5, 3) if food else rng.uniform(4, 72))
    shipped = arrived - min(gap, (arrived - created) * 0.5)
    # the buyer confirms (BAST) on arrival, or some days later when the paperwork waits
    delivered = arrived + dt.timedelta(days=rng.randint(2, 12) if rng.random() < 0.1 else 0)
    r = rng.random()
    delay = dt.timedelta(
        hours=rng.uniform(0.2, 4) if r < 0.4 else rng.uniform(4, 24) if r < 0.7 else rng.uniform(24, 120)
    )
    accepted = created + delay
    if accepted >= shipped - dt.timedelta(minutes=10):
        accepted = created + (shipped - created) * rng.uniform(0.2, 0.6)

    if personal:
        wait = rng.choices((0, 1, 2, 3), weights=(45, 30, 15, 10))[0]
        never = False
    else:
        base, spread, low, high = pay
        wait = min(max(round(rng.gauss(base, spread)), low), high)
        never = rng.random() < 0.015  # paperwork stuck: delivered, never paid
    paid_on = delivered.astimezone(JAKARTA).date() + dt.timedelta(days=wait)
    paid = _jakarta(paid_on, rng.uniform(9, 15))
    if paid <= delivered:
        paid = delivered + dt.timedelta(minutes=rng.randint(10, 120))
    staff = f"{rng.choice(FEMALE_FIRST + MALE_FIRST)} {rng.choice(FEMALE_LAST + MALE_LAST)}"
    transfer = f"TRF/{paid_on:%Y%m%d}/{rng.randint(100_000, 999_999)}"  # a personal payment's bank reference
    rate = rng.random() < 0.4
    score = rng.choices((5, 4, 3, 2, 1), weights=(46, 36, 12, 4, 2))[0]
    comment = rng.choice(RATING_COMMENTS[score])
    rated_at = delivered + dt.timedelta(hours=rng.uniform(0.2, 120))

    if roll < 0.035:
        if reject_at < now:
            order.times[OrderStatus.REJECTED] = reject_at.replace(microsecond=0)
            order.closed_reason = reject_reason
        return
    if roll < 0.06:
        if cancel_at < now:
            order.times[OrderStatus.CANCELLED] = cancel_at.replace(microsecond=0)
            order.closed_reason = cancel_reason
        return
    steps = (
        (OrderStatus.ACCEPTED, accepted),
        (OrderStatus.SHIPPED, shipped),
        (OrderStatus.DELIVERED, delivered),
        (OrderStatus.PAID, None if never else paid),
    )
    for status, at in steps:
        if at is None or at >= now:
            break
        order.times[status] = at.replace(microsecond=0)
    if OrderStatus.DELIVERED in order.times:
        order.received_by = receiver or staff
        if rate and rated_at < now:
            order.rating = (score, comment, rated_at.replace(microsecond=0))
    if OrderStatus.PAID in order.times and personal:
        order.reference = transfer


def _hold_capacity(planned: list[_Planned]) -> dict[tuple[int, str], int]:
    """Made-to-order lines never exceed a product's monthly capacity (earlier orders first; a line that no longer
    fits shrinks or goes). Returns what the OPEN orders hold, (product id, YYYY-MM) -> units, for CapacityUse."""
    used: dict[tuple[int, str], int] = {}
    held: dict[tuple[int, str], int] = {}
    for order in planned:
        if order.status in (OrderStatus.REJECTED, OrderStatus.CANCELLED):
            continue  # released
        period = order.needed_by.strftime("%Y-%m")
        kept = []
        for line in order.lines:
            product = line.product
            if product["made_to_order"]:
                key = (product["id"], period)
                line.quantity = min(line.quantity, (product["monthly_capacity"] or 0) - used.get(key, 0))
                if line.quantity < product["min_order_quantity"]:
                    continue
                used[key] = used.get(key, 0) + line.quantity
                if order.status in OPEN_STATUSES:
                    held[key] = held.get(key, 0) + line.quantity
            kept.append(line)
        order.lines = kept
    return held


def _payment_references(planned: list[_Planned]) -> None:
    """OPD payments are SP2D, numbered city-wide per year in the order they were paid."""
    paid = sorted(
        (o for o in planned if o.kind is OrderKind.OPD and OrderStatus.PAID in o.times),
        key=lambda o: o.times[OrderStatus.PAID],
    )
    seq: dict[int, int] = {}
    for order in paid:
        year = order.times[OrderStatus.PAID].astimezone(JAKARTA).year
        seq[year] = seq.get(year, 0) + 1
        order.reference = f"SP2D/{year}/{seq[year]:05d}"


async def _insert_orders(planned: list[_Planned], held: dict[tuple[int, str], int]) -> None:
    """Orders (numbered once their ids are known), then items, events, payments and ratings in time order."""
    rows = []
    for n, o in enumerate(planned):
        t = o.times
        rows.append(
            Order(
                number=f"SEED-{n:06d}",  # replaced by PO-YYYY-NNNNNN below
                kind=o.kind,
                opd_id=o.opd_id,
                buyer_id=o.buyer_id,
                umkm_id=o.seller.umkm_id,
                status=o.status,
                total=sum(line.product["price"] * line.quantity for line in o.lines),
                needed_by=o.needed_by,
                delivery_address=o.address,
                note=o.note,
                source=OrderSource.SEARCH,
                accepted_at=t.get(OrderStatus.ACCEPTED),
                shipped_at=t.get(OrderStatus.SHIPPED),
                delivered_at=t.get(OrderStatus.DELIVERED),
                received_by=o.received_by,
                paid_at=t.get(OrderStatus.PAID),
                closed_reason=o.closed_reason,
                created_at=o.created,  # auto_now_add keeps a given value
            )
        )
    await Order.bulk_create(rows, batch_size=BATCH)
    ids = dict(await Order.filter(number__startswith="SEED-").values_list("number", "id"))
    for row, o in zip(rows, planned, strict=True):
        o.id = row.id = ids[row.number]
        row.number = f"PO-{o.created.astimezone(JAKARTA).year}-{o.id:06d}"
    await Order.bulk_update(rows, fields=["number"], batch_size=BATCH)

    items, events, payments, ratings = [], [], [], []
    owner_moves = (OrderStatus.ACCEPTED, OrderStatus.SHIPPED, OrderStatus.REJECTED)
    for row, o in zip(rows, planned, strict=True):
        period = o.needed_by.strftime("%Y-%m")
        for line in o.lines:
            p = line.product
            items.append(
                OrderItem(
                    order_id=o.id,
                    product_id=p["id"],
                    category_id=p["category_id"],
                    option=line.option,
                    name=p["name"],
                    unit=p["unit"],
                    unit_price=p["price"],
                    quantity=line.quantity,
                    subtotal=p["price"] * line.quantity,
                    capacity_period=period if p["made_to_order"] else None,
                )
            )
        previous = None
        for step, (status, at) in enumerate(o.times.items()):
            actor = o.seller.owner_id if status in owner_moves else o.buyer_id
            note = ""
            if status in (OrderStatus.REJECTED, OrderStatus.CANCELLED):
                note = o.closed_reason
            elif status is OrderStatus.DELIVERED:
                note = f"received by {o.received_by}"
            elif status is OrderStatus.PAID:
                actor, note = o.payer_id, f"ref {o.reference}"
                payments.append(
                    Payment(
                        order_id=o.id,
                        amount=row.total,
                        reference=o.reference,
                        paid_on=at.astimezone(JAKARTA).date(),
                        recorded_by_id=o.payer_id,
                        created_at=at,
                    )
                )
            events.append(
                (
                    at,
                    o.id,
                    step,
                    OrderEvent(
                        order_id=o.id, from_status=previous, to_status=status, actor_id=actor, note=note, created_at=at
                    ),
                )
            )
            previous = status
        if o.rating is not None:
            score, comment, at = o.rating
            ratings.append(
                Rating(
                    order_id=o.id,
                    umkm_id=o.seller.umkm_id,
                    score=score,
                    comment=comment,
                    rated_by_id=o.buyer_id,
                    created_at=at,
                )
            )
    events.sort(key=lambda e: e[:3])  # the trail's ids follow time, as if it had been written live
    payments.sort(key=lambda p: (p.created_at, p.order_id))
    ratings.sort(key=lambda r: (r.created_at, r.order_id))
    await OrderItem.bulk_create(items, batch_size=BATCH)
    await OrderEvent.bulk_create([e for *_, e in events], batch_size=BATCH)
    await Payment.bulk_create(payments, batch_size=BATCH)
    await Rating.bulk_create(ratings, batch_size=BATCH)
    await CapacityUse.bulk_create(
        [CapacityUse(product_id=pid, period=period, used=used) for (pid, period), used in sorted(held.items())],
        batch_size=BATCH,
    )


# ---------------------------------------------------------------- omzet reports


async def _seed_omzet(rng: random.Random, now: dt.datetime) -> None:
    """Twelve finished months of omzet reports: a quarter of the UMKM never report, the others miss some months and
    file some late; totals lognormal around Rp15 juta, never below the platform's own sales that month."""
    from models.omzet import OmzetReport, OmzetRevision, UmkmMonthlySales
    from resolvers.omzet import due_at, period_of, periods_back, shift, update_scale

    last = shift(period_of(now.astimezone(JAKARTA)), -1)
    months = periods_back(last, 12)
    platform = {(r.umkm_id, r.period): r.amount for r in await UmkmMonthlySales.filter(period__in=months)}
    umkms = await Umkm.filter(status__in=[UmkmStatus.VERIFIED, UmkmStatus.SUSPENDED]).order_by("id")
    reports, revisions = [], []
    for u in umkms:
        if rng.random() < 0.25:
            continue  # never reports
        base = rng.lognormvariate(0, 1.0) * 15_000_000
        workers = rng.randint(1, 8)
        diligence = rng.random()
        registered = period_of(u.created_at.astimezone(JAKARTA))
        for period in months:
            if period < registered or rng.random() > 0.55 + 0.4 * diligence:
                continue
            y, m = (int(x) for x in shift(period, 1).split("-"))
            late = rng.random() < 0.3 * (1 - diligence)
            day = rng.randint(11, 27) if late else rng.randint(1, 10)
            submitted = dt.datetime(y, m, day, rng.randint(8, 21), rng.randint(0, 59), tzinfo=JAKARTA).astimezone(
                dt.UTC
            )
            if submitted > now:
                continue
            pf = platform.get((u.id, period), 0)
            other = int(base * rng.uniform(0, 0.2)) // 1000 * 1000
            offline = int(base * rng.lognormvariate(0, 0.25)) // 1000 * 1000
            report = OmzetReport(
                umkm_id=u.id,
                period=period,
                first_submitted_at=submitted,
                late=submitted > due_at(period, 10),
                revision_count=1,
                platform_amount=pf,
                other_online_amount=other,
                offline_amount=offline,
                total_amount=pf + other + offline,
                workers=workers,
                note="",
                updated_at=submitted,
            )
            reports.append(report)
    await OmzetReport.bulk_create(reports, batch_size=BATCH)
    stored = {(r.umkm_id, r.period): r for r in await OmzetReport.filter(period__in=months)}
    owners = dict(await Umkm.filter(id__in=[k[0] for k in stored]).values_list("id", "owner_id"))
    for (umkm_id, _period), r in sorted(stored.items()):
        revisions.append(
            OmzetRevision(
                report_id=r.id,
                number=1,
                platform_amount=r.platform_amount,
                other_online_amount=r.other_online_amount,
                offline_amount=r.offline_amount,
                total_amount=r.total_amount,
                workers=r.workers,
                note="",
                submitted_by_id=owners[umkm_id],
                on_behalf=False,
                created_at=r.first_submitted_at,
            )
        )
    await OmzetRevision.bulk_create(revisions, batch_size=BATCH)
    for u in umkms:
        await update_scale(u)
