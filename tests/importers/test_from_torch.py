"""``sc.from_torch`` against the modules it imports.

Every total is compared with ``sum(p.numel() for p in model.parameters())`` of the real
module (meta device for the transformers); costs with ``FlopCounterMode`` on the real
module or with published numbers; closed forms with the zoo's entries, themselves tested
against torchvision's and transformers' classes (``tests/zoo``).
"""

from __future__ import annotations

import warnings

import pytest
import sympy

import symcount as sc
from symcount.errors import ArgumentError
from symcount.importers import SymcountImportWarning

torch = pytest.importorskip("torch")
nn = torch.nn

pytestmark = pytest.mark.oracle


def numel(module) -> int:
    return sum(p.numel() for p in module.parameters())


def at_values(model, what="total"):
    count = model.count()
    return int(getattr(count.subs(model.values) if model.values else count, what))


def flop_counter_macs(module, example) -> int:
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        module(example)
    return counter.get_total_flops() // 2


# ---------------------------------------------------------------------------
# torchvision's ResNet-50 (the transcription of torchvision's classes)
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def resnet50():
    from tests.zoo import torchvision_defs

    with torch.device("meta"):
        return torchvision_defs.MODELS["resnet50"]()


def test_resnet50_parameters_without_an_input(resnet50):
    model = sc.from_torch(resnet50)
    assert model.exact == "parameters"
    assert model.count().total == numel(resnet50) == 25_557_032


def test_resnet50_traced_has_the_zoo_closed_form_and_torchvisions_gflops(resnet50):
    model = sc.from_torch(resnet50, input_shape=(3, "H", "W"), dims={"H": 224, "W": 224, "num_classes": 1000})
    assert model.exact == "graph"
    count = model.count()
    assert count.output_shape == (None, sc.dim("num_classes"))
    assert at_values(model) == numel(resnet50)
    zoo = sc.zoo.symbolic("torchvision:resnet50")
    assert sympy.expand(count.total - zoo.total) == 0
    assert sympy.expand(count.macs - zoo.macs) == 0
    assert round(at_values(model, "macs") / 1e9, 2) == 4.09  # torchvision's published GFLOPS (multiply-adds)


# ---------------------------------------------------------------------------
# transformers: GPT-2 and BERT on the meta device
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gpt2():
    transformers = pytest.importorskip("transformers")
    with torch.device("meta"):
        return transformers.GPT2LMHeadModel(transformers.GPT2Config())


def test_gpt2_total_counts_the_tied_head_once(gpt2):
    assert sc.from_torch(gpt2).count().total == numel(gpt2) == 124_439_808


def test_gpt2_with_its_config_as_dims_is_the_zoo_formula(gpt2):
    model = sc.from_torch(gpt2, input_shape=("seq_len",), dims=[gpt2.config, {"seq_len": 1024}])
    count = model.count()
    zoo = sc.zoo.symbolic("transformers:GPT2LMHeadModel")
    assert sympy.expand(count.total - zoo.total) == 0
    assert sympy.expand(count.macs - zoo.macs) == 0
    assert sympy.expand(count.training_flops - zoo.training_flops) == 0
    assert at_values(model) == numel(gpt2)
    head = next(r for r in count.layers if r.name == "lm_head")
    assert [w.tied_to for w in head.weights] == ["transformer.wte.weight"]
    blocks = {r.repeat for r in count.layers if r.name.startswith("transformer.h.*.")}
    assert blocks == {sc.dim("n_layer")}  # n_layer, not n_head (both 12): a depth's name


def test_gpt2_without_a_config_has_numbers(gpt2):
    count = sc.from_torch(gpt2, input_shape=(8,)).count()
    assert count.total == numel(gpt2) and not count.dims


def test_bert_total_and_closed_form(tmp_path):
    transformers = pytest.importorskip("transformers")
    config = transformers.BertConfig()
    with torch.device("meta"):
        bert = transformers.BertModel(config)
    model = sc.from_torch(bert, input_shape=("seq_len",), dims=[config, {"seq_len": 128}])
    assert at_values(model) == numel(bert) == 109_482_240
    zoo = sc.zoo.symbolic("transformers:BertModel")
    count = model.count()
    assert sympy.expand(count.total - zoo.total) == 0
    assert sympy.expand(count.macs - zoo.macs) == 0


