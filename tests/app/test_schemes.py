"""Schemes in the app: templates, YAML edited in the browser, errors at their line, versions."""

from __future__ import annotations

from kefu.app import services
from kefu.app.models import SchemeVersion
from tests.app.conftest import World


def test_director_sees_templates_and_the_shops_schemes(world: World) -> None:
    page = world.client("gina").get("/schemes")
    assert "presale" in page.text and "aftersale" in page.text
    assert 'href="/schemes/1"' in page.text


def test_a_bad_value_is_shown_at_its_line(world: World) -> None:
    text = services.templates()["presale"]
    bad = text.replace("target: 0.30", "target: lots", 1)
    line = bad.splitlines().index(next(x for x in bad.splitlines() if "target: lots" in x)) + 1
    response = world.client("gina").post("/schemes/1", {"yaml_text": bad})
    assert response.status_code == 422
    assert f'<td class="num"><a href="#L{line}">{line}</a></td>' in response.text
    assert f'<li id="L{line}" class="bad">' in response.text


def test_broken_yaml_is_shown_at_its_line() -> None:
    name, problems = services.check_scheme("name: x\nitems:\n  - key: [unclosed\n")
    assert name is None and problems[0].line == 4 and "YAML" in problems[0].message


def test_an_unknown_metric_is_shown_at_its_line() -> None:
    text = "name: x\nitems:\n  - key: conversion_rate\n    weight: 0.5\n" \
           "    floor: 0.1\n    target: 0.3\n  - key: no_such_metric\n    weight: 0.5\n"
    _, problems = services.check_scheme(text)
    assert problems and problems[0].line == 7 and "no_such_metric" in problems[0].message


def test_saving_keeps_every_version(world: World) -> None:
    gina = world.client("gina")
    v1 = services.templates()["presale"]
    v2 = v1.replace('version: "2024.06"', 'version: "2024.07"')
    assert gina.post("/schemes/1", {"yaml_text": v2, "note": "七月版"}).status_code == 303
    with world.app.state.db() as db:
        versions = db.query(SchemeVersion).filter_by(scheme_id=1).order_by(
            SchemeVersion.version).all()
        assert [(v.version, v.yaml_text, v.note) for v in versions] == [
            (1, v1, ""), (2, v2, "七月版")]
    old = gina.get("/schemes/1/versions/1")
    assert old.status_code == 200 and "2024.06" in old.text
    assert "七月版" in gina.get("/schemes/1").text


def test_check_partial_answers_valid_or_the_problems(world: World) -> None:
    gina = world.client("gina")
    ok = gina.post("/schemes/check", {"yaml_text": services.templates()["aftersale"]},
                   headers={"HX-Request": "true"})
    assert "方案有效" in ok.text and "<html" not in ok.text
    bad = gina.post("/schemes/check", {"yaml_text": "name: [x"})
    assert "YAML" in bad.text


def test_director_creates_a_scheme_from_a_template(world: World) -> None:
    gina = world.client("gina")
    page = gina.get("/schemes/new", params={"template": "aftersale"})
    assert "售后" in page.text
    response = gina.post("/schemes", {"yaml_text": services.templates()["aftersale"],
                                      "template": "aftersale"})
    assert response.status_code == 303 and response.headers["location"] == "/schemes/2"
