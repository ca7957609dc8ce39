"""Short Bahasa Indonesia texts for synthetic incidents (descriptions, rejection reasons).

``{road}`` and ``{poi}`` are filled with the incident's street and nearest landmark.
"""

from __future__ import annotations

DESCRIPTIONS: dict[str, tuple[str, ...]] = {
    "pkl": (
        "PKL berjualan di trotoar {road}, pejalan kaki terpaksa turun ke jalan",
        "Lapak pedagang memakan badan jalan di depan {poi}",
        "Gerobak PKL parkir di bahu jalan, lalu lintas tersendat",
        "Pedagang buah menggelar dagangan di atas trotoar dekat {poi}",
        "Tenda PKL berdiri lagi setelah penertiban minggu lalu",
        "Pedagang kaki lima menutup akses masuk {poi}",
        "Lapak sayur meluber ke jalan, angkot sulit lewat",
        "Warga mengeluhkan PKL berjualan di saluran air {road}",
    ),
    "gepeng": (
        "Pengemis meminta-minta di lampu merah {road}",
        "Anak jalanan mengamen di simpang, mengganggu pengendara",
        "Gelandangan tidur di emperan {poi}",
        "Manusia gerobak mangkal di pinggir {road}",
        "Pengemis lansia duduk di depan {poi} sejak pagi",
        "Sekelompok anak punk meminta uang kepada pengendara",
    ),
    "ternak": (
        "Sapi lepas berkeliaran di {road}, membahayakan pengendara",
        "Kambing warga masuk ke halaman {poi}",
        "Beberapa ekor sapi merusak tanaman warga",
        "Kerbau lepas di jalan, pemilik belum diketahui",
        "Ternak kambing berkeliaran di tengah {road} sejak pagi",
        "Sapi tidur di badan jalan dekat {poi}",
    ),
    "pekat": (
        "Sekelompok pemuda minum tuak di pos ronda {road}",
        "Diduga ada judi kartu di warung dekat {poi}",
        "Warga curiga ada transaksi narkoba di {road}",
        "Pesta miras hingga larut malam, warga resah",
        "Sabung ayam di belakang rumah kosong {road}",
        "Diduga tempat penjualan togel di warung kopi",
        "Pemuda mabuk membuat gaduh di {road}",
    ),
    "odgj": (
        "ODGJ mengamuk dan melempar batu di {road}",
        "Orang dengan gangguan jiwa berkeliaran tanpa pakaian dekat {poi}",
        "Warga melaporkan ODGJ tidur di depan {poi}",
        "ODGJ mengganggu anak-anak pulang sekolah",
        "Keluarga meminta bantuan, anggota keluarga stres berat mengamuk",
    ),
    "keributan": (
        "Keributan antarpemuda di {road}",
        "Perkelahian di depan {poi}, beberapa orang terlibat",
        "Cekcok antarwarga soal parkir, nyaris adu fisik",
        "Tawuran remaja di {road}, warga takut keluar rumah",
        "Keributan di warung tuak dekat {poi}",
        "Pengeroyokan seorang pemuda di {road}",
    ),
    "pencurian": (
        "Sepeda motor hilang di halaman rumah {road}",
        "Jambret tas di {road}, pelaku kabur ke arah {poi}",
        "Maling masuk rumah kosong saat pemilik mudik",
        "Pencurian tabung gas di warung dekat {poi}",
        "Curanmor di parkiran {poi}",
        "Warga menangkap terduga maling, minta petugas datang",
        "Kotak amal {poi} dibobol orang tak dikenal",
    ),
    "banjir": (
        "Banjir setinggi lutut di {road}, rumah warga terendam",
        "Genangan air tidak surut sejak semalam di {road}",
        "Air rawa meluap ke permukiman, warga minta bantuan",
        "Banjir masuk rumah warga dekat {poi}",
    ),
    "kebakaran": (
        "Kebakaran rumah di {road}",
        "Api membakar lahan kosong dekat {poi}",
        "Korsleting listrik, api muncul di kios {road}",
    ),
    "pohon": (
        "Pohon tumbang menutup {road}",
        "Angin kencang, dahan besar menimpa kabel listrik di {road}",
        "Pohon tumbang menimpa pagar {poi}",
    ),
    "lainnya": (
        "Lampu jalan mati di {road}, rawan kejahatan",
        "Saluran air tersumbat sampah di {road}",
        "Parkir liar menutup jalan depan {poi}",
        "Suara musik keras dari hajatan hingga tengah malam",
        "Warga melaporkan anak hilang dekat {poi}",
        "Tumpukan sampah liar di pinggir {road}",
        "Kabel listrik menjuntai rendah di {road}",
    ),
}

REJECTION_REASONS: tuple[str, ...] = (
    "hoaks: tidak ditemukan kejadian di lokasi",
    "hoaks: pelapor tidak dapat dihubungi dan lokasi kosong",
    "di luar kewenangan, diteruskan ke instansi terkait",
)
DUPLICATE_REASON = "duplikat dari {ticket}"


def abbreviate_road(name: str, rng_value: float) -> str:
    """``Jalan X`` → ``Jl. X``, ``Gang X`` → ``Gg. X``, ``Lorong X`` → ``Lr. X`` (mostly)."""
    if rng_value < 0.25:
        return name
    for long, short in (("Jalan ", "Jl. "), ("Gang ", "Gg. "), ("Lorong ", "Lr. ")):
        if name.startswith(long):
            return short + name[len(long):]
    return name
