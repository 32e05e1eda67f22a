"""The terminal table stays a table: long formulas wrap between terms, inside their column."""

from pathlib import Path

from symcount.report.text import summary
from symcount.spec import default_values, load

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_long_formulas_wrap_between_terms_inside_the_column():
    spec = load(EXAMPLES / "seed_cnn.yaml")
    table = summary(spec.model.count().subs({**default_values(spec), "classes": 9}), width=100)
    lines = table.splitlines()
    body = [line for line in lines if line[:1] in "┏┃┡│├└"]
    assert len({len(line) for line in body}) == 1  # every row as wide as the frame
    dense = [line.split("│")[3].strip() for line in lines if "│" in line][
        [line.split("│")[1].strip() for line in lines if "│" in line].index("dense (Dense)"):][:3]
    # at the default 100 columns the formula column is 20 wide: after the factors, then at spaces
    assert dense == ["16384*", "(floor((H - 32)/12)", "+ 1)*"]
    assert " Total params: 16384*(floor((H - 32)/12) + 1)*(floor((W - 32)/12) + 1) + 129*classes + 113312\n" \
           "               = 6,029,097 (23.00 MB)" in table
