"""Name-based ids are exactly RFC 4122 version-5 UUIDs (what `uuid.uuid5` gives)."""

import uuid

from hypothesis import given
from hypothesis import strategies as st

from tindaklanjut.domain import ids


@given(st.uuids(), st.text(max_size=300))
def test_a_name_based_id_is_uuid5(namespace, name):
    assert ids.name_based(namespace, name) == str(uuid.uuid5(namespace, name))


def test_known_ids_do_not_move():
    # ids already stored and published must stay what they were
    assert ids.name_based(uuid.NAMESPACE_URL, "urn:tindaklanjut:recommender/r-1/issued/1") == \
        str(uuid.uuid5(uuid.NAMESPACE_URL, "urn:tindaklanjut:recommender/r-1/issued/1"))
    assert ids.name_based(uuid.NAMESPACE_DNS, "python.org") == "886313e1-3b8a-5372-9b90-0c9aee199e5d"
