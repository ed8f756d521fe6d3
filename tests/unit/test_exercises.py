"""The exercise framework: outcomes, kinds, hints, robustness, setup, progress, one live kernel."""
from __future__ import annotations

import json
import linecache
import os
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from edlib import World
from edlib.exercises import (
    Case,
    FunctionExercise,
    Incorrect,
    Outcome,
    PredictExercise,
    SetupError,
    SystemExercise,
    ValueExercise,
    WrongAnswer,
    ____,
    progress,
    registry,
    setup,
    setup_check,
)
from edlib.exercises.placeholder import code_uses_placeholder, contains_placeholder
from edlib.exercises.progress import ENV_VAR, done_keys, progress_view, remember
from edlib.exercises.timelimit import TookTooLong, time_limit

FIXTURES = Path(__file__).resolve().parents[1] / "exercises" / "fixtures"
_cells = iter(range(10**6))


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path):
    """Each test: its own progress file, no setup problem, no results from other tests."""
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "progress.json"))
    setup_check._state.update(problem=None, notebook=None)
    registry.forget_results()
    yield
    setup_check._state.update(problem=None, notebook=None)


def cell(source: str, ns: dict | None = None) -> dict:
    """Run ``source`` as a notebook cell would: a file name like IPython's, source in linecache."""
    ns = {"____": ____} if ns is None else ns
    name = os.path.join(tempfile.gettempdir(), "ipykernel_0", f"{next(_cells)}.py")
    linecache.cache[name] = (len(source), None, source.splitlines(True), name)
    exec(compile(source, name, "exec"), ns)
    return ns


# -- exercises used below: one of each kind ------------------------------------------------------
def _double_check(value):
    if value != 42:
        raise Incorrect(f"{value} is not twice 21.")
    return "42 it is."


value_ex = ValueExercise(notebook="ut", name="v1", title="twice 21", variable="twice", types=(int,),
                         expects="a whole number", check=_double_check, hints=["Multiply.", "21 * 2"],
                         solution="twice = 21 * 2", wrong=[WrongAnswer("twice = 21 + 2", "is not twice 21")])

function_ex = FunctionExercise(notebook="ut", name="f1", title="total", variable="total", returns=(int, float),
                               cases=[Case(({"a": 1, "b": 2},), 3), Case(({"x": 10},), 10)],
                               solution="def total(d):\n    return sum(d.values())", time_limit=0.5,
                               wrong=[WrongAnswer("def total(d):\n    return len(d)", "should return 3")])


def _handler_trial(handler):
    world = World(seed=1)
    svc = world.add_service("shipping")
    svc.handles("OrderPlaced")(handler)
    world.publish("OrderPlaced", {"order_id": "order-1"})
    world.run()
    if svc.db.count("shipments") != 1:
        raise Incorrect("no shipment was stored.")
    return "stored."


handler_ex = FunctionExercise(notebook="ut", name="f2", title="handler", variable="ship", handler=True,
                              trial=_handler_trial, time_limit=0.5,
                              solution='def ship(event, db):\n    db.put("shipments", event.data["order_id"], {})')


def _down_failures() -> int:
    world = World(seed=1)
    b = world.add_service("b")
    b.endpoint("go")(lambda data: {"ok": True})
    world.gateway.route("POST /go", call="b.go")
    b.down(100, 300)
    return sum(not r.ok for r in world.send_many("POST /go", [{"n": i} for i in range(5)], every_ms=100))


predict_ex = PredictExercise(notebook="ut", name="p1", title="failures", choices={"a": 0, "b": 2, "c": 5},
                             experiment=_down_failures, why={"a": "B is called synchronously."},
                             explanation="Requests at 100 and 200 ms hit the outage.")


def _build() -> World:
    world = World(seed=1)
    world.add_service("b", latency_ms=50)
    return world


def _inspect(world: World) -> str:
    if world.service("b").latency_ms > 10:
        raise Incorrect(f"b still takes {world.service('b').latency_ms:g} ms.")
    return "fast now."


