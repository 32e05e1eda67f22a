"""RNN, LSTM (proj_size) and GRU against torch: every named weight (two bias vectors
per layer and direction), time-major and batch-first shapes, MACs."""

from hypothesis import given, settings
from hypothesis import strategies as hs

from .harness import Case, check, oracle
from .strategies import SETTINGS, near, rarely


@hs.composite
def rnn_cases(draw):
    kind = draw(hs.sampled_from(["RNN", "LSTM", "GRU"]))
    input_size, hidden = draw(hs.integers(1, 5)), draw(hs.integers(1, 6))
    batch_first = draw(hs.booleans())
    kwargs = dict(input_size=input_size, hidden_size=hidden, num_layers=draw(hs.integers(1, 3)),
                  bias=draw(hs.booleans()), batch_first=batch_first, bidirectional=draw(hs.booleans()))
    if kind == "RNN" and draw(hs.booleans()):
        kwargs["nonlinearity"] = "relu"
    if kind == "LSTM" and draw(hs.booleans()):
        kwargs["proj_size"] = draw(hs.integers(0, hidden))  # proj_size == hidden_size is invalid
    if rarely(draw, 20):
        kwargs["dropout"] = 0.25
    length = draw(hs.integers(1, 4))
    # FlopCounterMode sees no products in CPU LSTM without projections (a fused kernel)
    flops = kind != "LSTM" or kwargs.get("proj_size", 0) > 0
    sizes = ("input_size", "hidden_size", "num_layers", "proj_size")
    return Case(kind, kwargs, ((length, near(draw, input_size, 10)),), batch_first=batch_first, sizes=sizes,
                flops=flops)


@oracle
@settings(SETTINGS, max_examples=250)
@given(rnn_cases())
def test_recurrent_layers_match_torch(case):
    check(case)
