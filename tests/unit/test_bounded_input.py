"""Every poison input is refused with its own reason code, before it reaches
a model or a database (the inputs that once halted ingestion for everyone)."""

import copy
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tindaklanjut.domain.frameworks import load_frameworks
from tindaklanjut.events import wire
from tindaklanjut.events.wire import Limits
from tindaklanjut.ports.validation import Rejected, parse_assessment

from tests.conftest import contract_examples
from tests.strategies import POISONS

CATALOGUE = load_frameworks()
EXAMPLE = contract_examples()["ombudsman-2024-kota-jambi-disdukcapil"]


@pytest.mark.parametrize(("code", "make"), POISONS, ids=[f"{i}-{code}" for i, (code, _) in enumerate(POISONS)])
def test_each_poison_is_refused_with_its_reason(code, make):
    raw = make(copy.deepcopy(EXAMPLE)).encode()
    with pytest.raises(Rejected) as refused:
        parse_assessment(raw, CATALOGUE)
    assert refused.value.code == code, refused.value.message


def test_the_valid_example_still_passes():
    assert parse_assessment(json.dumps(EXAMPLE).encode(), CATALOGUE).data.revision == 1


def test_limits_are_configurable():
    raw = json.dumps(EXAMPLE).encode()
    with pytest.raises(Rejected, match="too_large"):
        parse_assessment(raw, CATALOGUE, Limits(max_bytes=len(raw) - 1))
    with pytest.raises(Rejected, match="too_many_items"):
        parse_assessment(raw, CATALOGUE, Limits(max_indicators=2))
    with pytest.raises(Rejected, match="too_deep"):
        parse_assessment(raw, CATALOGUE, Limits(max_depth=4))


def test_decode_finds_nul_in_keys_and_depth_in_mixed_nesting():
    with pytest.raises(wire.WireError, match="nul_character"):
        wire.decode(b'{"a\\u0000": 1}')
    nested = b'{"a": ' + b'[{"b": ' * 20 + b"1" + b"}]" * 20 + b"}"
    with pytest.raises(wire.WireError, match="too_deep"):
        wire.decode(nested)
    assert wire.decode(b'{"text": "an escaped backslash \\\\u0000 is not NUL"}')


def test_an_envelope_error_is_not_called_a_payload_error():
    document = copy.deepcopy(EXAMPLE)
    document["datacontenttype"] = "text/plain"
    with pytest.raises(Rejected) as refused:
        parse_assessment(json.dumps(document).encode(), CATALOGUE)
    assert refused.value.code == "invalid_envelope"


def test_an_unknown_province_is_refused_not_guessed():
    document = copy.deepcopy(EXAMPLE)
    document["data"]["unit"]["region_code"] = "99.01"
    with pytest.raises(Rejected) as refused:
        parse_assessment(json.dumps(document).encode(), CATALOGUE)
    assert refused.value.code == "unknown_region"
    document["data"]["unit"]["region_code"] = "93.01"      # Papua Selatan (Merauke)
    assert parse_assessment(json.dumps(document).encode(), CATALOGUE).data.unit.region_code == "93.01"


def _true_depth(value) -> int:
    if isinstance(value, dict):
        return 1 + max((_true_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_true_depth(v) for v in value), default=0)
    return 0


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(
        st.text(alphabet='[]{}"\\k', max_size=4), children, max_size=3),
    max_leaves=20)


def _true_keys(value) -> int:
    if isinstance(value, dict):
        return len(value) + sum(_true_keys(v) for v in value.values())
    if isinstance(value, list):
        return sum(_true_keys(v) for v in value)
    return 0


@given(_json_values)
def test_the_level_walk_finds_the_true_depth_and_counts_the_keys(value):
    assert wire._depth_and_keys(value, 100) == (_true_depth(value), _true_keys(value))
    assert wire._depth_and_keys(value, 1)[0] == min(_true_depth(value), 2)     # stops once past the limit


def _outcome(decode, raw: bytes, limits: Limits):
    try:
        return ("ok", repr(decode(raw, limits)))
    except wire.WireError as error:
        return ("refused", error.code)


def _careful(raw: bytes, limits: Limits):
    return wire._decode_careful(raw, limits, long_digits=wire._has_long_digit_run(raw))


# Pieces of JSON text that each path treats specially: duplicate keys, spaced colons, escaped quotes
# before a colon, NUL escapes, lone surrogates, huge numbers, constants, invalid UTF-8, deep nesting.
_PIECES = ['{', '}', '[', ']', ',', ':', ' : ', '"a"', '"a":', '"a" :', '"b":', '"\\":"', '"x\\":y"', '1',
           '-0', '1e400', '12345678901234567890', '9223372036854775807', 'NaN', 'Infinity', 'true', 'null',
           '"\\u0000"', '"\\ud800"', '"\\\\u0000"', '"é"', '\t', '{"a":1,"a":2}', '[[[[', ']]]]']


@given(st.lists(st.sampled_from(_PIECES), max_size=24).map("".join), st.integers(min_value=1, max_value=6))
def test_the_fast_path_and_the_careful_path_agree(text, max_depth):
    raw, limits = text.encode("utf-8"), Limits(max_depth=max_depth)
    assert _outcome(wire.decode, raw, limits) == _outcome(lambda r, lim: _careful(r, lim), raw, limits)


@given(_json_values.map(json.dumps), st.booleans())
def test_the_fast_path_and_the_careful_path_agree_on_documents(text, invalid_utf8):
    raw = text.encode("utf-8") + (b"\xff" if invalid_utf8 else b"")
    limits = Limits(max_depth=3)
    assert _outcome(wire.decode, raw, limits) == _outcome(lambda r, lim: _careful(r, lim), raw, limits)


def test_a_duplicate_key_hidden_behind_a_spaced_colon_is_still_found():
    # counting only `":` would see one key token here, and orjson keeps one key: the spaced colon counts too
    assert wire._decode_fast(b'{"a" :1,"a":2}', wire.DEFAULT_LIMITS) is wire._UNSURE
    with pytest.raises(wire.WireError, match="duplicate_key"):
        wire.decode(b'{"a" :1,"a":2}')


def test_the_fast_path_vouches_for_a_plain_event_and_nothing_doubtful():
    raw = json.dumps(EXAMPLE, indent=2, ensure_ascii=False).encode()
    assert wire._decode_fast(raw, wire.DEFAULT_LIMITS) == EXAMPLE
    for doubtful in (b'{"a":1,"a":2}', b'{"a":"\\ud800"}', b'[1e400]', b'NaN', b'[[[[1]]]]', b'\xff'):
        assert wire._decode_fast(doubtful, Limits(max_depth=3)) is wire._UNSURE, doubtful
    with pytest.raises(wire.WireError, match="nul_character"):     # orjson reads NUL escapes: checked after
        wire._decode_fast(b'{"a":"\\u0000"}', wire.DEFAULT_LIMITS)
