"""The command line's shared argument types: attentions from the registry."""

from __future__ import annotations

import argparse

import pytest

from keras_se.cli.arguments import attention_help, attention_list
from keras_se.layers import ATTENTION_REGISTRY


def test_the_command_line_lists_and_accepts_the_registry():
    assert attention_list("se, squeeze_excite,cbam_7x7") == ("se", "cbam_7x7")
    with pytest.raises(
        argparse.ArgumentTypeError, match="among se, gc, ge, cbam, eca, ese, se_r16"
    ):
        attention_list("se,nonlocal")
    assert ",".join(ATTENTION_REGISTRY) in attention_help("search", "se")
