"""The self-contained HTML report (interface layer: reads analytics, holds no business rules).

``build_report(con, lang="en")`` assembles the sections registered in
:mod:`omnicrm.report.sections`; ``write_report(path, report)`` writes one HTML file that opens
offline (plotly.js is embedded once per page, no CDN).
"""

from omnicrm.report.page import Block, Report, Section, write_report
from omnicrm.report.sections import build_report

__all__ = ["Block", "Report", "Section", "build_report", "write_report"]
