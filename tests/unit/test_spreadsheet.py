"""scrapersky.core.spreadsheet: the one rule for CSV cells, in the exporters and in console.js."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scrapersky.core.spreadsheet import FORMULA_STARTS, formula_safe
from scrapersky.exporters import CsvItemExporter, FormulaSafeCsvItemExporter

CONSOLE_JS = Path(__file__).resolve().parents[2] / "scrapersky/api/console/static/console.js"
CASES = [
    '=HYPERLINK("http://evil.test","x")',
    "@SUM(1+1)|cmd",
    "+1 202 555 0143",
    "-2+3",
    "\t=1+1",
    "\r=1+1",
    "  =1+1",
    "\u00a0@x",
    "\uff1d1+1",  # full-width =
    "http://a.test/-2+3",
    "plain title",
    "'already quoted",
    "",
]


@pytest.mark.parametrize("text", CASES)
def test_a_cell_a_spreadsheet_would_run_gets_a_quote_and_keeps_its_text(text):
    safe = formula_safe(text)
    dangerous = text.lstrip(" \n\x0b\x0c\u00a0\u3000")[:1] in FORMULA_STARTS - {""}
    assert safe == ("'" + text if dangerous else text)


def test_numbers_and_empty_cells_are_left_as_they_are():
    assert formula_safe(-2) == -2 and formula_safe(-0.5) == -0.5 and formula_safe(None) is None
    assert formula_safe(datetime(2024, 5, 1, tzinfo=UTC)) == "2024-05-01 00:00:00+00:00"


@given(st.text())
def test_no_text_starts_a_formula_and_the_original_follows_the_quote(text):
    safe = formula_safe(text)
    start = safe.lstrip(" \n\x0b\x0c\u00a0\u3000")[:1]
    assert start not in FORMULA_STARTS or start == ""
    assert safe in (text, "'" + text)


def _export(exporter_class, items) -> list[list[str]]:
    out = io.BytesIO()
    exporter = exporter_class(out)
    exporter.start_exporting()
    for item in items:
        exporter.export_item(item)
    exporter.finish_exporting()
    return list(csv.reader(io.StringIO(out.getvalue().decode("utf-8"))))


def test_both_csv_exporters_write_safe_cells():
    row = {
        "type": "domain",
        "domain": "a.test",
        "title": CASES[0],
        "phone_numbers": ["+12025550143"],
    }
    header, line = _export(CsvItemExporter, [row])
    cells = dict(zip(header, line, strict=True))
    assert cells["title"] == "'" + CASES[0] and cells["phone_numbers"] == "'+12025550143"
    # `scrapy changes -o x.csv`
    header, line = _export(FormulaSafeCsvItemExporter, [{"subject": "@SUM(1+1)|cmd", "n": -1}])
    assert line == ["'@SUM(1+1)|cmd", "-1"]


def test_the_console_applies_the_same_rule(tmp_path):
    node = shutil.which("node")
    if node is None:
        pytest.skip("no node to run console.js's function")
    source = CONSOLE_JS.read_text()
    function = re.search(r"^function formulaSafe\(value\) \{.*?^\}", source, re.S | re.M)
    assert function, "console.js builds its CSV with formulaSafe"
    assert "formulaSafe(v)" in source  # every cell of its export goes through it
    script = tmp_path / "check.js"
    script.write_text(
        function.group(0)
        + f"\nconsole.log(JSON.stringify({json.dumps([*CASES, -2, 0.5])}.map(formulaSafe)));\n"
    )
    done = subprocess.run([node, str(script)], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == [formula_safe(c) for c in CASES] + ["-2", "0.5"]
