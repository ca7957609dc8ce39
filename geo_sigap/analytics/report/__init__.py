"""The quarterly rakor report (HTML + PDF, Bahasa Indonesia). See :func:`build_report`."""

from geo_sigap.analytics.report.builder import ReportPaths, build_report

__all__ = ["ReportPaths", "build_report"]
