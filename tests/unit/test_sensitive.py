"""Masking and redacting sensitive fields, and searching the event log for secrets."""
import pytest

from edlib import World
from edlib.patterns.sensitive import Leak, mask_card, mask_email, redact, search_log


@pytest.mark.parametrize("number, masked", [("4242424242424242", "**** 4242"),
                                            ("4242 4242 4242 4242", "**** 4242"),
                                            ("3782-822463-10005", "**** 0005")])
def test_mask_card_keeps_the_last_four_digits(number, masked):
    assert mask_card(number) == masked


@pytest.mark.parametrize("bad, error", [("12345", ValueError), ("4242abcd42424242", ValueError),
                                        ("", ValueError), ("４２４２４２４２４２４２４２４２", ValueError),
                                        (4242424242424242, TypeError), (None, TypeError)])
def test_mask_card_refuses_what_is_not_a_card_number(bad, error):
    with pytest.raises(error):
        mask_card(bad)


def test_mask_email_keeps_the_first_letter_and_the_domain():
    assert mask_email("ada.mockley@example.com") == "a***@example.com"
    assert mask_email("x@example.com") == "x***@example.com"
    for bad in ("no-at-sign", "@example.com", "ada@"):
        with pytest.raises(ValueError):
            mask_email(bad)
    with pytest.raises(TypeError):
        mask_email(None)


def test_redact_drops_and_masks_without_touching_the_original():
    data = {"order_id": "o1", "card_number": "4242424242424242", "email": "a@example.com", "note": None}
    out = redact(data, drop=["email"], mask={"card_number": mask_card, "note": mask_email})
    assert out == {"order_id": "o1", "card_number": "**** 4242", "note": None}
    assert data["card_number"] == "4242424242424242"
    assert redact(data, drop="email") == {"order_id": "o1", "card_number": "4242424242424242", "note": None}
    assert redact({}, drop=["absent"]) == {}


def test_redact_refuses_contradictions_and_non_dicts():
    with pytest.raises(ValueError, match="both dropped and masked"):
        redact({"a": 1}, drop=["a"], mask={"a": str})
    with pytest.raises(TypeError):
        redact(None)


def test_search_log_finds_each_secret_in_each_event_and_labels_it():
    world = World()
    world.publish("CustomerRegistered", {"email": "ada@example.com"}, key="cust-1")
    world.publish("PaymentTaken", {"card": "4242424242424242", "by": "ada@example.com"})
    world.publish("PaymentTaken", {"card": "**** 4242"})
    leaks = search_log(world.bus, {"email": "ada@example.com", "card": "4242424242424242"})
    assert leaks == [Leak("CustomerRegistered", "CustomerRegistered", "evt-1", "email"),
                     Leak("PaymentTaken", "PaymentTaken", "evt-2", "email"),
                     Leak("PaymentTaken", "PaymentTaken", "evt-2", "card")]
    assert search_log(world.bus, ["cust-1"]) == [Leak("CustomerRegistered", "CustomerRegistered", "evt-1",
                                                       "cust-1")]   # keys are searched too
    with pytest.raises(ValueError):
        search_log(world.bus, [""])
