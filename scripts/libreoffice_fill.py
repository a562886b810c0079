"""Fill cells of a spreadsheet in LibreOffice Calc and save it, as a partner would: opened by a
real LibreOffice (headless), typed into through its own API, saved by its own xlsx writer.

Used by the tests to show a sheet the pipeline writes round-trips through LibreOffice.
Run with the system Python, which has LibreOffice's ``uno`` module (python3-uno):

    /usr/bin/python3 scripts/libreoffice_fill.py IN.xlsx OUT.xlsx SHEET CELL=VALUE [CELL=VALUE ...]

A VALUE is typed as a user types it: "at risk" stays text, "2022-01-15" becomes a date.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _connect(pipe: str):  # type: ignore[no-untyped-def]
    import uno

    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    for _ in range(100):
        try:
            return resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
        except Exception:  # noqa: BLE001 - LibreOffice is still starting
            time.sleep(0.2)
    raise SystemExit("LibreOffice did not start")


def main(source: str, target: str, sheet_name: str, edits: list[str]) -> None:
    import uno
    from com.sun.star.beans import PropertyValue

    def prop(name: str, value: object) -> PropertyValue:
        p = PropertyValue()
        p.Name, p.Value = name, value
        return p

    pipe = f"sa-{os.getpid()}"
    profile = tempfile.mkdtemp(prefix="lo-profile-")
    office = subprocess.Popen(
        [
            "soffice",
            "--headless",
            "--invisible",
            "--norestore",
            f"-env:UserInstallation=file://{profile}",
            f"--accept=pipe,name={pipe};urp;",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        context = _connect(pipe)
        desktop = context.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", context)
        url = uno.systemPathToFileUrl(str(Path(source).resolve()))
        document = desktop.loadComponentFromURL(url, "_blank", 0, (prop("Hidden", True),))
        sheet = document.Sheets.getByName(sheet_name)
        for edit in edits:
            cell_name, value = edit.split("=", 1)
            sheet.getCellRangeByName(cell_name).setFormula(value)  # as if typed: dates are parsed
        out = uno.systemPathToFileUrl(str(Path(target).resolve()))
        document.storeToURL(out, (prop("FilterName", "Calc MS Excel 2007 XML"),))
        document.close(True)
    finally:
        office.terminate()
        office.wait(timeout=30)


if __name__ == "__main__":
    if len(sys.argv) < 5:
        raise SystemExit(__doc__)
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:])
