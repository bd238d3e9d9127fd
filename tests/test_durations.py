import pytest

from procedures.durations import Duration, DurationError, check_total, parse_total, parse_waktu


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15 menit", Duration(15, 15, "menit")),
        ("15 Menit", Duration(15, 15, "menit")),
        ("3jam", Duration(3, 3, "jam")),
        ("3-4 jam", Duration(3, 4, "jam")),
        ("3 - 4 jam", Duration(3, 4, "jam")),
        ("1 Hari", Duration(1, 1, "hari")),
        ("2 minggu", Duration(2, 2, "minggu")),
        ("1 Bulan", Duration(1, 1, "bulan")),
        ("30 minutes", Duration(30, 30, "menit")),
        ("1 hour", Duration(1, 1, "jam")),
        ("2 days", Duration(2, 2, "hari")),
        ("1 week", Duration(1, 1, "minggu")),
        ("3 months", Duration(3, 3, "bulan")),
    ],
)
def test_it_parses_time_standards(text, expected):
    assert parse_waktu(text) == expected


@pytest.mark.parametrize("text", ["sebentar", "0 jam", "5-3 jam", "jam", "15", "1.5 jam", "2 hr", "1 jam 30 menit", ""])
def test_it_refuses_bad_time_standards(text):
    with pytest.raises(DurationError):
        parse_waktu(text)


def test_it_sums_minutes_and_hours_together_and_days_apart():
    total = check_total(
        [parse_waktu(t) for t in ["45 menit", "30 menit", "1 jam", "1 hari", "2 hari", "1 bulan"]], None
    ).computed
    assert str(total) == "1 bulan 3 hari 2 jam 15 menit"


def test_it_never_carries_hours_into_days():
    total = check_total([parse_waktu("8 jam"), parse_waktu("8 jam")], None).computed
    assert str(total) == "16 jam"


def test_a_range_adds_as_a_range():
    total = check_total([parse_waktu("3-4 jam"), parse_waktu("15 menit")], None).computed
    assert str(total) == "3 jam 15 menit – 4 jam 15 menit"


def test_the_printed_total_of_kesbangpol_is_read():
    assert parse_total("5 hr 4 jam 45 Menit") == parse_total("5 hari 4 jam 45 menit")
    assert str(parse_total("5 hr 4 jam 45 Menit")) == "5 hari 4 jam 45 menit"


def test_a_stated_total_within_the_range_gives_no_warning():
    check = check_total([parse_waktu("3-4 jam")], "3 jam 30 menit")
    assert check.warning is None


def test_a_stated_total_outside_the_sum_warns_with_both_figures():
    check = check_total([parse_waktu("2 menit"), parse_waktu("1 hari")], "3 hari")
    assert "3 hari" in check.warning
    assert "1 hari 2 menit" in check.warning


@pytest.mark.parametrize("text", ["lima hari", "5 hari 2 hari", "0 jam", "5 tahun"])
def test_it_refuses_bad_totals(text):
    with pytest.raises(DurationError):
        parse_total(text)


@pytest.mark.parametrize("text, printed", [
    ("2 hari 27 jam 75 menit", "2 hari 28 jam 15 menit"),  # menit carried into jam
    ("15 hari 27 jam 15 menit", "15 hari 27 jam 15 menit"),  # never jam into hari
    ("5 hr 4 jam 45 Menit", "5 hari 4 jam 45 menit"),
    ("90 menit", "1 jam 30 menit"),
    ("kira-kira dua jam", "kira-kira dua jam"),  # no total: as written
])
def test_a_printed_total_is_written_as_sums_are(text, printed):
    from procedures.durations import normal_total

    assert normal_total(text) == printed
