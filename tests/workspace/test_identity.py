from hypothesis import given
from hypothesis import strategies as st

from nirs4all_workspace.workspace.identity import canonical_json, config_hash, new_id, short_hash_for

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children, max_size=3)
    ),
    max_leaves=10,
)


@given(st.dictionaries(st.text(max_size=4), json_values, max_size=5))
def test_hash_does_not_depend_on_key_order(config):
    reordered = dict(reversed(list(config.items())))
    assert config_hash(config) == config_hash(reordered)


def test_hash_is_the_sha256_of_canonical_json():
    config = {"pipeline": [{"class": "a.B", "params": {"n": 2}}]}
    assert canonical_json(config) == '{"pipeline":[{"class":"a.B","params":{"n":2}}]}'
    assert config_hash(config) == config_hash({"pipeline": [{"params": {"n": 2}, "class": "a.B"}]})
    assert config_hash(config) != config_hash({"pipeline": [{"class": "a.B", "params": {"n": 3}}]})
    assert len(config_hash(config)) == 64


def test_short_hash_is_lengthened_only_on_collision():
    full = "abcdef" + "0" * 58
    other = "abcdef" + "1" * 58
    assert short_hash_for(full, {}) == "abcdef"
    assert short_hash_for(full, {"abcdef": full}) == "abcdef"
    assert short_hash_for(other, {"abcdef": full}) == "abcdef11"


def test_ids_are_unique_and_sort_by_time():
    ids = [new_id() for _ in range(200)]
    assert len(set(ids)) == 200
    assert ids[0][:12] <= ids[-1][:12]
