"""The 1D, 2D and 3D variants' docstrings, written once and filled per rank.

Each says its own rank's facts: the tensor rank, the input shapes, the mean
over its positions and an example with its own class and shapes.
"""

from __future__ import annotations

import pytest

import keras_se
from keras_se.layers._docstrings import RANKS

FAMILIES = {
    "SqueezeExcite": ((2, 10, 32), (2, 8, 8, 32), (2, 4, 8, 8, 32)),
    "EfficientChannelAttention": ((2, 10, 64), (2, 8, 8, 64), (2, 4, 4, 4, 64)),
    "EffectiveSqueezeExcite": ((2, 10, 64), (2, 8, 8, 64), (2, 4, 4, 4, 64)),
}
VARIANTS = [
    (f"{family}{rank}D", rank, shapes[rank - 1])
    for family, shapes in FAMILIES.items()
    for rank in (1, 2, 3)
]


@pytest.mark.parametrize("name, rank, shape", VARIANTS, ids=[v[0] for v in VARIANTS])
def test_each_variant_says_its_own_rank(name, rank, shape):
    doc = getattr(keras_se.layers, name).__doc__
    facts = RANKS[rank]
    assert f"for {facts['subject']}." in doc.splitlines()[0]
    assert f"inputs: a {facts['tensor']} tensor." in doc
    assert f"`{facts['input_last']}` with `'channels_last'`".replace("'", '"') in doc
    assert f"`{facts['input_first']}` with `'channels_first'`".replace("'", '"') in doc
    assert f"np.random.rand({', '.join(map(str, shape))})" in doc
    assert f">>> layer = keras_se.layers.{name}(" in doc
    assert f"\n    {shape}\n" in doc
    assert facts["positions"] in doc
    assert "{" not in doc, "a field of the template was left unfilled"
    others = [RANKS[r]["input_last"] for r in RANKS if r != rank]
    assert not any(other in doc for other in others)


def test_the_families_share_their_text():
    for family in FAMILIES:
        docs = [getattr(keras_se.layers, f"{family}{r}D").__doc__ for r in (1, 2, 3)]
        # Beyond the per-rank facts, the three read the same: the Args agree.
        args = [doc[doc.index("Args:") : doc.index("Call arguments:")] for doc in docs]
        assert args[0] == args[1] == args[2]
