"""Grades computed from scores match published results (domain.md sections 4-5)."""

import pytest

from tindaklanjut.domain.frameworks import load_frameworks

CATALOGUE = load_frameworks()


@pytest.mark.parametrize(("framework", "cycle", "score", "grade"), [
    ("ombudsman-kepatuhan", "2022", 58.99, "C"),    # Kota Kendari 2022
    ("ombudsman-kepatuhan", "2023", 88.41, "A"),    # Provinsi Jambi 2023
    ("ombudsman-kepatuhan", "2023", 91.16, "A"),    # Banten 2023
    ("ombudsman-kepatuhan", "2022", 89.59, "A"),    # Kota Jambi 2022
    ("ombudsman-kepatuhan", "2022", 79.80, "B"),    # Kab. Tanjung Jabung Barat 2022
    ("ombudsman-kepatuhan", "2022", 73.88, "C"),    # Kab. Merangin 2022
    ("ombudsman-kepatuhan", "2022", 79.14, "B"),    # Bengkulu Utara
    ("ombudsman-kepatuhan", "2022", 88.02, "A"),    # Seluma
    ("ombudsman-kepatuhan", "2021", 68.27, "KUNING"),  # Magelang 2021
    ("ombudsman-kepatuhan", "2021", 23.15, "MERAH"),
    ("ombudsman-kepatuhan", "2021", 87.95, "HIJAU"),
    ("panrb-pekppp", "2024", 2.18, "C-"),           # Kab. Bungo
    ("panrb-pekppp", "2024", 4.92, "A"),            # BPS
    ("panrb-pekppp", "2024", 4.03, "A-"),           # Jambi
    ("panrb-pekppp", "2024", 4.75, "A"),            # Jatim
])
def test_published_results_get_their_published_grade(framework, cycle, score, grade):
    assert CATALOGUE.get(framework).scale_for(cycle).band_for(score).grade == grade


@pytest.mark.parametrize(("score", "grade"), [(88.00, "A"), (87.99, "B"), (78.0, "B"), (77.994, "C"),
                                              (54.0, "C"), (32.0, "D"), (31.99, "E"), (0, "E"), (100, "A")])
def test_bands_are_inclusive_at_the_lower_bound_on_two_decimals(score, grade):
    assert CATALOGUE.get("ombudsman-kepatuhan").scale_for("2024").band_for(score).grade == grade


def test_a_cycle_without_a_scale_is_unknown():
    assert CATALOGUE.get("ombudsman-kepatuhan").scale_for("2025") is None
    assert CATALOGUE.get("no-such-framework") is None


def test_a_new_framework_is_added_by_data_alone():
    catalogue = load_frameworks("""
frameworks:
  skm:
    name: Survei Kepuasan Masyarakat
    score_range: [25, 100]
    follow_up_default: {month: 12, day: 31}
    scales:
      - cycles: [2020, 2030]
        bands:
          - {grade: A, min: 88.31, label: Sangat Baik, weak: false}
          - {grade: B, min: 76.61, label: Baik, weak: false}
          - {grade: C, min: 65.00, label: Kurang Baik, weak: true}
          - {grade: D, min: 0, label: Tidak Baik, weak: true}
""")
    assert catalogue.get("skm").scale_for("2025").band_for(70).grade == "C"


def test_badly_ordered_bands_are_refused_at_load_time():
    with pytest.raises(ValueError):
        load_frameworks("""
frameworks:
  x:
    name: X
    score_range: [0, 5]
    follow_up_default: {month: 6, day: 30}
    scales:
      - cycles: [2022, 2030]
        bands:
          - {grade: B, min: 2, label: B, weak: true}
          - {grade: A, min: 4, label: A, weak: false}
""")
