"""The assessment pages speak Chinese: every string of the app's catalogue is translated and the
compiled catalogue is current."""
from __future__ import annotations

import re
from pathlib import Path

from django.utils import translation

import gongzhi.assessment

PO = Path(gongzhi.assessment.__file__).parent / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
CJK = re.compile(r"[\u4e00-\u9fff]")


def _entries():
    for block in PO.read_text(encoding="utf-8").split("\n\n")[1:]:
        msgid = re.search(r'^msgid ((?:".*"\n?)+)', block, re.M)
        msgstr = re.search(r'^msgstr(?:\[0\])? ((?:".*"\n?)+)', block, re.M)
        if not msgid or not msgstr:
            continue
        join = lambda m: "".join(eval(line) for line in m.group(1).strip().split("\n"))  # noqa: E731,S307
        yield join(msgid), join(msgstr)


def test_every_assessment_string_is_translated_and_compiled():
    entries = [(i, s) for i, s in _entries() if i]
    assert len(entries) > 200
    assert not [msgid for msgid, msgstr in entries if not CJK.search(msgstr)]
    with translation.override("zh-hans"):
        stale = [msgid for msgid, _ in entries if not CJK.search(translation.gettext(msgid))]
    assert not stale, f"the .mo is older than the .po: {stale[:5]}"
