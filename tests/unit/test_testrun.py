"""Running pytest on small files from a notebook: names and outcomes only."""
import pytest

from edlib.course.testrun import TestReport, TestResult, module_source, run_pytest


def double(x):
    return 2 * x


def test_a_pass_and_a_failure_with_its_message():
    report = run_pytest({"app.py": module_source(double), "test_app.py": '''
        from app import double

        def test_double():
            assert double(2) == 4

        def test_wrong():
            assert double(2) == 5, "two times two is four"
        '''})
    assert report.results == (TestResult("test_app.py::test_double", "passed"),
                              TestResult("test_app.py::test_wrong", "failed", "AssertionError: two times two is four"))
    assert report.summary() == "1 passed, 1 failed" and not report.ok and report.exit_code == 1
    table = report.table()
    assert "test_app.py::test_wrong   FAILED" in table and "/" not in table.replace("::", "")


def test_runs_are_independent_and_leave_no_module_behind():
    import sys
    first = run_pytest({"app.py": "X = 1\n", "test_one.py": "from app import X\ndef test_x():\n    assert X == 1\n"})
    second = run_pytest({"app.py": "X = 2\n", "test_one.py": "from app import X\ndef test_x():\n    assert X == 2\n"})
    assert first.ok and second.ok and "app" not in sys.modules


def test_exception_names_lose_their_module_path():
    report = run_pytest({"test_c.py": '''
        from edlib.patterns.contracts import Contract
        def test_contract():
            Contract("inventory", "OrderPlaced", {"required": ["qty"]}).check([{"quantity": 1}])
        '''})
    [result] = report.results
    assert result.message.startswith("ContractBroken: contract broken: event 1: inventory relies on")


def test_collection_errors_and_setup_errors_are_reported():
    report = run_pytest({"test_broken.py": "def test_x(:\n    pass\n"})
    assert report.results == (TestResult("test_broken.py", "error", "SyntaxError: invalid syntax"),)
    report = run_pytest({"test_fix.py": '''
        import pytest
        @pytest.fixture
        def broken():
            raise RuntimeError("no database")
        def test_uses(broken):
            pass
        @pytest.mark.skip(reason="later")
        def test_later():
            pass
        '''})
    assert [(r.outcome, r.message) for r in report.results] == [("error", "RuntimeError: no database"),
                                                                ("skipped", "")]
    assert report.summary() == "1 error, 1 skipped"


def test_bad_arguments():
    with pytest.raises(TypeError):
        run_pytest({})
    with pytest.raises(ValueError):
        run_pytest({"../escape.py": "x = 1"})
    with pytest.raises(ValueError):
        TestReport((), 0).count("green")
    with pytest.raises(ValueError):
        module_source()


def test_module_source_keeps_the_functions_as_written():
    text = module_source(double, header="import math")
    assert text == "import math\n\n\ndef double(x):\n    return 2 * x\n"
