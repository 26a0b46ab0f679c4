"""Every setting of a demo run, fixed here before any result is seen.

A run pre-trains several models; the **pre-trained model is the unit of replication**. The models
of one world seed see worlds that *rotate* the same people through the count tiers (rotation r puts
each forget person one tier further along), so over the rotations every person is high-count in one
model, medium in another and low in the third, and person and answer-value effects cancel.
Unlearning seeds are nested within models. `demo_settings.json` records the preset of a run, and a
rerun with other settings into the same folder is refused.

Unlearning strength (all methods, all presets on a CPU): 40 steps of batch 16 at learning rate
1e-4, chosen once, before the frequency protocol existed, on one GA run of the tiny model on
forget_high by the rule "forgets most known facts while retain accuracy stays >= 90%" (a rule about
utility, blind to frequency), and not changed after any result of this protocol was seen.

Forget data (``forget_format``): both forms in which the benchmark asks a fact, its question and its
biography sentence, because the corpus taught the fact in biographies and the protocol measures
both probes; QA-format forget data alone leaves most biography-form knowledge in place
(../shared/NOTES.md). IDK and IdkDPO answer a question with a refusal, which has no biography
form: they get the QA pairs only.

Equal-utility arm (``UtilityArm``): at the fixed strength retain accuracy falls only 0-3 points, so
strata cannot be compared at a given utility loss from the grid. The arm runs each targeted stratum
again with the grid's settings but a constant learning rate (with the Trainer's linear decay, the
first steps would depend on the cap), evaluating the target and retain (QA probe) every
``eval_steps`` steps, and stops after the first evaluation at which retain accuracy has fallen by
the largest level, or at ``max_steps``. A run's path to a level does not depend on the cap; the cap
only bounds the time. Settings from a calibration that looked at retain accuracy only (tiny-w0r0,
lr 1e-4 constant, 200 steps, 2026-12-03): 10 points were reached by step 75 by GA (each stratum),
NPO (low, high), GradDiff and count-aware (low) and IdkDPO (high); SimNPO and RMU never fell more
than 2 points. The default's arm runs GA and NPO (the core methods that reach the levels; SimNPO
would run to the cap for nothing), thorough's every method that reached them; the cap is twice the
slowest crossing seen.

Robustness (relearning attack and membership inference, ``freq_unlearn.robustness``): on the main
model, for every method in ``robustness_methods`` and every targeted stratum. The relearning
attack uses the unlearning step size (learning rate 1e-4, batch 16) for ``relearn_steps`` steps;
the default preset evaluates after 10 steps only (the time budget), thorough and paper at 5/10/20.
The non-members of membership inference are the world's 32 held-out people (never in the corpus).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

CORE_METHODS = ("ga", "npo", "simnpo")
COUNT_AWARE = "countaware"  # the suite's own method (unlearn_methods/countaware.py), judged like the others
ALL_METHODS = ("ga", "graddiff", "npo", "simnpo", "idk", "idkdpo", "rmu", COUNT_AWARE)
QA_ONLY_METHODS = ("idk", "idkdpo")

# The demo world: 16 forget people per tier x 6 relations = 96 facts per stratum (>= 30 per stratum
# for a verdict), 32 retain and 16 utility people, 32 held-out people (never in the corpus).
DEMO_WORLD = dict(design="tiered", people_per_tier=16, n_retain=32, n_utility=16, n_cities=20, n_heldout=32)

UNLEARN = dict(learning_rate=1e-4, max_steps=40, per_device_train_batch_size=16, warmup_steps=0,
               forget_format="both")


@dataclass(frozen=True)
class UtilityArm:
    """Runs until retain accuracy has fallen by max(levels) (see the module docstring)."""

    methods: tuple[str, ...] = ("ga", "npo")
    levels: tuple[float, ...] = (0.05, 0.10)  # retain-accuracy drops at which the strata are compared
    max_steps: int = 150
    eval_steps: int = 10


@dataclass(frozen=True)
class ModelSpec:
    """One pre-trained model: its size preset and the world (seed, rotation) it was trained on."""

    size: str
    world_seed: int = 0
    rotation: int = 0

    @property
    def id(self) -> str:
        return f"{self.size}-w{self.world_seed}r{self.rotation}"

    @property
    def pretrain_seed(self) -> int:
        # Each model also starts from its own initialisation; the first one is the test fixture's.
        return self.world_seed * 10 + self.rotation


def rotated(size: str, rotations: int = 3, world_seeds: tuple[int, ...] = (0,)) -> tuple[ModelSpec, ...]:
    return tuple(ModelSpec(size, s, r) for s in world_seeds for r in range(rotations))


@dataclass(frozen=True)
class DemoPreset:
    description: str
    models: tuple[ModelSpec, ...]
    methods: tuple[str, ...]
    world: dict[str, Any] = field(default_factory=lambda: dict(DEMO_WORLD))
    seeds: tuple[int, ...] = (0,)
    unlearn: dict[str, Any] = field(default_factory=lambda: dict(UNLEARN))
    probes: tuple[str, ...] = ("qa", "bio")
    inrun_steps: int = 10  # grid: per-item evaluation of the targeted split and retain every N steps (0: none)
    utility_arm: UtilityArm | None = None  # runs to fixed retain-accuracy drops (equal utility)
    leaderboard: bool = True  # every method submitted under the leaderboard protocol (first model)
    robustness_methods: tuple[str, ...] = ()  # relearning attack + membership inference (first model)
    relearn_steps: tuple[int, ...] = (0, 5, 10, 20)  # relearning attack schedule (robustness stage)
    epochs: dict[str, int] = field(default_factory=dict)  # per-size override of the pre-training epochs
    n_resamples: int = 999  # people-bootstrap resamples per model

    @property
    def main_model(self) -> ModelSpec:
        return self.models[0]

    @property
    def sizes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(m.size for m in self.models))

    def overrides(self, method: str) -> dict[str, Any]:
        settings = dict(self.unlearn)
        if method in QA_ONLY_METHODS and settings.get("forget_format") != "qa":
            settings["forget_format"] = "qa"
        return settings


PRESETS: dict[str, DemoPreset] = {
    # CI's end-to-end test: every stage once, on one model (= the test fixtures' world and model).
    # GA only: with two methods it took 194 s on an idle machine (2026-12-03), over the 3-minute budget.
    "quick": DemoPreset(
        "one tiny model, GA, every stage (CI's end-to-end run; descriptive only)",
        models=rotated("tiny", rotations=1), methods=("ga",), inrun_steps=0,
        utility_arm=UtilityArm(methods=("ga",), eval_steps=20),
        robustness_methods=("ga",), relearn_steps=(0, 5),
    ),
    # The default: three rotated worlds x one size; the frequency effect is estimated over models.
    "default": DemoPreset(
        "three tiny models on rotated worlds, GA/NPO/SimNPO and the count-aware method, the untargeted control",
        models=rotated("tiny"), methods=CORE_METHODS + (COUNT_AWARE,),
        robustness_methods=CORE_METHODS, relearn_steps=(0, 10),
        # No in-run curves in the grid (finding 2 needs two sizes; equal utility comes from the arm):
        # they cost ~7 s of a ~13 s run, which pays for the arm.
        inrun_steps=0, utility_arm=UtilityArm(),
    ),
    # Finding 2 (views disagree more in larger models) needs >= 2 models per size.
    "sizes": DemoPreset(
        "two sizes x two rotated worlds, GA and SimNPO, disagreement at matched generation-view forgetting",
        models=rotated("tiny", rotations=2) + rotated("mini", rotations=2), methods=("ga", "simnpo"),
        inrun_steps=5, leaderboard=False,
    ),
    # Everything a CPU affords in about an hour: both sizes fully rotated (six models, so finding 2
    # compares 3 models per size), every method, the robustness attacks at 0/5/10/20 steps. One
    # unlearning seed: seeds only reorder data within a model; the power comes from more models.
    "thorough": DemoPreset(
        "six models (tiny and mini x 3 rotated worlds), every method, relearning and MIA, finding 2",
        models=rotated("tiny") + rotated("mini"), methods=ALL_METHODS, robustness_methods=CORE_METHODS,
        utility_arm=UtilityArm(methods=("ga", "graddiff", "npo", "idkdpo", COUNT_AWARE)),
    ),
    # The paper's scale (10,000 people; GPT-2 from ~26M to ~300M parameters): GPUs only.
    "paper": DemoPreset(
        "the paper's scale on GPUs: 10,000 people, GPT-2 paper-s and paper-l, three rotations each",
        models=rotated("paper-s") + rotated("paper-l"), methods=CORE_METHODS,
        world=dict(design="tiered", people_per_tier=2000, n_retain=2000, n_utility=2000, n_cities=150),
        unlearn=dict(UNLEARN, learning_rate=1e-5, max_steps=200, per_device_train_batch_size=32),
        inrun_steps=25, robustness_methods=CORE_METHODS,
        # Not calibrated (no GPU run yet): the stop rule ends each run at the 10-point level.
        utility_arm=UtilityArm(max_steps=1000, eval_steps=50),
    ),
}