system_ex = SystemExercise(notebook="ut", name="s1", title="speed b up", build=_build, inspect=_inspect,
                           solution="world = s1.world()\nworld.service('b').latency_ms = 5")


# -- placeholder ---------------------------------------------------------------------------------------
def test_placeholder_is_found_in_values_and_code():
    assert repr(____) == "____" and not ____
    assert contains_placeholder([1, {"a": (2, ____)}]) and not contains_placeholder([1, {"a": 2}])
    ns = cell("def f(x):\n    def g():\n        return ____\n    return g()\nh = lambda: [____ for _ in ()]\n"
              "def k(x):\n    return x")
    assert code_uses_placeholder(ns["f"]) and code_uses_placeholder(ns["h"])
    assert not code_uses_placeholder(ns["k"])


def said(exercise, source: str, ns: dict | None = None) -> tuple[Outcome, str]:
    """The outcome and message of checking ``exercise`` after running ``source``."""
    r = exercise.evaluate(cell(source, ns))
    return r.outcome, r.message


NA, WRONG, RAISED, TIMEOUT, OK = (Outcome.NOT_ATTEMPTED, Outcome.INCORRECT, Outcome.RAISED, Outcome.TIMEOUT,
                                  Outcome.CORRECT)


# -- the five outcomes, kind (a) value ------------------------------------------------------------------
@pytest.mark.parametrize("source, outcome, message", [
    ("twice = ____", NA, "`twice` still holds ____: replace it with your answer in the exercise cell, run that "
                         "cell, then this check."),
    ("twice = 23", WRONG, "23 is not twice 21."),
    ("twice = '42'", WRONG, "`twice` should be a whole number, but it is '42' (a str)."),
    ("twice = True", WRONG, "`twice` should be a whole number, but it is True (a bool)."),
    ("twice = 21 * 2", OK, "42 it is."),
])
def test_value_outcomes(source, outcome, message):
    assert said(value_ex, source) == (outcome, message)


def test_missing_answer_is_not_attempted():
    r = value_ex.evaluate({})
    assert r.outcome is NA and r.message.startswith("`twice` is not defined yet")


def test_value_check_gets_a_copy():
    seen = []

    def mutate(value):
        value.append("changed by the check")
        seen.append(value)

    ex = ValueExercise(notebook="ut", name="v2", title="list", variable="items", types=(list,), check=mutate)
    ns = cell("items = [1, 2]")
    assert ex.evaluate(ns).correct
    assert ns["items"] == [1, 2] and seen[0] == [1, 2, "changed by the check"]


# -- kind (b) function and handler ------------------------------------------------------------------------
@pytest.mark.parametrize("source, outcome, message", [
    ("def total(d):\n    ____", NA, "`total` still contains ____: write its body in the exercise cell, run that "
                                  "cell, then this check."),
    ("total = 3", WRONG, "`total` should be a function (`def total(...):`), but it is 3 (an int)."),
    ("def total(d):\n    sum(d.values())", WRONG, "`total({'a': 1, 'b': 2})` returned None: did you forget "
                                                  "`return`?"),
    ("def total(d):\n    return str(sum(d.values()))", WRONG,
     "`total({'a': 1, 'b': 2})` returned '3' (a str), but it should return a value of type int or float."),
    ("def total(d):\n    return len(d)", WRONG, "`total({'a': 1, 'b': 2})` returned 2, but it should return 3."),
    ("def total(d, extra):\n    return 0", WRONG, "`total` cannot be called the way this exercise calls it: it "
                                                  "takes `total(d, extra)`, but it is given 1 positional argument."),
    ("def total(d):\n    return sum(d.values())", OK, ""),
])
def test_function_outcomes(source, outcome, message):
    got = said(function_ex, source)
    assert got == (outcome, message or got[1])


def test_function_that_raises_points_at_the_learners_line():
    r = function_ex.evaluate(cell("def total(d):\n    n = 0\n    return d['a'] + d['b']"))
    assert r.outcome is Outcome.RAISED
    assert r.message == "KeyError: 'a'"
    assert r.where == "in total(), line 3 of its cell: return d['a'] + d['b']"
    assert "ipykernel" not in r.text() and "/" not in r.where.split(":")[0]


