"""Spreadsheets for the tests of importing people: an XLSX built with openpyxl, as Excel saves it."""

import io

import openpyxl

PEOPLE_COLUMNS = ("username", "nama", "nip", "pangkat_golongan", "email", "jabatan")


def xlsx_bytes(rows, *, header=PEOPLE_COLUMNS) -> bytes:
    """A workbook whose first sheet has ``header`` and then ``rows``."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
