"""Reads an XLSX workbook back with openpyxl and prints every sheet as JSON: its cells
with their types and number formats, its frozen pane and whether the header is bold.

Usage: python xlsx_sheets.py WORKBOOK.xlsx
"""

import datetime
import json
import sys

import openpyxl


def value(cell):
    v = cell.value
    if isinstance(v, datetime.datetime):
        return {"datetime": v.isoformat()}
    if isinstance(v, datetime.date):
        return {"date": v.isoformat()}
    return v


def main():
    book = openpyxl.load_workbook(sys.argv[1])
    sheets = {}
    for sheet in book.worksheets:
        rows = list(sheet.iter_rows())
        sheets[sheet.title] = {
            "frozen": sheet.freeze_panes,
            "header_bold": all(c.font.bold for c in rows[0] if c.value is not None) if rows else False,
            "rows": [[value(c) for c in row] for row in rows],
            "types": [[c.data_type for c in row] for row in rows],
            "formats": [[c.number_format for c in row] for row in rows],
            "widths": {k: d.width for k, d in sheet.column_dimensions.items()},
        }
    json.dump({"sheets": [s.title for s in book.worksheets], "data": sheets}, sys.stdout)


if __name__ == "__main__":
    main()