def test_error_inside_a_library_call_still_points_at_the_learner():
    r = handler_ex.evaluate(cell("def ship(event, db):\n    db.put('shipments', None, {})"))
    assert r.outcome is Outcome.RAISED and r.message.startswith("ValueError: id must be a non-empty string")
    assert r.where == "in ship(), line 2 of its cell: db.put('shipments', None, {})"


def test_function_cases_get_fresh_arguments():
    ns = cell("def total(d):\n    d['a'] = d.get('a', 0) + 100\n    return sum(d.values()) - 100")
    assert function_ex.evaluate(ns).correct  # both cases saw their own, unmodified dict
    assert function_ex.cases[0].args == ({"a": 1, "b": 2},)


def test_handler_outcomes_on_a_fresh_world():
    assert handler_ex.evaluate(cell("def ship(event, db):\n    ____")).outcome is Outcome.NOT_ATTEMPTED
    r = handler_ex.evaluate(cell("def ship(event, database):\n    pass"))
    assert r.outcome is Outcome.INCORRECT and "cannot be used as a handler" in r.message and "database" in r.message
    r = handler_ex.evaluate(cell("def ship(event, db):\n    return None"))
    assert r.outcome is Outcome.INCORRECT and r.message == "no shipment was stored."
    r = handler_ex.evaluate(cell("def ship(event, db):\n    raise RuntimeError('boom')"))
    assert r.outcome is Outcome.RAISED and r.message == "RuntimeError: boom"
    assert r.where == "in ship(), line 2 of its cell: raise RuntimeError('boom')"
    ns = cell(handler_ex.solution_code)
    assert handler_ex.evaluate(ns).correct and handler_ex.evaluate(ns).correct  # fresh world each time


# -- kind (c) predict ----------------------------------------------------------------------------------------
def test_predict_answer_is_computed_by_the_experiment():
    assert predict_ex.solution_code == 'answer = "b"'
    assert [(w.code, w.message) for w in predict_ex.wrong_answers] == [
        ('answer = "a"', "B is called synchronously."), ('answer = "c"', "Not c")]
    assert predict_ex.evaluate(cell("answer = ____")).outcome is Outcome.NOT_ATTEMPTED
    r = predict_ex.evaluate(cell("answer = 2"))
    assert r.outcome is Outcome.INCORRECT and 'answer with the letter of one choice ("a", "b", "c")' in r.message
    assert predict_ex.evaluate(cell("answer = 'a'")).message == "B is called synchronously."
    r = predict_ex.evaluate(cell("answer = ' B '"))
    assert r.correct and r.message.startswith("b: the experiment gives 2")
    assert "Running the experiment gives 2: choice b." in predict_ex.solution_view().text()


def test_predict_with_no_matching_choice_is_a_course_problem():
    ex = PredictExercise(notebook="ut", name="p2", title="broken", choices={"a": 1, "b": 3},
                         experiment=lambda: 2)
    r = ex.evaluate(cell("answer = 'a'"))
    assert r.outcome is Outcome.SETUP_PROBLEM and "the exercise is broken, not your answer" in r.message


# -- kind (d) change a system ---------------------------------------------------------------------------------
def test_system_outcomes():
    ns = {"____": ____, "s1": system_ex}
    assert system_ex.evaluate(cell("world = s1.world()\n____", ns)).outcome is Outcome.NOT_ATTEMPTED
    r = system_ex.evaluate(cell("world = World()", dict(ns, World=World)))
    assert r.outcome is Outcome.INCORRECT and "not a world that `s1.world()` built" in r.message
    r = system_ex.evaluate(cell("world = 3", ns))
    assert r.outcome is Outcome.INCORRECT and "should be the world you changed" in r.message
    r = system_ex.evaluate(cell("world = s1.world()\nworld.service('b').latency_ms = 20", ns))
    assert r.outcome is Outcome.INCORRECT and r.message == "b still takes 20 ms."
    assert system_ex.evaluate(cell(system_ex.solution_code, ns)).correct


