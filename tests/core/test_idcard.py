import datetime as dt

import pytest
from hypothesis import given, strategies as st

from gongzhi.core.idcard import InvalidIdNumber, make_id_number, normalize_id_number, parse_id_number
from gongzhi.core.masking import mask_id_number, mask_phone


def test_it_accepts_a_valid_number_and_derives_birth_and_sex():
    facts = parse_id_number("11010519491231002X")
    assert facts.birth_date == dt.date(1949, 12, 31)
    assert facts.sex == "F"


def test_it_rejects_a_bad_check_digit_in_chinese():
    with pytest.raises(InvalidIdNumber, match="校验位错误"):
        parse_id_number("110105194912310021")


def test_it_normalizes_full_width_digits_spaces_and_lowercase_x():
    assert normalize_id_number(" １１０１０５ 19491231002x ") == "11010519491231002X"
    assert parse_id_number("１１０１０５１９４９１２３１００２ｘ").number == "11010519491231002X"


def test_it_rejects_impossible_birth_dates():
    number = "610921" + "20230230" + "123"
    from gongzhi.core.idcard import check_char

    with pytest.raises(InvalidIdNumber, match="出生日期"):
        parse_id_number(number + check_char(number))


@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2020, 12, 31)), st.integers(0, 10**6), st.booleans())
def test_generated_numbers_round_trip(birth, seq, male):
    facts = parse_id_number(make_id_number("610921", birth, seq, male))
    assert facts.birth_date == birth
    assert facts.sex == ("M" if male else "F")


def test_masks_match_the_agreed_shape():
    assert mask_id_number("610921198005171234") == "610921********1234"
    assert mask_phone("13812345678") == "138****5678"
