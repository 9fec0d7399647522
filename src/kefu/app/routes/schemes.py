"""Schemes: the templates, the shop's schemes, editing YAML with errors at their line."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from kefu.app import audit, permissions, services
from kefu.app.deps import CheckedDep, DbDep, Signed, SignedDep
from kefu.app.models import Scheme, SchemeVersion, User
from kefu.app.permissions import Action
from kefu.app.scheme_versions import save_new_scheme
from kefu.app.web import render

router = APIRouter()


def _scheme(db: DbDep, user: User, scheme_id: int) -> Scheme:
    permissions.require(user, Action.edit_schemes)
    scheme = db.get(Scheme, scheme_id)
    if scheme is None:
        raise permissions.NotFound()
    return scheme


@router.get("/schemes")
def schemes_page(request: Request, db: DbDep, signed: SignedDep) -> Response:
    permissions.require(signed.user, Action.edit_schemes)
    schemes = list(db.scalars(select(Scheme).order_by(Scheme.id)))
    return render(request, "schemes.html", {
        "templates": sorted(services.templates()), "schemes": schemes}, signed)


@router.get("/schemes/new")
def new_scheme_page(request: Request, signed: SignedDep, template: str = "presale") -> Response:
    permissions.require(signed.user, Action.edit_schemes)
    text = services.templates().get(template)
    if text is None:
        raise permissions.NotFound()
    return render(request, "scheme_edit.html", {
        "scheme": None, "text": text, "template": template, "problems": []}, signed)


def _invalid(request: Request, signed: Signed, scheme: Scheme | None, text: str,
             problems: list[services.SchemeProblem], template: str = "") -> Response:
    return render(request, "scheme_edit.html", {
        "scheme": scheme, "text": text, "problems": problems, "template": template},
        signed, status_code=422)


@router.post("/schemes")
def create_scheme(request: Request, db: DbDep, signed: CheckedDep,
                  yaml_text: Annotated[str, Form()],
                  template: Annotated[str, Form()] = "") -> Response:
    permissions.require(signed.user, Action.edit_schemes)
    name, problems = services.check_scheme(yaml_text)
    if problems or name is None:
        return _invalid(request, signed, None, yaml_text, problems, template)
    scheme = save_new_scheme(db, signed.user, name, yaml_text, template)
    db.commit()
    return RedirectResponse(f"/schemes/{scheme.id}", status_code=303)


@router.get("/schemes/{scheme_id:int}")
def scheme_page(request: Request, db: DbDep, signed: SignedDep, scheme_id: int) -> Response:
    scheme = _scheme(db, signed.user, scheme_id)
    return render(request, "scheme_edit.html", {
        "scheme": scheme, "text": scheme.latest.yaml_text, "problems": []}, signed)


@router.post("/schemes/{scheme_id:int}")
def save_scheme(request: Request, db: DbDep, signed: CheckedDep, scheme_id: int,
                yaml_text: Annotated[str, Form()],
                note: Annotated[str, Form()] = "") -> Response:
    scheme = _scheme(db, signed.user, scheme_id)
    name, problems = services.check_scheme(yaml_text)
    if problems or name is None:
        return _invalid(request, signed, scheme, yaml_text, problems)
    if yaml_text == scheme.latest.yaml_text:
        return RedirectResponse(f"/schemes/{scheme.id}", status_code=303)
    number = scheme.latest.version + 1
    db.add(SchemeVersion(scheme_id=scheme.id, version=number, yaml_text=yaml_text, note=note,
                         created_by=signed.user.username))
    scheme.name = name
    audit.record(db, signed.user, "scheme.version", "scheme", scheme.id,
                 {"name": name, "version": number}, note)
    db.commit()
    return RedirectResponse(f"/schemes/{scheme.id}", status_code=303)


@router.get("/schemes/{scheme_id:int}/versions/{number:int}")
def scheme_version_page(request: Request, db: DbDep, signed: SignedDep, scheme_id: int,
                        number: int) -> Response:
    scheme = _scheme(db, signed.user, scheme_id)
    version = next((v for v in scheme.versions if v.version == number), None)
    if version is None:
        raise permissions.NotFound()
    return render(request, "scheme_version.html", {"scheme": scheme, "version": version},
                  signed)


@router.post("/schemes/check")
def check_scheme(request: Request, signed: CheckedDep,
                 yaml_text: Annotated[str, Form()]) -> Response:
    """The htmx partial: problems at their line, or that the scheme is valid."""
    permissions.require(signed.user, Action.edit_schemes)
    _, problems = services.check_scheme(yaml_text)
    return render(request, "_scheme_problems.html", {"problems": problems, "checked": True},
                  signed)
