"""One mapping of ValidationError to field errors, one collector, one reading of the staff fields."""
from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from gongzhi.intake.parsing import Errors, field_errors, staff_fields


def test_field_errors_maps_every_kind_of_validation_error():
    assert field_errors(ValidationError({"phone": "电话号码不对"})) == {"phone": ["电话号码不对"]}
    assert field_errors(ValidationError(["一", "二"])) == {NON_FIELD_ERRORS: ["一", "二"]}
    assert field_errors(ValidationError("整体不对")) == {NON_FIELD_ERRORS: ["整体不对"]}


def test_errors_collects_the_first_problem_of_each_field_and_goes_on():
    errors = Errors()
    assert errors.attempt(lambda: 42) == 42
    assert errors.attempt(lambda: (_ for _ in ()).throw(ValidationError({"title": "太长"}))) is None
    errors.attempt(lambda: (_ for _ in ()).throw(ValidationError({"title": "又错了"})))
    errors.add("village", "请选择")
    assert errors == {"title": ["太长"], "village": ["请选择"]}


def test_staff_fields_cleans_and_reports_every_field_at_once():
    errors = Errors()
    fields = staff_fields({"description": "  路灯\x00坏了 ", "title": "标" * 101, "requester_phone": "123",
                           "latitude": "32.9", "longitude": "108.5"}, errors)
    assert fields["description"] == "路灯坏了"
    assert fields["title"] is None and "标题最多100个字" in errors["title"][0]
    assert fields["requester_phone"] is None and "requester_phone" in errors
    assert (fields["latitude"], fields["longitude"]) == (Decimal("32.900000"), Decimal("108.500000"))
    missing = Errors()
    staff_fields({}, missing)
    assert missing == {"description": ["请填写诉求内容"]}
