"""Reading a catalog file (YAML or CSV) into validated items, all or nothing.

YAML: a mapping with ``items:`` (or a bare list) of items shaped like ``POST /catalog/items``.
CSV: one item per row with the columns ``code,name,kind,department,departments,lead_department,
window,legal_days,committed_days,trips,online,fee_fen,stage,materials,secret`` (``secret`` optional); ``departments`` is
``;``-separated, ``materials`` is ``CODE|name|critical;CODE|name|optional``.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import yaml
from pydantic import ValidationError

from owkernel.errors import Unprocessable, field_error, validation_field_errors
from services.intake.catalog.schemas import ItemCreate

MAX_ITEMS = 5000
MAX_ERRORS = 50
CSV_COLUMNS = (
    "code",
    "name",
    "kind",
    "department",
    "departments",
    "lead_department",
    "window",
    "legal_days",
    "committed_days",
    "trips",
    "online",
    "fee_fen",
    "stage",
    "materials",
    "secret",
)
_TRUE = {"true", "yes", "y", "1", "是", "critical"}
_FALSE = {"false", "no", "n", "0", "否", "optional", "non-critical", ""}


class _NoAliasLoader(yaml.SafeLoader):
    """Safe YAML without anchors and aliases (no "billion laughs" from an upload)."""

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            raise yaml.composer.ComposerError(None, None, "aliases are not allowed", None)
        return super().compose_node(parent, index)


def _bad(detail: str, errors: list[dict[str, Any]] | None = None) -> Unprocessable:
    return Unprocessable(detail, errors=errors or [field_error("file", detail, "import_invalid")])


def _format(filename: str | None, content_type: str | None, text: str) -> str:
    name = (filename or "").lower()
    ctype = (content_type or "").lower()
    if name.endswith(".csv") or "csv" in ctype:
        return "csv"
    if name.endswith((".yaml", ".yml")) or "yaml" in ctype:
        return "yaml"
    first = text.lstrip().split("\n", 1)[0]
    return "csv" if first.startswith("code,") else "yaml"


def _flag(value: str, *, field: str) -> bool:
    low = value.strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise ValueError(f"{field}: {value!r} is not yes/no")


def _csv_rows(text: str) -> list[tuple[str, dict[str, Any]]]:
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in ("code", "name", "kind", "window") if c not in (reader.fieldnames or [])]
    if missing:
        raise _bad(f"The CSV header lacks the columns: {', '.join(missing)}.")
    out: list[tuple[str, dict[str, Any]]] = []
    for n, row in enumerate(reader, start=2):
        where = f"row {n}"
        if None in row:
            raise _bad(f"{where} has more values than the header has columns.")
        item: dict[str, Any] = {}
        try:
            for column in CSV_COLUMNS:
                value = (row.get(column) or "").strip()
                if column == "departments":
                    item[column] = [d.strip() for d in value.split(";") if d.strip()]
                elif column == "materials":
                    materials = []
                    for part in (p for p in value.split(";") if p.strip()):
                        bits = [b.strip() for b in part.split("|")]
                        if len(bits) not in (2, 3):
                            raise ValueError(f"materials: {part!r} is not CODE|name|critical")
                        critical = _flag(bits[2], field="materials") if len(bits) == 3 else True
                        materials.append({"code": bits[0], "name": bits[1], "critical": critical})
                    item[column] = materials
                elif column in ("online", "secret"):
                    item[column] = _flag(value, field=column)
                elif value != "":
                    item[column] = value
        except ValueError as exc:
            raise _bad(f"{where}: {exc}", [field_error(where, str(exc), "import_invalid")]) from exc
        out.append((where, item))
    return out


def _yaml_rows(text: str) -> list[tuple[str, dict[str, Any]]]:
    try:
        data = yaml.load(text, Loader=_NoAliasLoader)
    except yaml.YAMLError as exc:
        raise _bad(f"The file is not valid YAML: {str(exc)[:300]}") from exc
    items = data.get("items") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise _bad("The YAML file holds no list of items (expected `items:`).")
    out: list[tuple[str, dict[str, Any]]] = []
    for n, item in enumerate(items):
        if not isinstance(item, dict):
            raise _bad(f"items[{n}] is not a mapping.")
        out.append((f"items[{n}]", item))
    return out


def parse_catalog_file(data: bytes, *, filename: str | None, content_type: str | None) -> list[ItemCreate]:
    """Validated items of an import file; 422 listing every problem when any item is wrong."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _bad("The file is not UTF-8 text.") from exc
    rows = _csv_rows(text) if _format(filename, content_type, text) == "csv" else _yaml_rows(text)
    if not rows:
        raise _bad("The file lists no items.")
    if len(rows) > MAX_ITEMS:
        raise _bad(f"A file may hold at most {MAX_ITEMS} items.")
    items: list[ItemCreate] = []
    errors: list[dict[str, Any]] = []
    seen: dict[str, str] = {}
    for where, raw in rows:
        try:
            item = ItemCreate.model_validate(raw)
        except ValidationError as exc:
            errors.extend(validation_field_errors(exc.errors(), prefix=where))
            continue
        if item.code in seen:
            errors.append(
                field_error(
                    f"{where}.code",
                    f"{item.code} is also at {seen[item.code]}",
                    "item_code_repeated",
                    item_code=item.code,
                    first_at=seen[item.code],
                )
            )
            continue
        seen[item.code] = where
        items.append(item)
    if errors:
        raise Unprocessable(f"The file has {len(errors)} problem(s); nothing was imported.", errors=errors[:MAX_ERRORS])
    return items
