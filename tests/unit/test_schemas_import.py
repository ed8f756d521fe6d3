"""edlib.core.schemas loads jsonschema without its slow optional IRI checker, and changes nothing else."""
import subprocess
import sys


def test_jsonschema_loads_without_rfc3987_syntax_and_still_validates():
    code = ("import sys\n"
            "from edlib.core.schemas import check\n"
            "check({'qty': 1}, {'properties': {'qty': {'type': 'integer'}}})\n"
            "try:\n"
            "    check({'qty': 'x'}, {'properties': {'qty': {'type': 'integer'}}})\n"
            "except ValueError as e:\n"
            "    print(e)\n"
            "print(sys.modules['rfc3987_syntax'])\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["data.qty: 'x' is not of type 'integer'", "None"]
