"""JUnit XML, so any CI that shows test reports shows each check as a test case.

Names, messages and values come from data; :func:`xml_text` drops what XML 1.0 cannot hold
(NUL, ESC, lone surrogates, ...), which ElementTree would otherwise write into a file no
parser reads back.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from mlgate.report.text import xml_text
from mlgate.result import GateResult, Status


def render_junit(results: list[GateResult]) -> str:
    suites = ET.Element("testsuites", name="mlgate")
    for r in results:
        failures = sum(1 for c in r.checks if c.status is Status.FAIL)
        errors = sum(1 for c in r.checks if c.status is Status.ERROR)
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=xml_text(r.gate),
            tests=str(len(r.checks)),
            failures=str(failures),
            errors=str(errors),
            skipped="0",
        )
        for c in r.checks:
            case = ET.SubElement(suite, "testcase", classname=xml_text(f"mlgate.{r.gate}"),
                                 name=xml_text(c.name))
            text = xml_text(f"value={c.value!r} threshold={c.threshold!r}")
            if c.status is Status.FAIL:
                ET.SubElement(case, "failure", message=xml_text(c.message or "failed")).text = text
            elif c.status is Status.ERROR:
                ET.SubElement(case, "error", message=xml_text(c.message or "error")).text = text
            elif c.status is Status.WARN:
                ET.SubElement(case, "system-out").text = xml_text(f"warning: {c.message}")
    ET.indent(suites)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
    )
