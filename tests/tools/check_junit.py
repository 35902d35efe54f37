"""Checks a JUnit XML report the way CI platforms read it: well-formed XML, a <testsuites> root holding
<testsuite> elements whose counts match their <testcase> children, every failure with a message.

Usage: check_junit.py FILE. Prints one JSON object (suites, cases, failures) on success; exits 1 otherwise.
"""

import json
import sys
import xml.etree.ElementTree as ET


def main():
    root = ET.parse(sys.argv[1]).getroot()
    assert root.tag == "testsuites", f"root is <{root.tag}>, not <testsuites>"
    report = {"suites": [], "cases": [], "failures": []}
    total = failed = 0
    for suite in root:
        assert suite.tag == "testsuite", f"<{suite.tag}> under <testsuites>"
        cases = suite.findall("testcase")
        failures = [case for case in cases if case.find("failure") is not None]
        assert int(suite.get("tests")) == len(cases), "tests count"
        assert int(suite.get("failures")) == len(failures), "failures count"
        assert suite.get("name"), "suite name"
        for case in cases:
            assert case.get("name") and case.get("classname"), "testcase name and classname"
            report["cases"].append({"name": case.get("name"), "file": case.get("file")})
            failure = case.find("failure")
            if failure is not None:
                assert failure.get("message") and failure.get("type"), "failure message and type"
                report["failures"].append({"type": failure.get("type"), "message": failure.get("message")})
        report["suites"].append(suite.get("name"))
        total += len(cases)
        failed += len(failures)
    assert int(root.get("tests")) == total and int(root.get("failures")) == failed, "root counts"
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    try:
        main()
    except (AssertionError, ET.ParseError, TypeError, ValueError) as error:
        print(f"not a JUnit report: {error}", file=sys.stderr)
        sys.exit(1)
