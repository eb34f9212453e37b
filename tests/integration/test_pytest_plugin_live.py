"""The README's example of a team's own checks, run by pytest as the team would run it (the plugin
loaded from its entry point) against the live lab: it passes, and a check that must fail fails."""
from __future__ import annotations

import re

from ..conftest import REPO


def readme_example() -> str:
    text = (REPO / "README.md").read_text()
    return re.search(r"<!-- plugin-example -->\n```python\n(.*?)```", text, re.S).group(1)


def test_the_readme_example_passes_on_the_live_lab(lab, pytester):
    pytester.makepyfile(test_mine=readme_example())
    result = pytester.runpytest_subprocess("--nhtb-lab", lab.name, "-v")
    result.assert_outcomes(passed=len(re.findall(r"^def test_", readme_example(), re.M)))


def test_a_check_that_should_fail_fails(lab, pytester):
    hub = lab.model.hub().name
    host = lab.model.lan_host(hub)
    nobody = lab.model.hub().lan_units()[0].addresses[0].network[200]  # on the hub's LAN, held by no node
    pytester.makepyfile(test_wrong=f"""
        def test_a_next_hop_nobody_has(nhtb_driver):
            hops = [e.next_hop for e in nhtb_driver("{hub}").next_hop_tunnels()]
            assert "10.11.11.99" in hops
        def test_an_unreachable_address(nhtb_ping):
            assert nhtb_ping("{host}", "{nobody}", count=1).received > 0
    """)
    result = pytester.runpytest_subprocess("--nhtb-lab", lab.name)
    result.assert_outcomes(failed=2)
