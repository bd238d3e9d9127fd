"""Small SOP files for tests, built as text so that each test shows the YAML it feeds in."""

VALID = """\
kode: uji-patroli
nama: Patroli Uji
instansi: Kantor Uji
nomor: "SOP/01/2024"
tanggal_pembuatan: 2024-01-02
disahkan_oleh:
  jabatan: Kepala Kantor
  nama: "NAMA, M.Si"
  nip: "196406061985031015"
dasar_hukum:
  - Undang-Undang Nomor 1
jumlah_waktu: 1 hari 1 jam 16 menit
pelaksana:
  - Kepala
  - Staf
langkah:
  - nomor: 1
    kegiatan: Memerintahkan patroli
    pelaksana: Kepala
    kelengkapan: [Surat Tugas, Peta wilayah]
    waktu: 15 menit
    output: Surat Tugas
  - nomor: 2
    kegiatan: Melaksanakan patroli
    pelaksana: Staf
    waktu: 1 hari
    output: Laporan
  - nomor: 3
    kegiatan: Memeriksa laporan. Setuju?
    pelaksana: Kepala
    waktu: 1 jam
    tidak: 2
  - nomor: 4
    kegiatan: Mengarsipkan laporan
    pelaksana: Staf
    waktu: 1-2 menit
"""


def sample(**replace: str) -> str:
    """The valid sample with some lines replaced: sample(**{"waktu: 15 menit": "waktu: sebentar"})."""
    text = VALID.replace("waktu: 1-2 menit", "waktu: 1-2 menit")
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def sample_with_sheet_keys() -> str:
    """The valid sample with every key the contract gained later: kop, a month-only date, the
    electronic signature, independent activities, transcription notes, labels, and a decision's
    question and answers."""
    return sample(**{
        'nomor: "SOP/01/2024"\n': 'nomor: "SOP/01/2024"\nkop:\n  - PEMERINTAH KOTA UJI\n  - KANTOR UJI\n',
        "tanggal_pembuatan: 2024-01-02": "tanggal_pembuatan: 2024-01\ntanggal_efektif: 2024-02-03",
        '  nip: "196406061985031015"\n': '  nip: "196406061985031015"\nditandatangani_elektronik: true\n'
                                          "kegiatan_terpisah: true\n"
                                          "catatan_transkripsi:\n  - Disalin dari lembar cetak.\n",
        "    output: Surat Tugas\n": "    output: Surat Tugas\n    catatan_transkripsi: Tanda pelaksana hilang.\n"
                                  "    label: A\n",
        "    tidak: 2\n": "    tidak: 2\n    pertanyaan: Laporan lengkap?\n    label_ya: Lengkap\n"
                        "    label_tidak: Dikembalikan untuk dilengkapi\n",
    })
