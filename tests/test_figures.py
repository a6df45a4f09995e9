"""The rounding-edge helper the page tests read figures with."""

from tests.figures import renderings, shows


def test_a_figure_on_a_rounding_edge_may_show_either_way():
    assert renderings(0.725, ".0%") == {"72%", "73%"}
    assert renderings(0.7250000000000001, ".0%") == {"72%", "73%"}


def test_a_figure_off_the_edge_has_one_rendering():
    assert renderings(0.7944, ".0%") == {"79%"}
    assert renderings(7.25, ".1f") == {"7.2", "7.3"}
    assert renderings(7.26, ".1f") == {"7.3"}


def test_shows_finds_the_figure_in_its_sentence():
    assert shows("Engagement 7.3 out of 10", 7.26, ".1f", "Engagement {} out of 10")
    assert not shows("Engagement 7.2 out of 10", 7.26, ".1f", "Engagement {} out of 10")
