"""Forms of the intake pages. They validate and never save: views hand ``IntakeInput`` to
``services.intake_submit``. Every message is in plain Chinese."""
from __future__ import annotations

import secrets
from decimal import Decimal, InvalidOperation

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator

from gongzhi.cases.choices import Channel
from gongzhi.cases.models import ALLOWED_ATTACHMENT_TYPES, validate_attachment
from gongzhi.registry.models import Grid, Person, Region, phone_validator

from . import conf, selectors
from .parsing import Errors, staff_fields
from .text import clean, normalize_phone

PHOTO_TYPES = ("jpg", "jpeg", "png", "webp", "gif")


class RawField(forms.CharField):
    """A CharField that leaves checking to the form's ``clean`` (``text.clean`` removes NUL and
    other control characters instead of refusing the whole text)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)
        self.validators = []


def new_key() -> str:
    return secrets.token_urlsafe(18)


def clean_text(value, *, field: str, required: bool, limit: int, multiline: bool = False, label: str = "") -> str:
    text = clean(value, multiline=multiline)
    if required and not text:
        raise ValidationError({field: f"请填写{label}"})
    if len(text) > limit:
        raise ValidationError({field: f"{label}最多{limit}个字，现在有{len(text)}个字"})
    return text


def clean_phone(value, field: str = "phone") -> str:
    phone = normalize_phone(value or "")
    if not phone:
        return ""
    try:
        phone_validator(phone)
    except ValidationError:
        raise ValidationError({field: "电话号码不对：请填11位手机号，或带区号的座机号（如0915-1234567）"}) from None
    return phone


def clean_point(lat, lon) -> tuple[Decimal | None, Decimal | None]:
    lat, lon = (lat or "").strip(), (lon or "").strip()
    if not lat and not lon:
        return None, None
    if not lat or not lon:
        raise ValidationError({"latitude": "位置不完整，请重新获取，或不填位置"})
    try:
        la, lo = Decimal(lat), Decimal(lon)
    except (InvalidOperation, ValueError):
        raise ValidationError({"latitude": "位置格式不对，请重新获取，或不填位置"}) from None
    if not la.is_finite() or not lo.is_finite() or not (-90 <= la <= 90) or not (-180 <= lo <= 180):
        raise ValidationError({"latitude": "位置超出范围，请重新获取，或不填位置"})
    return la.quantize(Decimal("0.000001")), lo.quantize(Decimal("0.000001"))


def clean_photos(files) -> list:
    files = [f for f in files if f and getattr(f, "size", 0)]
    if len(files) > conf.max_photos():
        raise ValidationError({"photos": f"最多上传{conf.max_photos()}张照片"})
    limit = conf.max_photo_bytes()
    for upload in files:
        ext = (upload.name or "").rsplit(".", 1)[-1].lower() if "." in (upload.name or "") else ""
        if ext not in PHOTO_TYPES:
            raise ValidationError({"photos": f"“{clean(upload.name)[:40]}”不是照片：只能上传 JPG、PNG、WEBP、GIF 图片"})
        if upload.size > limit:
            raise ValidationError({"photos": f"照片“{clean(upload.name)[:40]}”太大，每张不能超过{limit // (1024 * 1024)}MB"})
        try:
            validate_attachment(upload)
        except ValidationError:
            raise ValidationError({"photos": f"“{clean(upload.name)[:40]}”不是有效的图片文件"}) from None
        declared = (getattr(upload, "content_type", "") or "").split(";")[0].strip().lower()
        if declared and declared != "application/octet-stream" and not declared.startswith("image/"):
            raise ValidationError({"photos": f"“{clean(upload.name)[:40]}”不是图片"})
        upload.name = clean(upload.name)[:100] or f"photo.{ext}"
    return files


assert set(PHOTO_TYPES) <= set(ALLOWED_ATTACHMENT_TYPES)


def _report(form, errors: dict) -> None:
    """Attach errors: to their field when the form shows it, else to the form; the photo and GPS
    messages are also kept by name so the page can show them next to their control."""
    form.extra_errors = {}
    for field, messages in errors.items():
        messages = list(messages)
        if field in form.fields and not form.fields[field].widget.is_hidden:
            form.add_error(field, messages)
        else:
            form.extra_errors[field] = messages
            form.add_error(None, messages)


class ResidentForm(forms.Form):
    """The residents' page. Built for a county: its villages and its catalogue."""

    key = RawField(widget=forms.HiddenInput, required=False)
    description = RawField(label="您要反映什么事？", required=False,
                                  widget=forms.Textarea(attrs={"rows": 5, "maxlength": 2000}))
    category = RawField(label="是哪一类事？（不清楚可以不选）", required=False, widget=forms.Select)
    village = RawField(label="在哪个村（社区）？", required=False, widget=forms.Select)
    grid = RawField(required=False, widget=forms.HiddenInput)
    address = RawField(label="具体地点（可以不填）", required=False,
                              widget=forms.TextInput(attrs={"placeholder": "如：三组、村委会门口", "maxlength": 100}))
    latitude = RawField(required=False, widget=forms.HiddenInput)
    longitude = RawField(required=False, widget=forms.HiddenInput)
    name = RawField(label="怎么称呼您（可以不填）", required=False,
                           widget=forms.TextInput(attrs={"maxlength": 20, "autocomplete": "name"}))
    phone = RawField(label="您的电话（可以不填，填了会短信告诉您进展）", required=False,
                            widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "maxlength": 20,
                                                          "autocomplete": "tel"}))
    website = RawField(required=False, label="请不要填写这一项")  # honeypot: people never see it

    DESCRIPTION_LIMIT = 2000

    def __init__(self, *args, county: Region, files_list=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.county = county
        self.files_list = files_list or []
        self.fields["village"].widget.choices = [("", "请选择")] + [
            (town.name, [(str(v.pk), v.name) for v in villages]) for town, villages in selectors.villages_by_town(county)]
        self.fields["category"].widget.choices = [("", "不清楚，请工作人员分类")] + [
            (label, [(c.code, c.name) for c in cats]) for label, cats in selectors.resident_categories(county)]
        if not self.is_bound:
            self.initial.setdefault("key", new_key())

    def clean(self):
        data = super().clean()
        errors = Errors()

        def attempt(name, fn):
            return errors.attempt(fn)

        data["description"] = attempt("description", lambda: clean_text(
            self.data.get("description"), field="description", required=True, limit=self.DESCRIPTION_LIMIT,
            multiline=True, label="要反映的事"))
        if data["description"] is not None and len(data["description"]) < 4:
            errors.setdefault("description", ["请多写几个字，说清楚是什么事"])
        data["address"] = attempt("address", lambda: clean_text(self.data.get("address"), field="address",
                                                                 required=False, limit=100, label="具体地点"))
        data["name"] = attempt("name", lambda: clean_text(self.data.get("name"), field="name", required=False,
                                                           limit=20, label="称呼"))
        data["phone"] = attempt("phone", lambda: clean_phone(self.data.get("phone")))
        point = attempt("latitude", lambda: clean_point(self.data.get("latitude"), self.data.get("longitude")))
        data["latitude"], data["longitude"] = point or (None, None)
        data["photos"] = attempt("photos", lambda: clean_photos(self.files_list))
        village = selectors.village_in_county(self.county, self.data.get("village"))
        if village is None:
            errors.setdefault("village", ["请选择在哪个村（社区）"])
        data["village"] = village
        grid = None
        if village is not None and (self.data.get("grid") or "").strip():
            grid = Grid.objects.filter(pk=self.data["grid"], village_id=village.pk).first() if str(
                self.data["grid"]).isdigit() else None
            if grid is None:
                errors.setdefault("grid", ["网格不在所选的村（社区），请重新选择"])
        data["grid"] = grid
        code = (self.data.get("category") or "").strip()
        category = selectors.category_in_county(self.county, code, resident=True) if code else None
        if code and category is None:
            errors.setdefault("category", ["请从列表中选择类别"])
        data["category"] = category
        if (self.data.get("website") or "").strip():
            errors.setdefault("__all__", ["提交没有成功，请刷新页面后重新填写"])
        try:
            from .idempotency import validate_key

            data["key"] = validate_key(self.data.get("key"))
        except ValueError:
            data["key"] = None
        _report(self, errors)
        return data


STAFF_CHANNELS = [Channel.HOTLINE, Channel.WINDOW, Channel.GRID_PATROL, Channel.THREE_LINE, Channel.WECHAT,
                  Channel.MINI_PROGRAM]


class StaffIntakeForm(forms.Form):
    """Hotline, window and grid patrol: one short form, each field asked once."""

    key = RawField(widget=forms.HiddenInput, required=False)
    channel = RawField(label="来源", required=False,
                              widget=forms.RadioSelect(choices=[(c.value, c.label) for c in STAFF_CHANNELS]))
    q = RawField(label="查找群众（电话、身份证号或姓名）", required=False,
                        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}))
    person = RawField(required=False, widget=forms.HiddenInput)
    requester_name = RawField(label="诉求人姓名（查不到时填写）", required=False)
    requester_phone = RawField(label="联系电话", required=False,
                                      widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel"}))
    anonymous = forms.BooleanField(label="诉求人要求匿名", required=False)
    description = RawField(label="诉求内容", required=False, widget=forms.Textarea(attrs={"rows": 4}))
    title = RawField(label="标题（可不填，自动取第一句）", required=False)
    category = RawField(label="类别（不确定可不选，受理时分类）", required=False, widget=forms.Select)
    village = RawField(label="事发村（社区）", required=False, widget=forms.Select)
    grid = RawField(label="网格（可不选）", required=False, widget=forms.Select)
    address = RawField(label="具体地点", required=False)
    latitude = RawField(required=False, widget=forms.HiddenInput)
    longitude = RawField(required=False, widget=forms.HiddenInput)
    complained_text = RawField(label="被投诉举报的单位或个人（投诉举报时填写）", required=False)

    def __init__(self, *args, user, files_list=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.files_list = files_list or []
        self.villages = selectors.staff_villages(user)
        self.grids = selectors.staff_grids(user, self.villages)
        self.fields["village"].widget.choices = [("", "请选择")] + [
            (str(v.pk), f"{v.parent.name if v.parent_id else ''}{v.name}") for v in self.villages]
        self.fields["grid"].widget.choices = [("", "不选")] + [(str(g.pk), g.name) for g in self.grids]
        counties = {v.county_id for v in self.villages}
        from gongzhi.cases.models import CaseCategory

        cats = CaseCategory.objects.for_county(next(iter(counties))).filter(active=True) if len(counties) == 1 else \
            CaseCategory.objects.filter(county__isnull=True, active=True)
        self.fields["category"].widget.choices = [("", "不确定")] + [(c.code, c.name) for c in cats.order_by("sort_order")]
        if not self.is_bound:
            from gongzhi.core.scoping import CONTACTS, GRID, only_kind

            kind = only_kind(user, "cases.add_case")
            self.initial.setdefault("channel", Channel.GRID_PATROL if kind == GRID else
                                    Channel.THREE_LINE if kind == CONTACTS else Channel.HOTLINE)
            self.initial.setdefault("key", new_key())
            mine = [g for g in self.grids if g.worker_id and g.worker_id == user.person_id]
            if len(mine) == 1:
                self.initial.setdefault("grid", str(mine[0].pk))
                self.initial.setdefault("village", str(mine[0].village_id))

    def clean(self):
        data = super().clean()
        errors = Errors()
        attempt = errors.attempt
        channel = (self.data.get("channel") or "").strip()
        if channel not in {c.value for c in STAFF_CHANNELS}:
            errors["channel"] = ["请选择来源"]
        data["channel"] = channel
        data.update(staff_fields(self.data, errors))
        data["photos"] = attempt(lambda: clean_photos(self.files_list))
        villages = {str(v.pk): v for v in self.villages}
        data["village"] = villages.get(str(self.data.get("village") or ""))
        if data["village"] is None:
            errors.setdefault("village", ["请选择事发村（社区）"])
        grid = None
        if self.data.get("grid"):
            grid = next((g for g in self.grids if str(g.pk) == str(self.data["grid"])), None)
            if grid is None or (data["village"] is not None and grid.village_id != data["village"].pk):
                errors.setdefault("grid", ["网格不在所选的村（社区）"])
                grid = None
        data["grid"] = grid
        person = None
        if (self.data.get("person") or "").strip():
            person_id = str(self.data["person"]).strip()
            person = Person.objects.visible_to(self.user, "registry.view_person").filter(
                pk=int(person_id)).first() if person_id.isdigit() else None
            if person is None:
                errors.setdefault("person", ["没有找到这位群众，请重新查找"])
        data["person"] = person
        code = (self.data.get("category") or "").strip()
        category = None
        if code and data["village"] is not None:
            category = selectors.category_in_county(Region.objects.get(pk=data["village"].county_id), code)
            if category is None:
                errors.setdefault("category", ["请从列表中选择类别"])
        data["category"] = category
        from .idempotency import validate_key

        try:
            data["key"] = validate_key(self.data.get("key"))
        except ValueError:
            data["key"] = None
        _report(self, errors)
        return data


def clean_email(value: str) -> str:
    email = clean(value)
    if not email:
        return ""
    try:
        EmailValidator()(email)
    except ValidationError:
        raise ValidationError({"email": "电子邮箱格式不对"}) from None
    return email[:254]
