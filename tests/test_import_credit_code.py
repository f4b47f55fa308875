"""Unified social credit code (GB 32100-2015): check character, vectorised mask, generator."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from layers import credit_code
from layers.credit_code import CHARSET, check_char, is_valid, make, make_many, valid_mask

# Codes printed on real business licences (public registrations)
REAL = ["91350100M000100Y43", "91110000802100433B"]


@pytest.mark.parametrize("code", REAL)
def test_real_codes_are_valid(code):
    assert is_valid(code)
    assert is_valid(code.lower())
    assert is_valid(f"  {code} ")


@pytest.mark.parametrize("code", [
    "91350100M000100Y44",  # wrong check character
    "91350100M000100Y4",  # 17 characters
    "91350100M000100Y433",  # 19 characters
    "91350100I000100Y43",  # I is not in the alphabet
    "91350100O000100Y43",  # nor O
    "91350100Z000100Y43",  # nor Z (nor S, V)
    "９１350100M000100Y43",  # full-width digits
    "",
    None,
    9.13501e17,  # what Excel makes of a code typed as a number
])
def test_invalid_codes(code):
    assert not is_valid(code)
    assert not valid_mask([code])[0]


def test_check_character_formula():
    # C18 = 31 - (sum(v_i * 3^(i-1)) mod 31), 31 -> 0
    first17 = "91350100M000100Y4"
    total = sum(CHARSET.index(c) * pow(3, i, 31) for i, c in enumerate(first17))
    assert check_char(first17) == CHARSET[(31 - total % 31) % 31] == "3"


def test_make_is_deterministic_and_valid():
    assert make(7) == make(7)
    assert make(7) != make(8)
    codes = make_many(2000, seed=3, regions=("420102", "420103"))
    assert len(set(codes)) == 2000
    assert all(is_valid(c) for c in codes)
    assert valid_mask(codes).all()
    assert {c[2:8] for c in codes} == {"420102", "420103"}
    assert make(1, region="420106")[2:8] == "420106"
    with pytest.raises(ValueError, match="6"):
        make(1, region="4201")


def test_one_changed_character_is_always_caught():
    rng = random.Random(1)
    for code in make_many(200, seed=9):
        pos = rng.randrange(18)
        other = rng.choice([c for c in CHARSET if c != code[pos]])
        assert not is_valid(code[:pos] + other + code[pos + 1:])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=CHARSET + "IOSZVabc ", min_size=0, max_size=20), max_size=30))
def test_valid_mask_agrees_with_is_valid(codes):
    assert valid_mask(codes).tolist() == [is_valid(c) for c in codes]


def test_module_exports():
    assert set(credit_code.__all__) >= {"is_valid", "make", "make_many", "valid_mask"}
