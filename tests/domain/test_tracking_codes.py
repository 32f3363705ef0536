"""Tracking codes survive a phone call: one character per confusable set, any spelling finds it."""

from __future__ import annotations

import math

import pytest

from portal.domain.tracking_codes import (
    CONFUSABLE,
    TRACKING_ALPHABET,
    tracking_code_compact,
    tracking_code_display,
    tracking_code_new,
    tracking_code_normalise,
    tracking_key,
)

CONFUSABLE_SETS = ("0OD", "1IL", "2Z", "5S", "8B", "UV")


@pytest.mark.parametrize("members", CONFUSABLE_SETS)
def test_the_alphabet_holds_exactly_one_character_of_each_confusable_set(members):
    assert len([ch for ch in members if ch in TRACKING_ALPHABET]) == 1


def test_every_member_of_a_set_maps_to_the_one_in_the_alphabet():
    for members in CONFUSABLE_SETS:
        (kept,) = [ch for ch in members if ch in TRACKING_ALPHABET]
        for member in members:
            assert tracking_key(member) == kept
            assert tracking_key(member.lower()) == kept
    assert set(CONFUSABLE.values()) <= set(TRACKING_ALPHABET)


def test_tracking_codes_carry_at_least_50_bits_of_randomness():
    code = tracking_code_new()
    assert len(code) == 12
    assert set(code) <= set(TRACKING_ALPHABET)
    assert len(code) * math.log2(len(TRACKING_ALPHABET)) >= 50


def test_tracking_codes_use_the_whole_alphabet_and_do_not_repeat():
    codes = [tracking_code_new() for _ in range(2000)]
    assert len(set(codes)) == len(codes)
    assert set("".join(codes)) == set(TRACKING_ALPHABET)


def test_a_new_code_is_its_own_key():
    code = tracking_code_new()
    assert tracking_key(code) == code


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("K7QM-3TXV-9PH4", "K7QM3TXV9PH4"),
        ("k7qm 3txv 9ph4", "K7QM3TXV9PH4"),
        ("  K7QM3TXV9PH4 ", "K7QM3TXV9PH4"),
        ("k7qm.3txv_9ph4", "K7QM3TXV9PH4"),
        ("Ｋ７ＱＭ－３ＴＸＶ－９ＰＨ４", "K7QM3TXV9PH4"),  # full-width phone keyboard
        # The example: 5PP9 typed for SPP9 (and the other way round).
        ("5PP9-T39M-3DKZ", "5PP9T39M30K2"),
        ("SPP9-T39M-3DKZ", "5PP9T39M30K2"),
        ("spp9t39m3dkz", "5PP9T39M30K2"),
        ("5pp9 t39m 30k2", "5PP9T39M30K2"),
        ("OIL2-ZSB8-UVDo", "0112-2588-VV00".replace("-", "")),
        ("K7QM-3TXV-9PH", None),  # too short
        ("K7QM-3TXV-9PH4-2", None),  # too long
        ("K7QM-3TXV-9PH!", None),
        ("", None),
    ],
)
def test_any_spelling_of_a_code_has_one_key(typed, key):
    assert tracking_code_normalise(typed) == key


def test_compact_keeps_the_spelling_typed():
    assert tracking_code_compact("spp9-t39m-3dkz") == "SPP9T39M3DKZ"


def test_tracking_code_display_groups_by_four():
    assert tracking_code_display("K7QM3TXV9PH4") == "K7QM-3TXV-9PH4"
