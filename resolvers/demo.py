"""Believable Surabaya demo data: OPD with budgets, UMKM with history, products, one login per role.

`seed_demo()` fills an empty database (the kecamatan/kelurahan reference data must be loaded) in one transaction,
using bulk inserts and a private `random.Random(seed)`, so the same seed gives the same rows (timestamps are
spread relative to the moment of seeding). Every user shares `DEMO_PASSWORD`; it is hashed once.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from dataclasses import dataclass, field

from tortoise.transactions import in_transaction

from models.accounts import User
from models.base import OpdKind, Role, Scale, ScaleSource, UmkmStatus
from models.catalog import Product
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
                created_at=_between(rng, plan["created_at"], now),
            )
        )
    return out
