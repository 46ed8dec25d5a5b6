"""The validation patterns hold at the defaults and fail when their mechanism is switched off."""

from __future__ import annotations

import pytest

from partnersim.patterns import PATTERNS, bootstrap_ci, judge

N_SEEDS = 20

MECHANISM_OFF = {
    # symmetric trust updates and breaches that leave no ceiling
    "SF1": {"trust_loss_ratio": 1.0, "reputation_damage": 0.05, "reputation_recovery": 0.05},
    # familiarity does not enter first-meeting trust
    "SF2": {"trust_weight_familiarity": 0.0},
    # relationship work brings no synergy and costs no coordination
    "SF9": {"synergy_max": 0.0, "coordination_cost": 0.0},
}


@pytest.mark.slow
@pytest.mark.parametrize("pattern", sorted(PATTERNS))
def test_pattern_holds_at_default_parameters(pattern):
    result = PATTERNS[pattern](n_seeds=N_SEEDS)
    assert result.holds, result
    assert result.n_seeds == N_SEEDS and result.ci_low > 0


@pytest.mark.slow
@pytest.mark.parametrize("pattern", sorted(MECHANISM_OFF))
def test_pattern_does_not_hold_with_its_mechanism_switched_off(pattern):
    result = PATTERNS[pattern](n_seeds=N_SEEDS, **MECHANISM_OFF[pattern])
    assert not result.holds, result


def test_judge_requires_direction_share_and_ci():
    assert judge("X", "", [1.0] * 19 + [-0.5]).holds
    assert not judge("X", "", [1.0] * 17 + [-0.5] * 3).holds  # 85% of seeds
    assert not judge("X", "", [0.0] * 20).holds
    assert not judge("X", "", [1.0] * 20, all_of=[[-1.0] * 20]).holds


def test_bootstrap_ci_covers_the_mean_and_is_seeded():
    values = [0.1, 0.3, 0.2, 0.5, 0.4, 0.2]
    low, high = bootstrap_ci(values)
    assert low < sum(values) / len(values) < high
    assert bootstrap_ci(values) == (low, high)
