"""The README's example runs and prints what the README says it prints."""

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_python_example_states_true_results():
    block = re.search(r"```python\n(.*?)```", README.read_text(), re.S).group(1)
    namespace: dict = {}
    exec(compile(block, "README.md", "exec"), namespace)  # the README's own code, as a reader runs it
    c = namespace["c"]
    claims = dict(re.findall(r"^(c\.total|int\(c\.subs\(H=32, W=32, classes=10\)\.total\))\s+# (.*)$", block, re.M))
    assert str(c.total) == claims["c.total"]
    assert str(int(c.subs(H=32, W=32, classes=10).total)) == claims["int(c.subs(H=32, W=32, classes=10).total)"]
    # by hand: 32×32 → conv 30 → pool 15; 15·15·32 = 7200 inputs to Dense(10): 72010, plus 896
    assert int(c.subs(H=32, W=32, classes=10).total) == 7200 * 10 + 10 + 896