# -- robustness -----------------------------------------------------------------------------------------------
def test_endless_loop_is_stopped_and_the_handler_restored():
    before = signal.getsignal(signal.SIGALRM)
    started = time.monotonic()
    r = function_ex.evaluate(cell("def total(d):\n    while True:\n        pass"))
    assert r.outcome is Outcome.TIMEOUT and "took longer than 0.5 s" in r.message
    assert time.monotonic() - started < 2
    assert signal.getsignal(signal.SIGALRM) is before and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert function_ex.evaluate(cell("def total(d):\n    return sum(d.values())")).correct


def test_loop_that_swallows_the_interrupt_is_stopped_anyway():
    r = function_ex.evaluate(cell("def total(d):\n    for i in range(3):\n        try:\n"
                                  "            while True:\n                pass\n        except BaseException:\n"
                                  "            pass\n    return 3"))
    assert r.outcome is Outcome.TIMEOUT


def test_sleeping_and_endless_handlers_are_stopped():
    assert function_ex.evaluate(cell("import time\ndef total(d):\n    time.sleep(30)")).outcome is Outcome.TIMEOUT
    r = handler_ex.evaluate(cell("def ship(event, db):\n    while True:\n        pass"))
    assert r.outcome is Outcome.TIMEOUT


def test_time_limit_off_the_main_thread():
    results = []
    thread = threading.Thread(target=lambda: results.append(
        function_ex.evaluate(cell("def total(d):\n    while True:\n        pass")).outcome))
    thread.start()
    thread.join(5)
    assert results == [Outcome.TIMEOUT]
    with time_limit(0.2):  # the main thread still works afterwards
        pass


def test_nested_time_limits_restore_the_outer_one():
    with pytest.raises(TookTooLong), time_limit(0.3):
        with time_limit(5):
            pass
        remaining = signal.getitimer(signal.ITIMER_REAL)[0]
        assert 0 < remaining <= 0.3
        while True:
            pass


def test_a_bug_in_the_check_is_not_the_learners_fault():
    def buggy(value):
        return 1 / 0

    ex = ValueExercise(notebook="ut", name="v3", title="buggy", variable="x", check=buggy)
    r = ex.evaluate(cell("x = 1"))
    assert r.outcome is Outcome.SETUP_PROBLEM
    assert "the check itself failed (ZeroDivisionError: division by zero)" in r.message
    assert "not with your answer" in r.message


def test_learner_objects_are_described_without_addresses():
    ns = cell("class Thing:\n    pass\ntwice = Thing()")
    r = value_ex.evaluate(ns)
    assert r.outcome is Outcome.INCORRECT and "a Thing object" in r.message
    ns = cell("def twice():\n    pass")
    assert "but it is function twice." in value_ex.evaluate(ns).message
    for form in (r.text(), r._repr_html_(), r._repr_markdown_()):
        assert "0x" not in form


def test_learner_exit_is_caught():
    r = function_ex.evaluate(cell("def total(d):\n    raise SystemExit(3)"))
    assert r.outcome is Outcome.RAISED and r.message == "SystemExit: 3"


# -- forms -----------------------------------------------------------------------------------------------------
def test_forms_are_deterministic_and_escaped():
    ex = ValueExercise(notebook="ut", name="v4", title="html", variable="x",
                       check=lambda v: (_ for _ in ()).throw(Incorrect("<b> & `code`")))
    a, b = ex.evaluate(cell("x = 1")), ex.evaluate(cell("x = 1"))
    assert a == b and a.text() == b.text() and a._repr_html_() == b._repr_html_()
    assert "&lt;b&gt; &amp; <code>code</code>" in a._repr_html_()
    assert a.text().splitlines()[0] == "v4 · INCORRECT"
    assert "**v4 · INCORRECT**" in a._repr_markdown_()


def test_check_prints_plain_text_outside_ipython(capsys):
    ns = {"____": ____, "v1": value_ex}
    cell("twice = 42\nv1.check()", ns)
    assert capsys.readouterr().out == "v1 · CORRECT\n42 it is.\n"
    assert registry.last_result(value_ex).correct