def test_llama_grouped_query_attention_is_the_zoo_formula():
    transformers = pytest.importorskip("transformers")
    config = transformers.LlamaConfig(hidden_size=64, intermediate_size=176, num_hidden_layers=3, num_attention_heads=4,
                                      num_key_value_heads=2, vocab_size=100, max_position_embeddings=128)
    with torch.device("meta"):
        llama = transformers.LlamaForCausalLM(config)
    model = sc.from_torch(llama, input_shape=("seq_len",), dims=[config, {"seq_len": 16}])
    assert at_values(model) == numel(llama)
    count = model.count()
    assert "pretraining_tp" not in {d.name for d in count.dims}  # a config field of value 1 is no unit axis
    # the module was built with config.head_dim: the zoo's default head_dim is hidden_size / num_attention_heads
    head_dim = sc.dim("hidden_size") / sc.dim("num_attention_heads")
    zoo = sc.zoo.symbolic("transformers:LlamaForCausalLM")
    assert sympy.simplify(zoo.total - count.total.subs(sc.dim("head_dim"), head_dim)) == 0
    assert sympy.simplify(zoo.macs - count.macs.subs(sc.dim("head_dim"), head_dim)) == 0


# ---------------------------------------------------------------------------
# A user's own module
# ---------------------------------------------------------------------------


class Residual(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.norm = nn.LayerNorm(d)
        self.fc = nn.Linear(d, 4 * d)
        self.out = nn.Linear(4 * d, d)

    def forward(self, x):
        return x + self.out(torch.relu(self.fc(self.norm(x))))


class Net(nn.Module):
    """A shared block (called twice), a list of identical blocks, tied heads."""

    def __init__(self, d=32, n=3):
        super().__init__()
        self.embed = nn.Linear(16, d)
        self.shared = Residual(d)
        self.blocks = nn.ModuleList([Residual(d) for _ in range(n)])
        self.head = nn.Linear(d, 4)
        self.tail = nn.Linear(d, 4, bias=False)
        self.tail.weight = self.head.weight

    def forward(self, x):
        x = self.shared(self.embed(x))
        for block in self.blocks:
            x = block(x)
        x = self.shared(x)
        return self.head(x) * self.tail(x)


def test_custom_module_shared_block_and_tied_weight_count_once():
    net = Net()
    model = sc.from_torch(net, input_shape=(16,), dims={"d": 32, "d_ff": 128, "depth": 3})
    assert model.exact == "graph"
    count = model.count()
    d, d_ff, depth = sc.dims("d d_ff depth")
    assert sympy.expand(count.total - (17 * d + (depth + 1) * (2 * d * d_ff + d_ff + 3 * d) + 4 * d + 4)) == 0
    assert at_values(model) == numel(net)
    shared = [r for r in count.layers if r.name == "shared.fc"]
    assert [r.counted for r in shared] == [True, False]
    assert {r.repeat for r in count.layers if r.name.startswith("blocks.*.")} == {depth}


def test_custom_module_macs_are_flop_counter_modes():
    net = Net(d=8, n=2)
    model = sc.from_torch(net, input_shape=(16,))
    assert model.count().macs == flop_counter_macs(net, torch.zeros(1, 16))


def test_custom_module_without_an_input_counts_its_parameters():
    net = Net()
    model = sc.from_torch(net, dims={"d": 32, "depth": 3})
    assert model.exact == "parameters"
    assert at_values(model) == numel(net)


class Scale(nn.Module):
    """A layer symcount does not know: its own parameter."""

    def __init__(self, d):
        super().__init__()
        self.gain = nn.Parameter(torch.ones(d))

    def forward(self, x):
        return x * self.gain


def test_unknown_module_is_opaque_with_a_warning_and_its_parameters():
    net = nn.Sequential(nn.Linear(16, 32), Scale(32), nn.ReLU(), nn.Linear(32, 2))
    with pytest.warns(SymcountImportWarning, match=r"1 \(Scale\) is a module symcount does not know.*32 parameters"):
        model = sc.from_torch(net, input_shape=(16,))
    count = model.count()
    assert count.total == numel(net) == 642
    scale = next(r for r in count.layers if r.type == "Scale")
    assert scale.params == 32 and scale.output_shape == (None, 32)
    assert model.exact == "shapes"  # recorded on the meta device: the graph has an unknown module


def test_unknown_module_without_an_input_is_counted_too():
    with pytest.warns(SymcountImportWarning, match="Scale"):
        model = sc.from_torch(nn.Sequential(Scale(5), nn.Linear(5, 1)))
    assert model.count().total == 11


def test_subclass_with_extra_parameters_is_opaque_not_miscounted():
    class Biased(nn.Linear):
        def __init__(self):
            super().__init__(4, 3)
            self.extra = nn.Parameter(torch.zeros(7))

    with pytest.warns(SymcountImportWarning, match="declares 15"):
        model = sc.from_torch(nn.Sequential(Biased()))
    assert model.count().total == 22


def test_two_dims_with_one_value_are_reported_and_kept_as_numbers():
    net = nn.Sequential(nn.Linear(8, 8))
    with pytest.warns(SymcountImportWarning, match="several dims: a, b"):
        count = sc.from_torch(net, dims={"a": 8, "b": 8}).count()
    assert count.total == 72


def test_a_dim_can_be_an_attribute_path():
    net = nn.Sequential(nn.Linear(8, 24), nn.ReLU(), nn.Linear(24, 8))
    count = sc.from_torch(net, dims={"d": "0.in_features", "d_ff": "0.out_features"}).count()
    d, d_ff = sc.dims("d d_ff")
    assert sympy.expand(count.total - (2 * d * d_ff + d + d_ff)) == 0


def test_frozen_parameters_are_non_trainable():
    net = nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 2))
    for p in net[0].parameters():
        p.requires_grad_(False)
    count = sc.from_torch(net, input_shape=(4,)).count()
    assert (count.trainable, count.non_trainable) == (10, 20)


