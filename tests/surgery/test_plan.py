"""plan_se: the plan wrap_with_se follows, a value to print and compare.

`plans_at_main.json` holds the sites that `wrap_with_se` planned at commit
3df75ca, before the plan existed as a value (read from the surgery's
internals then), for every placement and position on keras.applications
nets, small KerasHub backbones and small models: the plans now must give
the same sites.
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import keras
import pytest

import keras_se
from keras_se.surgery import PlannedBlock, WrapPlan, apply_plan
from tests.surgery import helpers

STORED = json.loads((Path(__file__).parent / "plans_at_main.json").read_text())
FIELDS = STORED["fields"]
CONFIGS = {
    "auto": {},
    "residual-standard": dict(placement="residual", position="standard"),
    "residual-pre": dict(placement="residual", position="pre"),
    "residual-post": dict(placement="residual", position="post"),
    "residual-identity": dict(placement="residual", position="identity"),
    "stage_end": dict(placement="stage_end"),
    "conv": dict(placement="conv"),
    "auto-no-skip": dict(skip_existing_se=False),
}
SMALL = {
    "small/small_cnn_channels_last": lambda: helpers.small_cnn_in("channels_last"),
    "small/two_stage_channels_first_cnn": helpers.two_stage_channels_first_cnn,
}
HUB = (
    "resnet_v1_bottleneck",
    "resnet_v1_basic",
    "resnet_v2",
    "vgg",
    "densenet",
    "cspnet",
    "mobilenet",
    "efficientnet",
)


def build(name: str) -> keras.Model:
    keras.utils.set_random_seed(0)
    room, model = name.split("/")
    if room == "small":
        return SMALL[name]()
    if room == "applications":
        return helpers.application(model)
    from tests.surgery import keras_hub_factories as hub

    hub_builders = {
        "resnet_v1_bottleneck": hub.resnet,
        "resnet_v1_basic": lambda: hub.resnet("basic_block", stem=(64,)),
        "resnet_v2": lambda: hub.resnet(pre_activation=True),
        "vgg": hub.vgg,
        "densenet": hub.densenet,
        "cspnet": hub.cspnet,
        "mobilenet": hub.mobilenet,
        "efficientnet": hub.efficientnet,
    }
    return hub_builders[model]()


def records(plan: WrapPlan) -> list[list]:
    """The stored fields of each block's site."""
    values = {
        "model": lambda b: b.model,
        "kind": lambda b: b.site,
        "layer": lambda b: b.layer,
        "input": lambda b: b.input,
        "anchor": lambda b: b.anchor,
        "tensor": lambda b: list(b.tensor),
        "data_format": lambda b: b.data_format,
        "spatial": lambda b: list(b.spatial),
    }
    return [[values[field](block) for field in FIELDS] for block in plan.blocks]


NAME_FIELDS = {"model", "layer", "anchor", "tensor"}


def without_name_counters(rows: list[list]) -> list[list]:
    """`rows` with the names numbered anew, by first use.

    Keras numbers the default names of a process (`activation`,
    `activation_46`): they depend on what was built before. Each name
    becomes its base (without `_<number>`) and its rank among the names of
    that base, in order of first use.
    """
    renamed: dict[str, str] = {}
    counts: dict[str, int] = {}

    def rename(name: str) -> str:
        if name not in renamed:
            base = re.sub(r"_\d+$", "", name)
            renamed[name] = f"{base}#{counts.get(base, 0)}"
            counts[base] = counts.get(base, 0) + 1
        return renamed[name]

    def canonical(field, value):
        if field not in NAME_FIELDS:
            return value
        if field == "tensor":
            return [rename(value[0]), *value[1:]]
        return rename(value)

    return [[canonical(f, v) for f, v in zip(FIELDS, row, strict=True)] for row in rows]


def assert_same_plans_as_at_main(name):
    model = build(name)
    for config, arguments in CONFIGS.items():
        plan = keras_se.plan_se(model, **arguments)
        stored = STORED["plans"][name][config]
        assert without_name_counters(records(plan)) == without_name_counters(stored), (
            name,
            config,
        )


@pytest.mark.parametrize("name", sorted(SMALL))
def test_small_models_get_the_sites_they_got_at_main(name):
    assert_same_plans_as_at_main(name)


@pytest.mark.large
@pytest.mark.parametrize(
    "name",
    [f"applications/{name}" for name in helpers.APPLICATIONS]
    + [f"keras_hub/{name}" for name in HUB],
)
def test_nets_get_the_sites_they_got_at_main(name):
    if name.startswith("keras_hub/"):
        pytest.importorskip("keras_hub")
    assert_same_plans_as_at_main(name)


def test_stored_plans_cover_every_model_and_placement():
    names = set(SMALL) | {f"applications/{n}" for n in helpers.APPLICATIONS}
    names |= {f"keras_hub/{n}" for n in HUB}
    assert set(STORED["plans"]) == names
    assert all(set(plans) == set(CONFIGS) for plans in STORED["plans"].values())


def test_a_plan_is_a_value_that_wrap_with_se_follows():
    model = helpers.two_stage_channels_first_cnn()
    plan = keras_se.plan_se(model, attention="eca", stages=[1])
    assert plan == keras_se.plan_se(model, attention="eca", stages=[1])
    assert plan != keras_se.plan_se(model, attention="eca")
    assert [block.name for block in plan.blocks] == ["a_eca", "b_eca"]
    first = plan.blocks[0]
    assert isinstance(first, PlannedBlock)
    assert (first.layer, first.site, first.channels, first.spatial) == (
        "relu_a",
        "output",
        8,
        (8, 8),
    )
    assert first.data_format == "channels_first" and first.stage == 1
    assert first.arguments == {"data_format": "channels_first", "gate_scale": 2.0}
    with pytest.raises(AttributeError):
        plan.blocks = ()
    text = str(plan)
    assert "2 'eca' block(s)" in text and "a_eca: eca on 8 channels" in text
    assert keras_se.describe(plan) == list(plan.blocks)
    wrapped = keras_se.wrap_with_se(model, attention="eca", stages=[1])
    assert [b.name for b in keras_se.describe(wrapped)] == ["a_eca", "b_eca"]
    again = apply_plan(model, plan)
    assert [layer.name for layer in again.layers] == [
        layer.name for layer in wrapped.layers
    ]


def test_describe_prints_a_plan(capsys):
    plan = keras_se.plan_se(helpers.small_cnn_in("channels_last"), ratio=4)
    keras_se.describe(plan, print_table=True)
    printed = capsys.readouterr().out
    assert "conv1_se" in printed and "conv2_se" in printed
    assert "'ratio': 4" in printed


def test_apply_plan_refuses_a_plan_of_another_model():
    plan = keras_se.plan_se(helpers.small_cnn_in("channels_last"))
    other = helpers.two_stage_channels_first_cnn()
    with pytest.raises(ValueError, match="plan for model"):
        apply_plan(other, plan)


def test_a_plan_with_no_blocks_and_its_warning():
    model = helpers.small_cnn_in("channels_last")
    assert keras_se.plan_se(model, placement="residual").blocks == ()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        keras_se.wrap_with_se(model, placement="residual")
    assert any("inserted no 'se' block" in str(w.message) for w in caught)