# -- hints and solutions -------------------------------------------------------------------------------------------
def test_hint_levels():
    ex = ValueExercise(notebook="ut", name="h1", title="hints", variable="x", check=lambda v: None,
                       hints=["one", "two", "three"], solution="x = 1")
    assert [ex.hint_view().level for _ in range(4)] == [1, 2, 3, 3]
    assert ex.hint_view(2).text() == "h1 · Hint 2 of 3\ntwo\n`h1.hint()` again for the next hint."
    assert ex.hint_view().level == 3
    assert "That was the last hint" in ex.hint_view(3).text()
    assert "h1 has hints 1 to 3" in ex.hint_view(7).text()
    none = ValueExercise(notebook="ut", name="h2", title="no hints", variable="x", check=lambda v: None)
    assert "No hints for this one" in none.hint_view().text()


def test_solution_view():
    view = value_ex.solution_view()
    assert view.text() == "v1 · Solution\n    twice = 21 * 2"
    assert "<pre" in view._repr_html_() and "```python\ntwice = 21 * 2\n```" in view._repr_markdown_()


def test_every_exercise_carries_solution_and_wrong_answers_that_behave():
    for ex in (value_ex, function_ex, predict_ex):
        assert ex.evaluate(cell(ex.solution_code)).correct
        assert ex.wrong_answers
        for wrong in ex.wrong_answers:
            r = ex.evaluate(cell(wrong.code))
            assert r.outcome is wrong.outcome and wrong.message in r.message


# -- setup -------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("installed, required, ok", [
    ("0.1.0", "0.1", True), ("0.1.7", "0.1", True), ("0.2.0", "0.1", False), ("0.1.0", "0.1.1", False),
    ("1.4.2", "1.2", True), ("2.0", "1.2", False), ("1.1", "1.2", False), ("garbage", "0.1", False)])
def test_version_compatibility(installed, required, ok):
    assert setup_check.compatible(installed, required) is ok


def test_setup_ok_and_setup_problem(capsys):
    setup(notebook="ut", requires="0.1")
    assert capsys.readouterr().out == "Setup OK: edlib is ready for notebook ut.\n"
    with pytest.raises(SetupError, match=r"SETUP PROBLEM \(not your answer\): this notebook was written for "
                                         r"edlib 9.0, but this kernel loads edlib 0\.1"):
        setup(notebook="ut", requires="9.0")
    r = value_ex.evaluate(cell("twice = 42"))
    assert r.outcome is Outcome.SETUP_PROBLEM and "written for edlib 9.0" in r.message
    with pytest.raises(SetupError, match="needs no_such_package_xyz"):
        setup(notebook="ut", packages=["no_such_package_xyz"])
    setup(notebook="ut")
    assert value_ex.evaluate(cell("twice = 42")).correct
    assert SetupError("x")._render_traceback_() == ["SetupError: x"]


def test_first_cell_snippet_reports_a_missing_edlib(tmp_path):
    """The documented first cell, run where edlib cannot be imported, says it is a setup problem."""
    (tmp_path / "edlib").mkdir()
    (tmp_path / "edlib" / "__init__.py").write_text("raise ImportError('broken install')\n")
    code = (f"import sys; sys.path.insert(0, {str(tmp_path)!r}); sys.modules.pop('edlib', None)\n"
            + setup_check.FIRST_CELL)
    import subprocess
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert "RuntimeError: SETUP PROBLEM (not your answer): cannot load the course helper edlib " \
           "(broken install)" in out.stderr


