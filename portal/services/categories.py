"""Ticket categories and their custom fields: what customers choose from, and checking their answers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from portal.errors import N_, Invalid
from portal.models import Category, CustomField, Ticket

MAX_FIELD_VALUE = 500
MAX_NUMBER_DIGITS = 100  # before or after the decimal point
MAX_FIELD_ANSWERS = 100  # answers in one API call

# (English name, Spanish name, custom fields as (key, label_en, label_es, kind, required, options))
DEFAULT_CATEGORIES: tuple[tuple[str, str, tuple], ...] = (
    ("Account & login", "Cuenta y acceso", ()),
    ("Billing & invoices", "Facturación y facturas", (
        ("invoice_number", "Invoice number", "Número de factura", "text", False, []),
    )),
    ("Connection problems", "Problemas de conexión", (
        ("connection_type", "Connection type", "Tipo de conexión", "select", True, [
            {"value": "fibre", "label_en": "Fibre", "label_es": "Fibra"},
            {"value": "5g", "label_en": "5G home internet", "label_es": "Internet 5G en casa"},
            {"value": "mobile", "label_en": "Mobile data", "label_es": "Datos móviles"},
        ]),
        ("router_restarted", "I have restarted the router", "He reiniciado el router", "checkbox", False, []),
    )),
    ("Devices & SIM", "Dispositivos y SIM", (
        ("device_model", "Device model", "Modelo del dispositivo", "text", False, []),
    )),
    ("Other", "Otros", ()),
)


def active_categories(session: Session) -> list[Category]:
    """The categories a customer can choose, in the admins' order, with their fields loaded."""
    query = (select(Category).where(Category.active).options(selectinload(Category.fields))
             .order_by(Category.position, Category.id))
    return list(session.scalars(query))


def get_active(session: Session, category_id: int | None) -> Category | None:
    if category_id is None:
        return None
    category = session.get(Category, category_id)
    if category is None or not category.active:
        raise Invalid(N_("Choose one of the categories offered."), field="category")
    return category


def get_existing(session: Session, category_id: int | None, *, field: str = "category") -> Category | None:
    """The category with this id (None for none), offered or retired: whoever sets it checks which it may
    choose. An id that names nothing is refused on `field`."""
    if category_id is None:
        return None
    category = session.get(Category, category_id)
    if category is None:
        raise Invalid(N_("Choose one of the categories offered."), field=field)
    return category


def ensure_default_categories(session: Session) -> list[Category]:
    """A sensible starting set when there are no categories at all (for the demo loader and tests);
    returns what it created. Admins edit them afterwards."""
    if session.scalar(select(Category.id).limit(1)) is not None:
        return []
    created = []
    for position, (name_en, name_es, fields) in enumerate(DEFAULT_CATEGORIES):
        category = Category(name_en=name_en, name_es=name_es, position=position, active=True)
        for field_position, (key, label_en, label_es, kind, required, options) in enumerate(fields):
            category.fields.append(CustomField(key=key, label_en=label_en, label_es=label_es, kind=kind,
                                               required=required, options=options, position=field_position,
                                               active=True))
        session.add(category)
        created.append(category)
    session.flush()
    return created


def clean_field_values(category: Category | None, raw: Mapping[str, object], *,
                       require: bool = True) -> dict[CustomField, str]:
    """The answers to a category's active fields, checked and as stored text; fields left empty are omitted.
    Raises Invalid naming the field (`field_<key>`) that is wrong, or missing when `require` (see
    `tickets.create_ticket` for who must answer the required ones)."""
    if category is None:
        return {}
    values: dict[CustomField, str] = {}
    for field in category.fields:
        if not field.active:
            continue
        value = clean_value(field, raw.get(field.key), require=require)
        if value is not None:
            values[field] = value
    return values


def inherited_values(category: Category | None, closed: Ticket) -> dict[CustomField, str]:
    """A follow-up's answers: the closed ticket's, to the questions its category still asks."""
    if category is None or category.id != closed.category_id:
        return {}
    active = {field.id: field for field in category.fields if field.active}
    return {active[value.field_id]: value.value for value in closed.field_values if value.field_id in active}


def check_keys(category: Category | None, raw: Mapping[str, object]) -> None:
    """Answers to questions the category does not ask are refused rather than dropped unseen (the API)."""
    known = {field.key for field in (category.fields if category else []) if field.active}
    for key in raw:
        if key not in known:
            raise Invalid(N_("This category has no field %(key)s."), field=f"field_{str(key)[:40]}",
                          key=str(key)[:40])


def clean_value(field: CustomField, value: object, *, require: bool = True) -> str | None:
    """One answer, checked by the field's kind and options; None when empty (refused if required)."""
    cleaned = _clean(field, value)
    if cleaned is None and require and field.required:
        raise Invalid(N_("This field is required."), field=f"field_{field.key}")
    return cleaned


def missing_required(category: Category | None, answered: Iterable[int]) -> list[CustomField]:
    """The active required fields of the category without an answer (a ticket filed by mail, say)."""
    have = set(answered)
    return [f for f in (category.fields if category else []) if f.active and f.required and f.id not in have]


def _clean(field: CustomField, value: object) -> str | None:
    if value is not None and not isinstance(value, (str, int, float, Decimal)):
        raise Invalid(N_("Enter a single value."), field=f"field_{field.key}")  # a list or object (API)
    if field.kind == "checkbox":
        return "yes" if value in (True, "y", "yes", "on", "true", "1") else None
    text = "" if value is None else str(value).strip()
    if not text:
        return None
    if len(text) > MAX_FIELD_VALUE:
        raise Invalid(N_("Use at most %(max)s characters."), field=f"field_{field.key}", max=MAX_FIELD_VALUE)
    if "\x00" in text:  # PostgreSQL cannot store it; forms never carry one, JSON can
        raise Invalid(N_("Remove the NUL character from this value."), field=f"field_{field.key}")
    if field.kind == "number":
        return _number(field, text)
    if field.kind == "select" and text not in {value for value, _label in field.choices("en")}:
        raise Invalid(N_("Choose one of the options offered."), field=f"field_{field.key}")
    return text


def _number(field: CustomField, text: str) -> str:
    try:
        number = Decimal(text.replace(",", "."))
    except InvalidOperation:
        raise Invalid(N_("Enter a number."), field=f"field_{field.key}") from None
    # "1e999999999" is a few characters, but written out in full it would be a billion digits.
    if not number.is_finite() or abs(number.adjusted()) > MAX_NUMBER_DIGITS:
        raise Invalid(N_("Enter a number."), field=f"field_{field.key}")
    return format(number.normalize(), "f") if number == number.to_integral() else str(number)