def test_torch_transformer_layers_and_recurrent_modules():
    encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(16, 2, 32, batch_first=True), 2,
                                    enable_nested_tensor=False)

    class Tagger(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(50, 16)
            self.encoder = encoder
            self.lstm = nn.LSTM(16, 8, batch_first=True, bidirectional=True)
            self.attn = nn.MultiheadAttention(16, 4, batch_first=True)
            self.out = nn.Linear(16, 5)

        def forward(self, ids):
            x = self.encoder(self.embed(ids))
            a, _ = self.attn(x, x, x)
            y, _ = self.lstm(a)
            return self.out(y)

    tagger = Tagger()
    with warnings.catch_warnings():
        warnings.simplefilter("error", SymcountImportWarning)  # every module is known
        for shape in (None, (12,)):
            model = sc.from_torch(tagger, input_shape=shape, dtype=torch.long)
            assert model.count().total == numel(tagger)


def test_input_shape_names_need_values():
    with pytest.raises(ArgumentError, match="input_shape names 'L': give its value in dims"):
        sc.from_torch(nn.Linear(3, 4), input_shape=("L",))


def test_not_a_module_is_an_argument_error():
    with pytest.raises(ArgumentError, match="expected a torch.nn.Module"):
        sc.from_torch("resnet50")


def test_reports_render_an_imported_model():
    net = nn.Sequential(nn.Linear(16, 32), Scale(32), nn.Linear(32, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SymcountImportWarning)
        count = sc.from_torch(net, input_shape=(16,)).count()
    assert "Scale" in count.summary() and "Scale" in count.markdown() and count.latex()


class Branchy(nn.Module):
    """A forward torch.fx cannot trace (a branch on the input's size): recorded instead.
    ``direct``: the second convolution takes the first one's output tensor itself (through
    a ReLU module); otherwise through ``torch.relu``, a new tensor."""

    def __init__(self, direct):
        super().__init__()
        self.direct = direct
        self.conv = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1)
        self.fc = nn.Linear(8, 10)

    def forward(self, x):
        if x.shape[-1] > 1:
            x = self.conv(x)
        x = self.relu(x) if self.direct else torch.relu(x)
        return self.fc(self.conv2(x).mean((2, 3)))


def test_untraceable_forward_is_counted_from_its_operators_at_any_size():
    """torch.fx cannot trace the branch; the operators are recorded, and the stride's floor
    is placed by probing H (an odd H included), checked against FlopCounterMode."""
    net = Branchy(direct=False)
    model = sc.from_torch(net, input_shape=(3, "H", "H"), dims={"H": 32})
    assert model.exact == "operators"
    count = model.count()
    assert count.total == numel(net) == 898
    for H in (32, 45, 64):
        assert count.subs(H=H).macs == flop_counter_macs(net, torch.zeros(1, 3, H, H))


def test_recorded_modules_fed_one_anothers_tensors_keep_symbolic_shapes():
    net = Branchy(direct=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SymcountImportWarning)
        model = sc.from_torch(net, input_shape=(3, "H", "H"), dims={"H": 32})
    count = model.count()
    half = sympy.floor((sc.dim("H") - 1) / 2) + 1
    assert next(r for r in count.layers if r.name == "conv2").input_shape == (None, 8, half, half)
    for H in (32, 45):
        assert count.subs(H=H).macs == flop_counter_macs(net, torch.zeros(1, 3, H, H))


def test_time_major_module_counts_what_runs_on_the_input_it_is_given():
    net = nn.LSTM(4, 6)  # time-major: (1, 5, 4) is one step of a batch of 5
    model = sc.from_torch(net, input_shape=(5, 4))
    count = model.count()
    assert model.exact == "operators" and count.total == numel(net) == 288
    assert count.macs == 5 * (4 * 24 + 6 * 24)  # the input and hidden products of 4 gates, 5 rows, by hand


def test_numbers_in_input_shape_stay_numbers():
    model = sc.from_torch(nn.Linear(8, 4), input_shape=(8,), dims={"d": 8})
    assert model.count().layers[0].input_shape == (None, 8)
    assert model.count().layers[-1].weights[0].shape == (4, sc.dim("d"))


class RootParameter(nn.Module):
    def __init__(self):
        super().__init__()
        self.pos = nn.Parameter(torch.zeros(1, 10, 16))
        self.fc = nn.Linear(16, 4)

    def forward(self, x):
        return self.fc(x + self.pos)


class Heads(nn.Module):
    def __init__(self):
        super().__init__()
        self.heads = nn.ModuleDict({"a": nn.Linear(8, 2), "b": nn.Linear(8, 3)})

    def forward(self, x, scale: float = 1.0):
        return torch.cat([self.heads["a"](x), self.heads["b"](x)], dim=-1) * scale


class Buffer(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("mask", torch.ones(8))

    def forward(self, x):
        return x * self.mask


def _assorted(name):
    transformers = pytest.importorskip("transformers") if name in ("vit", "t5") else None
    if name == "vit":
        config = transformers.ViTConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                        intermediate_size=64, image_size=32, patch_size=8)
        with torch.device("meta"):
            return transformers.ViTModel(config), (3, 32, 32), {}
    if name == "t5":
        config = transformers.T5Config(d_model=32, d_ff=64, num_layers=2, num_heads=4, d_kv=8, vocab_size=50)
        with torch.device("meta"):
            return transformers.T5EncoderModel(config), (9,), {"dtype": torch.long}
    return {
        "root parameter": (RootParameter(), (10, 16), {}),
        "module dict and keyword argument": (Heads(), (8,), {}),
        "buffer": (nn.Sequential(nn.Linear(4, 8), Buffer(), nn.Linear(8, 1)), (4,), {}),
        "unflatten and GRU": (nn.Sequential(nn.Linear(12, 24), nn.Unflatten(1, (2, 12)),
                                            nn.GRU(12, 5, batch_first=True)), (12,), {}),
        "nn.Transformer": (nn.Transformer(32, 4, 2, 2, 64, batch_first=True), [(7, 32), (5, 32)], {}),
        "conv1d": (nn.Sequential(nn.Conv1d(4, 8, 3, padding="same"), nn.BatchNorm1d(8), nn.AdaptiveMaxPool1d(1),
                                 nn.Flatten(), nn.Linear(8, 2)), (4, 20), {}),
        "transposed conv": (nn.Sequential(nn.ConvTranspose2d(3, 4, 2, stride=2), nn.GroupNorm(2, 4), nn.SiLU(),
                                          nn.InstanceNorm2d(4, affine=True)), (3, 8, 8), {}),
    }[name]


@pytest.mark.parametrize("name", ["root parameter", "module dict and keyword argument", "buffer", "unflatten and GRU",
                                  "nn.Transformer", "conv1d", "transposed conv", "vit", "t5"])
def test_assorted_modules_count_their_parameters(name):
    module, shape, options = _assorted(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SymcountImportWarning)  # ViT's embeddings, T5's layer norm: opaque
        for input_shape in (None, shape):
            model = sc.from_torch(module, input_shape=input_shape, **options)
            assert model.count().total == numel(module), (name, model.exact, model.notes)
