"""Exercises of notebook 01, the seed's service examined."""
from __future__ import annotations

from edlib.exercises import Case, FunctionExercise, Outcome, PredictExercise, WrongAnswer

NOTEBOOK = "01"

# The tutorial's code, verbatim, run in a fresh namespace for the experiments below.
SEED_CODE = '''
from typing import Dict
import uuid

eventdrivenmicroservice_store: Dict[str, dict] = {}

def create_eventdrivenmicroservice(data: dict) -> dict:
    item_id = str(uuid.uuid4())
    eventdrivenmicroservice_store[item_id] = data
    return {"id": item_id, "status": "created"}

def get_eventdrivenmicroservice(item_id: str) -> dict:
    item = eventdrivenmicroservice_store.get(item_id)
    if not item:
        return {"error": "not found"}
    return item
'''


def _empty_item_experiment() -> object:
    seed: dict = {}
    exec(SEED_CODE, seed)
    created = seed["create_eventdrivenmicroservice"]({})
    return seed["get_eventdrivenmicroservice"](created["id"])


q1 = PredictExercise(
    notebook=NOTEBOOK, name="q1", variable="empty_answer", title="Create {}, then get it",
    choices={"a": {}, "b": {"error": "not found"}, "c": "a KeyError"},
    experiment=_empty_item_experiment,
    why={"a": "Look at the test in get_eventdrivenmicroservice: `if not item`. What is `not {}`?",
         "c": "`dict.get` never raises KeyError: it returns None for a missing key."},
    hints=["`create` stores whatever it is given, `{}` included, under a new id.",
           "`get` answers 'not found' whenever `not item` is true. What is `not {}`?"],
    explanation="`if not item` confuses 'empty' with 'missing'; test `item is None` instead.",
)


q2 = FunctionExercise(
    notebook=NOTEBOOK, name="q2", title="A get that tells empty from missing",
    variable="get_item",
    cases=[Case(({"a": {"name": "Ann"}}, "a"), {"name": "Ann"}, label="an item that exists"),
           Case(({"a": {}}, "a"), {}, label="an item that exists but is empty ({})"),
           Case(({"a": {"name": "Ann"}}, "zzz"), {"error": "not found"}, label="an id that is not stored"),
           Case(({}, "a"), {"error": "not found"}, label="an empty store"),
           Case(({"a": None}, "a"), None, label="an item stored as None")],
    hints=["Ask whether the id is stored, not whether its item looks empty: `item_id in store`.",
           "`not item` is True for `{}` and `None` too, and `store.get(item_id) is None` for an item "
           "stored as `None`: both mistake a stored item for a missing one.",
           "`if item_id not in store: return {\"error\": \"not found\"}`, then `return store[item_id]`."],
    solution='def get_item(store, item_id):\n'
             '    if item_id not in store:\n'
             '        return {"error": "not found"}\n'
             '    return store[item_id]',
    explanation="Only a missing id is 'not found'; an empty item, even None, is still an item.",
    wrong=[WrongAnswer('def get_item(store, item_id):\n'
                       '    item = store.get(item_id)\n'
                       '    if not item:\n'
                       '        return {"error": "not found"}\n'
                       '    return item', "exists but is empty"),
           WrongAnswer('def get_item(store, item_id):\n'
                       '    return store[item_id]', "KeyError", Outcome.RAISED),
           WrongAnswer('def get_item(store, item_id):\n'
                       '    item = store.get(item_id)\n'
                       '    if item is None:\n'
                       '        return {"error": "not found"}\n'
                       '    return item', "stored as None")],
)
