"""PDF of the deck: the pptx converted by LibreOffice (``soffice --headless``) where the server has it.

One conversion at a time (each starts a LibreOffice of its own, with a
throwaway profile so none waits on another's lock); a conversion that does
not finish in :data:`TIMEOUT_S` fails. Without LibreOffice, asking for a PDF
is a clear :class:`~candor.errors.ExportUnavailable`.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Final

from candor.errors import ExportUnavailable
from candor.export.model import Export
from candor.export.pptx import render_pptx

TIMEOUT_S: Final = 180
_ONE_AT_A_TIME = threading.Lock()


def soffice() -> str | None:
    """LibreOffice's command on this server's PATH, or None."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def pptx_to_pdf(pptx: bytes) -> bytes:
    """``pptx`` as LibreOffice renders it to PDF; ExportUnavailable when it cannot."""
    command = soffice()
    if command is None:
        raise ExportUnavailable(
            "a PDF needs LibreOffice (soffice) on the server, and it has none: download the PowerPoint (.pptx) "
            "instead, or install LibreOffice"
        )
    with _ONE_AT_A_TIME, tempfile.TemporaryDirectory(prefix="candor-pdf-") as work:
        folder = Path(work)
        (folder / "deck.pptx").write_bytes(pptx)
        try:
            subprocess.run(
                [command, "--headless", "--norestore", f"-env:UserInstallation={(folder / 'profile').as_uri()}",
                 "--convert-to", "pdf", "--outdir", str(folder), str(folder / "deck.pptx")],
                check=True, capture_output=True, timeout=TIMEOUT_S,
            )  # fmt: skip
        except subprocess.TimeoutExpired as exc:
            raise ExportUnavailable(f"LibreOffice did not finish the PDF within {TIMEOUT_S} s") from exc
        except (subprocess.CalledProcessError, OSError) as exc:
            raise ExportUnavailable(f"LibreOffice could not make the PDF: {exc}") from exc
        pdf = folder / "deck.pdf"
        if not pdf.exists():
            raise ExportUnavailable("LibreOffice ran but wrote no PDF")
        return pdf.read_bytes()


def render_pdf(export: Export) -> bytes:
    return pptx_to_pdf(render_pptx(export))
