"""The message catalogues: every marked message translated, the compiled files current, every line the
service stores read back into Chinese, and languages negotiated as RFC 9110 says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from healthcode import i18n
from healthcode.api.problems import problem
from healthcode.errors import FieldError, InvalidInput, NotFound
from healthcode.i18n import localize
from healthcode.scoring import Checkin, Facts, State, evaluate
from healthcode.scoring.rules import Color, Contact, Override, Stay, SymptomReport
from healthcode.usecases import codecheck
from tests.unit.scoring_helpers import RULES, at, d

SHARED = Path(__file__).resolve().parents[2] / "shared" / "healthcode"
LC = SHARED / "locale" / "zh_CN" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def _marked() -> set[str]:
    found = extract_from_dir(str(SHARED), method_map=[("**.py", "python")], keywords={"N_": None})
    return {m[2] for m in found}


def test_every_marked_message_has_a_chinese_translation_with_the_same_placeholders():
    with (LC / "healthcode.po").open("rb") as f:
        po = {m.id: m.string for m in read_po(f) if m.id}
    marked = _marked()
    assert len(marked) > 100
    missing = sorted(m for m in marked if not po.get(m))
    assert missing == [], f"untranslated (make i18n, then translate): {missing}"
    for m in marked:
        assert set(PLACEHOLDER.findall(po[m])) <= set(PLACEHOLDER.findall(m)), m  # may leave one out, adds none
        words = PLACEHOLDER.sub("", m)
        assert re.search(r"[\u4e00-\u9fff]", po[m]) or not re.search(r"[a-z]{2,}", words), f"not Chinese: {po[m]}"


def test_the_compiled_catalogue_is_the_po_file():
    with (LC / "healthcode.po").open("rb") as f:
        po = {m.id: m.string for m in read_po(f) if m.id}
    with (LC / "healthcode.mo").open("rb") as f:
        mo = {m.id: m.string for m in read_mo(f) if m.id}
    assert mo == po, "healthcode.mo is stale: run make i18n"


SAMPLES = {"days": "3", "on": "2020-02-01", "until": "2020-02-15", "left": "2020-02-03", "arrived": "2020-01-30",
           "earliest": "2020-02-02", "level": "4", "stays": "6", "ongoing": "1", "each": "10", "most": "30",
           "temperature": "38.2", "region": "420111", "code": "999999", "county": "330328"}


@pytest.mark.parametrize("template", sorted(m for m in _marked() if PLACEHOLDER.search(m)))
def test_a_stored_english_line_of_every_template_reads_back_in_chinese(template):
    values = {k: SAMPLES.get(k, "某处") for k in PLACEHOLDER.findall(template)}
    line = template.format(**values)
    assert localize(line, "en") == line
    assert localize(line, "zh-CN") == i18n.gettext_(template, "zh-CN").format(**values)


def test_every_reason_the_rules_give_reads_in_chinese():
    facts = Facts(
        stays=(
            *(Stay(f"42011{i}", d(-6), d(-2)) for i in range(6)),  # many: summed up per level
            Stay("420100", d(-1), None),
        ),
        contacts=(Contact("close_contact", d(-3)), Contact("secondary_contact", d(-2))),
        reports=(SymptomReport(d(-1), ("cough", "sore_throat"), 38.4),),
        checkins=(Checkin(d(0), 38.9, ("fever", "fatigue")),),
        case="suspected",
        overrides=(Override(Color.RED, "retest pending", d(3)),),
    )
    levels = {f"42011{i}": 4 for i in range(6)} | {"420100": 5}
    a = evaluate(facts, State(), levels, RULES, at(0), {"420100": "武汉市"})
    details = [r.detail for r in a.reasons]
    assert {r.factor for r in a.reasons} >= {"override", "suspected", "close_contact", "stay", "fever", "symptoms"}
    for line in details:
        chinese = localize(line, "zh-CN")
        assert chinese != line and not re.search(r"\b(days?|stays?|until|reported|contact|level|each)\b", chinese), (
            line,
            chinese,
        )
    assert any("咳嗽" in localize(x, "zh-CN") and "乏力" in localize(x, "zh-CN") for x in details)
    one = evaluate(Facts(stays=(Stay("420100", d(-1), d(0)),)), State(), {"420100": 5}, RULES, at(0), {"420100": "武汉市"})
    assert localize(one.reasons[0].detail, "zh-CN") == f"在武汉市（420100，5 级风险）停留 1 天，至 {d(0).isoformat()}"


def test_a_checkpoint_instruction_reads_in_chinese_with_its_parts():
    changed = codecheck.CHANGED.format(instruction=codecheck.INSTRUCTIONS[Color.RED], shown="green", now="red")
    assert localize(changed, "zh-CN").startswith("禁止通行：红码。")
    assert localize(changed, "zh-CN").endswith("出示的码为绿码；持码人当前为红码。")
    offline = codecheck.OFFLINE.format(instruction=codecheck.INSTRUCTIONS[Color.GREEN])
    assert localize(offline, "zh-CN").startswith("通行。离线核验")


def test_a_problem_speaks_the_request_language_and_names_its_fields():
    error = InvalidInput(
        i18n.N_("The declaration has problems; nothing was saved."),
        [FieldError("contact.on", "must not be in the future"), FieldError("name", "something not in the catalogue")],
    )
    status, headers, body = problem(error, "/v1/applications", "", "zh-CN")
    assert status == 422 and headers["Content-Language"] == "zh-CN"
    assert '"title": "输入有误"' in body and "申报信息有误" in body and "不能是将来的日期" in body
    assert "something not in the catalogue" in body  # what has no translation stays as it was said
    _, headers, body = problem(NotFound("No such route."), "/x", "", "en")
    assert '"title": "Not found"' in body and headers["Content-Language"] == "en"