# -- progress ----------------------------------------------------------------------------------------------------------
def test_progress_is_stored_and_shown(tmp_path, monkeypatch, capsys):
    path = Path(os.environ[ENV_VAR])
    value_ex.evaluate(cell("twice = 1"))
    assert not path.exists()
    value_ex.evaluate(cell("twice = 42"))
    assert json.loads(path.read_text()) == {"version": 1, "done": ["ut.v1"]}
    view = progress_view("ut")
    text = view.text()
    assert text.startswith("Progress · notebook ut: 1 of ")
    assert "  v1        done" in text and "  f1        not checked" in text
    assert text == progress_view("ut").text()  # deterministic
    assert "Course: " in text and "ut" in text
    registry.forget_results()  # a new kernel: the file remembers
    assert "v1        done earlier" in progress_view("ut").text()
    progress("ut", course=False)
    assert "Course" not in capsys.readouterr().out


def test_progress_file_problems_never_break_a_check(tmp_path, monkeypatch):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    monkeypatch.setenv(ENV_VAR, str(bad))
    assert done_keys() == set()
    assert value_ex.evaluate(cell("twice = 42")).correct
    assert json.loads(bad.read_text())["done"] == ["ut.v1"]
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "dir-not-file"))
    (tmp_path / "dir-not-file").mkdir()
    remember("ut.v1")  # cannot write: silently kept in memory only
    monkeypatch.setenv(ENV_VAR, "off")
    remember("ut.v1")
    assert done_keys() == set()


# -- the harness's view of a kernel ------------------------------------------------------------------------------------
def test_registry_report_for_the_harness():
    ns = {"v1": value_ex, "p1": predict_ex, "x": 3}
    value_ex.evaluate(cell("twice = ____"))
    rep = registry.report(["v1", "p1", "x"], ns)
    assert rep["v1"]["key"] == "ut.v1" and rep["v1"]["solution"] == "twice = 21 * 2"
    assert rep["v1"]["result"]["outcome"] == "NOT_ATTEMPTED" and rep["p1"]["result"] is None
    assert rep["p1"]["solution"] == 'answer = "b"'
    assert "error" in rep["x"]
    json.dumps(rep)


# -- one live kernel: not attempted -> incorrect -> correct ------------------------------------------------------------
def test_check_flips_in_one_running_kernel():
    import subprocess

    from edlib.exercises.kernels import kernel_env, kernel_manager
    with tempfile.TemporaryDirectory() as tmp:
        km = kernel_manager(asynchronous=False)
        km.start_kernel(cwd=str(FIXTURES), env=kernel_env(Path(tmp) / "progress.json"), stderr=subprocess.DEVNULL)
        kc = km.client()
        kc.start_channels()
        try:
            kc.wait_for_ready(timeout=60)
            def run(code: str) -> list[dict]:
                outputs: list[dict] = []

                def hook(msg):
                    if msg["msg_type"] in ("stream", "display_data", "execute_result", "error"):
                        outputs.append(msg["content"])
                reply = kc.execute_interactive(code, output_hook=hook, timeout=30)
                assert reply["content"]["status"] == "ok", outputs
                return outputs

            def check() -> str:
                (out,) = run("q1.check()")
                assert set(out["data"]) == {"text/plain", "text/html"}
                return out["data"]["text/plain"].splitlines()[0]

            run("from edlib.exercises import ____\nfrom fx_exercises import q1, q2")
            run("availability = ____")
            assert check() == "q1 · NOT ATTEMPTED"
            run("availability = 0.999 + 0.99 + 0.95")
            assert check() == "q1 · INCORRECT"
            run("availability = 0.999 * 0.99 * 0.95")
            assert check() == "q1 · CORRECT"

            run("def ship(event, db):\n    while True:\n        pass")
            (out,) = run("q2.check()")
            assert out["data"]["text/plain"].startswith("q2 · TOOK TOO LONG")
            run("def ship(event, db):\n    return event.data['nope']")
            (out,) = run("q2.check()")
            assert out["data"]["text/plain"].splitlines()[:3] == [
                "q2 · YOUR CODE RAISED", "KeyError: 'nope'",
                "in ship(), line 2 of its cell: return event.data['nope']"]
            (out,) = run("import signal; print(signal.getsignal(signal.SIGALRM) == signal.SIG_DFL, 6 * 7)")
            assert out["text"] == "True 42\n"  # the kernel is fine, its alarm handler restored
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=True)
