"""The simulator's named profiles: ``realistic`` turns the platform's awkward behaviours on, overrides win,
and a misspelt profile or setting is refused rather than silently giving the plain organisation."""

from __future__ import annotations

import pytest
from genesys_sim.config import SimConfig
from genesys_sim.limits import SYNC_QUERY_MAX_DAYS
from genesys_sim.profiles import PLAIN, REALISTIC, REALISTIC_FIELDS, build, realistic


def test_plain_is_the_defaults():
    assert build(PLAIN, subjects=3) == SimConfig(subjects=3)


def test_realistic_turns_every_listed_behaviour_on():
    config = realistic(subjects=3)
    plain = SimConfig(subjects=3)
    for name, value in REALISTIC_FIELDS.items():
        assert getattr(config, name) == value != getattr(plain, name), name
    assert config.sync_query_max_days == SYNC_QUERY_MAX_DAYS and config.sensitive_recording_share > 0


def test_an_override_wins_over_the_profile():
    assert realistic(sensitive_recording_share=0.0).sensitive_recording_share == 0.0


@pytest.mark.parametrize(("profile", "fields", "message"), [
    ("realistc", {}, "unknown simulator profile"),
    (REALISTIC, {"sync_query_max_dayz": 31}, "unknown simulator settings: sync_query_max_dayz"),
])
def test_a_misspelling_is_refused(profile, fields, message):
    with pytest.raises(ValueError, match=message):
        build(profile, **fields)


def test_the_command_line_serves_the_realistic_profile_by_default(monkeypatch):
    from genesys_sim import __main__ as cli

    served: list[SimConfig] = []
    monkeypatch.setattr(cli, "serve", lambda config, host, port, login_port=None: served.append(config))
    cli.main(["--subjects", "2"])
    cli.main(["--subjects", "2", "--profile", "plain"])
    assert served == [realistic(subjects=2), SimConfig(subjects=2)]
