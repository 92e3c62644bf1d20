"""Trainers: shared-parameter learning on the batched VecEnv, and independent learners.

Shared parameters (:func:`train_shared`)
----------------------------------------
One SB3 model plays every lab. The batched ``GameVecEnv`` (``labrace.make_vec``) gives B games x N
labs rows; every lab sees its own type in its observation, so the one policy can condition on it.
The VecEnv is wrapped in ``VecMonitor`` (episode returns per row for the learning curve).

Independent learners (:func:`train_independent`): alternating best responses
-----------------------------------------------------------------------------
One SB3 model per lab. Each *round* visits the labs in order 0, 1, …, N-1: lab i trains for
``timesteps / rounds`` steps in the single-agent view with focal lab i, against the *current*
policies of all other labs, which stay frozen meanwhile and act deterministically, as at
evaluation. Later labs in a round respond to the earlier labs' updated policies (a Gauss-Seidel
sweep). The single-agent view is the focal form of :class:`~labrace.envs.vec_env.GameVecEnv` (B games of
the batched core) by default; the hyperparameter ``focal_env="gymnasium"`` uses copies of the
Gymnasium ``FocalLabEnv`` with ``background=[…policies]`` instead, which play the same episodes
about ten times slower (a test checks the two agree step for step).

After the last round the **convergence check** measures the final profile's exploitability
(:mod:`labrace.agents.exploitability`): per lab, what a best response against the others' final
policies gains (exact in ``precipice_v0``; the best of the env's strategy set elsewhere; in
``race_v0`` also a PPO best response trained for ``check_fraction`` of one round's budget), with a
95% CI and the response that achieved it. ``converged: true`` when no lab gains more than
``equilibrium_tolerance(game)`` per episode (0.05 of the most a lab can win). The per-round mean
returns are reported too.

Algorithms
----------
``ppo`` (default), ``a2c`` (any action space), ``sac`` (continuous actions only) and ``dqn``
(discrete actions only: race_v0 with ``action_type="discrete"``). :func:`check_algorithm` raises a
ValueError saying which setting to change otherwise.

Reproducibility
---------------
:func:`seed_everything` seeds Python, numpy and torch and turns on
``torch.use_deterministic_algorithms``; the VecEnv and the SB3 model get the same seed. On the
same machine and thread count, training twice with one seed gives identical parameters. A run
resumed from a checkpoint continues from the saved parameters but not from the exact random
streams of an uninterrupted run.
"""

from __future__ import annotations

import dataclasses
import glob
import json
import os
import random
import re
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from gymnasium import spaces

from labrace.agents.evaluation import rollout
from labrace.agents.hyperparams import get_hyperparams, split_hyperparams
from labrace.agents.parameterisation import default_parameterisation, make_parameterisation
from labrace.agents.policy import Policy, SB3Policy, atomic_write_bytes, save_model_atomically, write_json
from labrace.agents.runs import KEEP_CHECKPOINTS

ALGORITHMS = ("ppo", "a2c", "sac", "dqn")
TRAINERS = ("shared", "independent", "simultaneous")


def algorithm_class(name: str) -> type:
    """The SB3 algorithm class for ``ppo``, ``a2c``, ``sac`` or ``dqn``."""
    import stable_baselines3 as sb3

    classes = {"ppo": sb3.PPO, "a2c": sb3.A2C, "sac": sb3.SAC, "dqn": sb3.DQN}
    if name not in classes:
        raise ValueError(f"unknown algorithm {name!r}; valid algorithms are {list(ALGORITHMS)}")
    return classes[name]


def keep_logs_out_of_tmp(model: Any) -> Any:
    """Give an SB3 model without a TensorBoard folder a logger that writes no files (returns it).

    Without ``tensorboard_log``, SB3 makes an empty folder ``<tempdir>/SB3-<date-time>`` at every
    ``learn()``: one per best response of an exploitability measurement (736 were found in /tmp
    after a day of studies). A run's logs belong in its run folder; a model without one writes none.
    """
    if model.tensorboard_log is None:
        from stable_baselines3.common.logger import HumanOutputFormat, Logger

        model.set_logger(Logger(folder=None, output_formats=[HumanOutputFormat(sys.stdout)] if model.verbose >= 1 else []))
    return model


def check_algorithm(algo: str, game: Any) -> None:
    """Raise ValueError if ``algo`` cannot act in ``game``'s action space (saying what to change)."""
    algorithm_class(algo)
    space = game.action_space
    if algo in ("sac", "dqn") and isinstance(space, spaces.MultiDiscrete):
        raise ValueError(f"{algo} cannot act in {game.name}'s {space} (commitments or cheap talk with discrete actions); use --algo ppo or a2c")
    discrete = isinstance(space, spaces.Discrete)
    if algo == "sac" and discrete:
        hint = "drop --set action_type=discrete, or " if "continuous" in _action_types(game) else ""
        raise ValueError(f"sac needs continuous actions; {game.name} here has {space} ({hint}use --algo ppo, a2c or dqn)")
    if algo == "dqn" and not discrete:
        hint = "use --set action_type=discrete, or " if "discrete" in _action_types(game) else ""
        raise ValueError(f"dqn needs discrete actions; {game.name} here has {space} ({hint}use --algo ppo, a2c or sac)")


def _action_types(game: Any) -> tuple[str, ...]:
    try:
        from labrace.envs import get_entry

        return get_entry(game.name).action_types
    except ValueError:
        return ()


def seed_everything(seed: int, torch_threads: int | None = 1) -> None:
    """Seed Python, numpy and torch, make torch deterministic, fix its thread count and skip
    ``torch.distributions``' argument checks (all process-wide settings).

    One torch thread is the default: the networks are small, so more threads mostly contend with
    the environment for the CPU (several times slower on 2 busy cores), and a fixed thread count is
    part of bit-for-bit reproducibility. SB3 builds a torch distribution at every rollout step and
    minibatch, one per lab in the simultaneous trainer; checking its arguments changes no number
    and made the study's equilibrium lens train 1.04-1.09x slower (``benchmarks/ppo_throughput.py``).
    A policy that diverges to NaN is still stopped, by the environments' action check, which names
    the lab and the value.
    """
    import torch

    torch.distributions.Distribution.set_default_validate_args(False)
    if torch_threads is not None:
        torch.set_num_threads(torch_threads)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)


@dataclass
class TrainResult:
    """What a trainer returns: one policy per lab (the same object N times for a shared model)."""

    policies: list[Policy]
    models: list[Any]
    trainer: str
    algo: str
    timesteps: int
    hyperparams: dict[str, Any]
    report: dict[str, Any] = field(default_factory=dict)  # trainer-specific (convergence check, …)


def check_trainer_settings(game: Any, algo: str, trainer: str, params: dict[str, Any]) -> None:
    """Raise ValueError, naming the setting, if a run with these settings could not start.

    Everything is checked before a run folder is made: the algorithm against the action space,
    every hyperparameter against its allowed values (:func:`~labrace.agents.hyperparams.check_hyperparams`),
    ``action_param`` and ``train_overrides`` against the game, and finally the SB3 model is built
    once on a one-game VecEnv, so that a keyword SB3 rejects fails here, not after training.
    """
    from labrace.agents.hyperparams import check_hyperparams
    from labrace.envs.vec_env import GameVecEnv

    check_algorithm(algo, game)
    if trainer == "simultaneous" and algo not in ("ppo", "a2c"):
        raise ValueError(f"the simultaneous trainer runs on-policy learners (--algo ppo or a2c); got --algo {algo}")
    check_hyperparams(algo, params)
    settings, kwargs = split_hyperparams(params)
    transform = action_transform(settings, algo, game)
    learning_game = training_game(game, settings)
    if "buffer_size" in kwargs:  # the trial model needs no full replay buffer
        kwargs["buffer_size"] = min(kwargs["buffer_size"], 1_000)
    focal_lab = None if trainer == "shared" else 0  # the rows each model learns from
    env = GameVecEnv(learning_game, int(settings.get("n_envs", 16)), seed=0, action_transform=transform, focal_lab=focal_lab)
    try:
        with warnings.catch_warnings():  # SB3's advice on batch sizes comes once, when the run starts
            warnings.simplefilter("ignore")
            algorithm_class(algo)(settings.get("policy", "MlpPolicy"), env, device="cpu", **kwargs)
    except (ValueError, TypeError, AssertionError, KeyError) as exc:
        raise ValueError(f"the {algo} hyperparameters are rejected by Stable-Baselines3: {exc}") from None


def action_transform(settings: dict[str, Any], algo: str, game: Any) -> Any:
    """The learner's action parameterisation (hyperparameter ``action_param``; ``"auto"``: logits
    for PPO and A2C on Box actions, the env's own space otherwise)."""
    name = settings.get("action_param", "auto")
    return make_parameterisation(default_parameterisation(algo, game) if name == "auto" else name, game)


def action_param_name(transform: Any) -> str:
    """What a run records as its parameterisation: the transform's name, or ``"direct"``."""
    return "direct" if transform is None else transform.name


def training_game(game: Any, settings: dict[str, Any]) -> Any:
    """The game learners train in: ``game`` with the config fields of ``train_overrides`` changed
    (e.g. ``precipice_v0``'s ``expected_rewards``: the same equilibria, less variance), each lab
    paid the mean of every lab's reward where ``team_reward`` is on (the labs learn as one team),
    and its rewards times ``reward_scale``; policies are evaluated in ``game`` itself."""
    from labrace.envs.core import replace_game_config

    game = replace_game_config(game, settings.get("train_overrides") or {})
    scale = float(settings.get("reward_scale", 1.0))
    team = bool(settings.get("team_reward", False))
    return game if scale == 1.0 and not team else LearnerRewards(game, scale, team)


class LearnerRewards:
    """``game`` with the rewards a learner sees: with ``team``, every lab's reward is the mean
    reward of its game's labs (welfare / N: what one team maximises, not what each lab wants);
    then times ``scale`` (the same game in other units: the learner's value targets stay near 1
    where payoffs are in the thousands, as in dsair_v0)."""

    def __init__(self, game: Any, scale: float = 1.0, team: bool = False) -> None:
        self.game = game
        self.scale = scale
        self.team = team

    def __getattr__(self, name: str) -> Any:  # everything but the rewards is the game's own
        if name == "game":  # not set yet (unpickling): no recursion
            raise AttributeError(name)
        return getattr(self.game, name)

    def step(self, state: Any, actions: np.ndarray, rng: np.random.Generator) -> Any:
        result = self.game.step(state, actions, rng)
        rewards = result.rewards  # (B, N)
        if self.team:
            rewards = np.broadcast_to(rewards.mean(axis=1, keepdims=True), rewards.shape)
        return dataclasses.replace(result, rewards=rewards * self.scale)


def training_callbacks(settings: dict[str, Any], timesteps: int) -> list[Any]:
    """Callbacks every trainer adds from its settings: the log-std schedule (``log_std_final``)."""
    final = settings.get("log_std_final")
    return [] if final is None else [LogStdSchedule(float(final), timesteps)]


def _log_std_schedule_class() -> type:
    from stable_baselines3.common.callbacks import BaseCallback

    class _LogStdSchedule(BaseCallback):
        """Anneals a Gaussian policy's log-std linearly to ``final`` over ``timesteps`` (not learned then).

        The noise of a Gaussian policy shifts what it learns: its mean converges to an equilibrium
        of the game in which everyone plays with that noise (DESIGN.md §5). Shrinking it on a
        schedule lets the mean settle on the equilibrium of the game itself.
        """

        def __init__(self, final: float, timesteps: int) -> None:
            super().__init__()
            self.final = final
            self.timesteps = max(int(timesteps), 1)
            self.start: float | None = None

        def _on_training_start(self) -> None:
            log_std = getattr(self.model.policy, "log_std", None)
            if log_std is None:
                raise ValueError(f"log_std_final needs a Gaussian policy (PPO or A2C on Box actions); {type(self.model).__name__} here has none")
            log_std.requires_grad_(False)  # the schedule sets it; the optimiser skips a parameter without a gradient
            if self.start is None:  # the first learn() call; later calls (independent turns) continue the schedule
                self.start = float(log_std.detach().mean())
            self._set()

        def _on_rollout_start(self) -> None:
            self._set()

        def _set(self) -> None:
            progress = min(self.model.num_timesteps / self.timesteps, 1.0)
            value = self.start + (self.final - self.start) * progress
            import torch

            with torch.no_grad():
                self.model.policy.log_std.fill_(value)

        def _on_step(self) -> bool:
            return True

    return _LogStdSchedule


def LogStdSchedule(final: float, timesteps: int) -> Any:  # noqa: N802 (a class made on first use: SB3 imports lazily)
    """The SB3 callback that anneals the policy's log-std to ``final`` over ``timesteps``."""
    return _log_std_schedule_class()(final, timesteps)


# --------------------------------------------------------------------------------------------
# Shared parameters
# --------------------------------------------------------------------------------------------


def checkpoints(folder: str | os.PathLike) -> list[Path]:
    """The checkpoints in ``folder`` (``*_<steps>_steps.zip``), most steps first."""
    found = [Path(name) for name in glob.glob(os.path.join(folder, "*_steps.zip"))]
    return sorted((path for path in found if checkpoint_steps(path) is not None), key=checkpoint_steps, reverse=True)


def latest_checkpoint(folder: str | os.PathLike) -> Path | None:
    """The checkpoint with the most steps in ``folder``, or None."""
    found = checkpoints(folder)
    return found[0] if found else None


def train_shared(
    game: Any,
    algo: str = "ppo",
    timesteps: int = 100_000,
    seed: int = 0,
    hyperparams: dict[str, Any] | None = None,
    run_dir: str | os.PathLike | None = None,
    checkpoint_every: int | None = None,
    progress_bar: bool = False,
    resume: bool = False,
    verbose: int = 0,
    keep_checkpoints: int = KEEP_CHECKPOINTS,
) -> TrainResult:
    """Train one parameter-shared model for every lab of ``game`` on the batched VecEnv.

    ``timesteps`` counts agent-steps (rows of the VecEnv: one per lab per game step).
    ``hyperparams`` default to :func:`~labrace.agents.hyperparams.get_hyperparams`. With
    ``run_dir``: TensorBoard logs in ``tb/``, episode monitor in ``monitor.csv``, checkpoints every
    ``checkpoint_every`` steps in ``checkpoints/`` (the newest ``keep_checkpoints`` kept);
    ``resume=True`` continues from the latest checkpoint there up to ``timesteps``. A checkpoint
    holds the model and every random stream and game of the batch (:class:`TrainingState`), so an
    on-policy run (PPO, A2C) resumed from it ends exactly as the uninterrupted run would
    (``report["resumed_exactly"]``); SAC and DQN resume without their replay buffer.
    """
    from stable_baselines3.common.vec_env import VecMonitor

    from labrace.envs.vec_env import GameVecEnv

    check_algorithm(algo, game)
    params = hyperparams if hyperparams is not None else get_hyperparams(game.name, algo, "shared")
    settings, kwargs = split_hyperparams(params)
    seed_everything(seed)
    run_dir = Path(run_dir) if run_dir is not None else None
    candidates = checkpoints(run_dir / "checkpoints") if (resume and run_dir is not None) else []
    monitor_file = None
    if run_dir is not None:
        run_dir.mkdir(parents=True, exist_ok=True)
        tag = f"resumed-{candidates[0].stem}." if candidates else ""  # a resumed run keeps the first monitor file
        monitor_file = str(run_dir / f"{tag}monitor.csv")
    transform = action_transform(settings, algo, game)
    env = VecMonitor(GameVecEnv(training_game(game, settings), int(settings.get("n_envs", 16)), seed=seed, action_transform=transform), filename=monitor_file)
    cls = algorithm_class(algo)
    tb = str(run_dir / "tb") if run_dir is not None else None
    model, checkpoint, state = None, None, None
    for candidate in candidates:  # newest first; a checkpoint cut short by the interruption is skipped
        try:
            state = TrainingState.read(candidate)
            # with the saved games, keep the model's last observations (SB3 would reset the env)
            model = cls.load(candidate, env=env, device="cpu", tensorboard_log=tb, force_reset=state is None)
            checkpoint = candidate
            break
        except Exception as exc:  # noqa: BLE001 (a truncated zip raises various errors)
            print(f"skipping unreadable checkpoint {candidate}: {exc}")
    if model is None:
        state = None
        model = cls(settings.get("policy", "MlpPolicy"), env, seed=seed, device="cpu", tensorboard_log=tb, verbose=verbose, **kwargs)
    keep_logs_out_of_tmp(model)
    callbacks = training_callbacks(settings, timesteps)
    if run_dir is not None and checkpoint_every:
        callbacks.append(checkpoint_callback(run_dir / "checkpoints", checkpoint_every, keep_checkpoints, [env]))
    if state is not None:
        state.restore([env])  # last: loading the model re-seeded the global generators
    remaining = timesteps - (model.num_timesteps if checkpoint is not None else 0)
    try:
        if remaining > 0:
            model.learn(remaining, callback=callbacks or None, progress_bar=progress_bar, tb_log_name="shared", reset_num_timesteps=checkpoint is None)
    finally:  # an interrupted run closes its monitor file too
        env.close()
    policy = SB3Policy(model, name=f"{algo}_shared", action_transform=transform)
    report = {"action_param": action_param_name(transform)}
    if checkpoint is not None:
        report["resumed_at_step"] = checkpoint_steps(checkpoint)
        report["resumed_exactly"] = state is not None and algo in ("ppo", "a2c") and settings.get("log_std_final") is None
    return TrainResult([policy] * game.num_agents, [model], "shared", algo, int(model.num_timesteps), params, report)


class TrainingState:
    """What a checkpoint needs beside the SB3 model for an exact resume: the global random streams
    (Python, numpy, torch), and each VecEnv's games, random stream and episode monitor."""

    def __init__(self, envs: list[Any]) -> None:
        import torch

        self.generators = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
        self.envs = [_env_state(env) for env in envs]

    def restore(self, envs: list[Any]) -> None:
        import torch

        for env, saved in zip(envs, self.envs, strict=True):
            _set_env_state(env, saved)
        random.setstate(self.generators["python"])
        np.random.set_state(self.generators["numpy"])
        torch.set_rng_state(self.generators["torch"])

    def write(self, path: Path) -> None:
        import pickle

        atomic_write_bytes(path, pickle.dumps(self))

    @staticmethod
    def path(checkpoint: Path) -> Path:
        return checkpoint.with_suffix(".state.pkl")

    @classmethod
    def read(cls, checkpoint: Path) -> TrainingState | None:
        """The state saved with ``checkpoint``, or None (a checkpoint of an older labrace)."""
        import pickle

        try:
            return pickle.loads(cls.path(checkpoint).read_bytes())
        except (OSError, pickle.UnpicklingError, EOFError):
            return None


def _env_state(env: Any) -> dict[str, Any]:
    """A VecMonitor-wrapped GameVecEnv's state: the games and stream, and the monitor's running episodes."""
    return {"games": env.venv.get_state(), "monitor": (env.episode_returns.copy(), env.episode_lengths.copy(), env.episode_count)}


def _set_env_state(env: Any, saved: dict[str, Any]) -> None:
    env.venv.set_state(saved["games"])
    env.episode_returns, env.episode_lengths, env.episode_count = (saved["monitor"][0].copy(), saved["monitor"][1].copy(), saved["monitor"][2])


def checkpoint_steps(path: Path) -> int | None:
    """The training steps in a checkpoint's name (``model_<steps>_steps.zip``), or None."""
    match = re.search(r"_(\d+)_steps\.zip$", path.name)
    return int(match.group(1)) if match else None


def checkpoint_callback(folder: Path, every: int, keep: int, envs: list[Any]) -> Any:
    """The SB3 callback that saves a checkpoint (model + :class:`TrainingState`) about every
    ``every`` steps, at the start of a rollout or the end of training (where no rollout is half
    collected), keeping the newest ``keep``."""
    from stable_baselines3.common.callbacks import BaseCallback

    from labrace.agents.runs import prune_checkpoints

    class RunCheckpoints(BaseCallback):
        def _on_training_start(self) -> None:
            self.next_save = (self.num_timesteps // every + 1) * every

        def _on_rollout_start(self) -> None:
            if self.num_timesteps >= self.next_save:
                self._save()

        def _on_training_end(self) -> None:  # the state a later learn() would start its next rollout from
            if self.num_timesteps >= self.next_save:
                self._save()

        def _save(self) -> None:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"model_{self.num_timesteps}_steps.zip"
            TrainingState(envs).write(TrainingState.path(path))  # first: the zip marks a complete checkpoint
            save_model_atomically(self.model, path)
            prune_checkpoints(checkpoints(folder), keep)
            self.next_save = (self.num_timesteps // every + 1) * every

        def _on_step(self) -> bool:
            return True

    return RunCheckpoints()


# --------------------------------------------------------------------------------------------
# Simultaneous independent learners: one model per lab, all learning from one batched env
# --------------------------------------------------------------------------------------------


def _lab_rows_env(game: Any, num_games: int, action_space: Any) -> Any:
    """A VecEnv that only declares lab i's rows (B of them) to its SB3 model; the trainer steps the game."""
    from stable_baselines3.common.vec_env.base_vec_env import VecEnv

    class LabRows(VecEnv):
        def __init__(self) -> None:
            super().__init__(num_games, game.observation_space, action_space)

        def reset(self) -> np.ndarray:  # the trainer sets the models' observations itself
            return np.zeros((num_games,) + game.observation_space.shape, dtype=np.float32)

        def step_async(self, actions: np.ndarray) -> None:
            raise RuntimeError("the simultaneous trainer steps the shared game; a lab's model never steps it alone")

        def step_wait(self) -> Any:
            raise RuntimeError("the simultaneous trainer steps the shared game; a lab's model never steps it alone")

        def close(self) -> None:
            pass

        def get_attr(self, attr_name: str, indices: Any = None) -> list[Any]:
            return [getattr(self, attr_name, None)] * num_games

        def set_attr(self, attr_name: str, value: Any, indices: Any = None) -> None:
            pass

        def env_method(self, method_name: str, *args: Any, indices: Any = None, **kwargs: Any) -> list[Any]:
            return [None] * num_games

        def env_is_wrapped(self, wrapper_class: type, indices: Any = None) -> list[bool]:
            return [False] * num_games

    return LabRows()


def train_simultaneous(
    game: Any,
    algo: str = "ppo",
    timesteps: int = 100_000,
    seed: int = 0,
    hyperparams: dict[str, Any] | None = None,
    run_dir: str | os.PathLike | None = None,
    progress_bar: bool = False,
    verbose: int = 0,
) -> TrainResult:
    """One on-policy model per lab (PPO or A2C), all learning at once from their own rows of one
    batched env: every step each lab's model acts on its rows of B games, the game steps once, and
    each model stores its own transitions; after ``n_steps`` steps every model updates. The labs
    learn against each other's *current* policies (the equilibrium lens, like alternating best
    responses, without freezing anyone). ``timesteps`` counts agent-steps over all labs, as for
    the shared trainer; hyperparameters are the shared trainer's (``n_envs`` games x N labs rows).
    """
    import torch
    from stable_baselines3.common.utils import obs_as_tensor
    from stable_baselines3.common.vec_env import VecMonitor

    from labrace.envs.vec_env import GameVecEnv

    if algo not in ("ppo", "a2c"):
        raise ValueError(f"the simultaneous trainer runs on-policy learners (ppo, a2c); got {algo!r}")
    check_algorithm(algo, game)
    params = hyperparams if hyperparams is not None else get_hyperparams(game.name, algo, "simultaneous")
    settings, kwargs = split_hyperparams(params)
    seed_everything(seed)
    N, B = game.num_agents, int(settings.get("n_envs", 16))
    run_dir = Path(run_dir) if run_dir is not None else None
    transform = action_transform(settings, algo, game)
    monitor = str(run_dir / "monitor.csv") if run_dir is not None else None
    if run_dir is not None:
        run_dir.mkdir(parents=True, exist_ok=True)
    env = VecMonitor(GameVecEnv(training_game(game, settings), B, seed=seed, action_transform=transform), filename=monitor)
    cls = algorithm_class(algo)
    tb = str(run_dir / "tb") if run_dir is not None else None
    models = [keep_logs_out_of_tmp(cls(settings.get("policy", "MlpPolicy"), _lab_rows_env(game, B, env.action_space), seed=seed + i, device="cpu", tensorboard_log=tb, verbose=verbose, **kwargs)) for i in range(N)]
    per_lab = max(timesteps // N, 1)
    try:
        callbacks = []
        for i, model in enumerate(models):
            _, callback = model._setup_learn(per_lab, training_callbacks(settings, per_lab) or None, True, f"lab_{i}", progress_bar and i == 0)
            callback.on_training_start(locals(), globals())
            callbacks.append(callback)
        observations = env.reset().reshape(B, N, -1)  # row b * N + i is lab i of game b
        starts = np.ones(B, dtype=bool)
        box = hasattr(env.action_space, "low")
        while models[0].num_timesteps < per_lab:
            for model, callback in zip(models, callbacks):
                model.policy.set_training_mode(False)
                model.rollout_buffer.reset()
                callback.on_rollout_start()
            for _ in range(models[0].n_steps):
                acted, values, log_probs = [], [], []
                for i, model in enumerate(models):
                    with torch.no_grad():
                        action, value, log_prob = model.policy(obs_as_tensor(observations[:, i], model.device))
                    acted.append(action.cpu().numpy())
                    values.append(value)
                    log_probs.append(log_prob)
                joint = np.stack(acted, axis=1).reshape((B * N,) + env.action_space.shape)
                if box:  # as SB3 does: the buffer keeps the sampled action, the env gets it clipped
                    joint = np.clip(joint, env.action_space.low, env.action_space.high)
                new_observations, rewards, dones, infos = env.step(joint)
                new_observations = new_observations.reshape(B, N, -1)
                rewards = rewards.reshape(B, N).copy()
                for i, (model, callback) in enumerate(zip(models, callbacks)):
                    model.num_timesteps += B
                    callback.update_locals(locals())
                    callback.on_step()
                    for b in np.flatnonzero(dones.reshape(B, N)[:, i]):  # time-outs: bootstrap from the terminal state
                        info = infos[b * N + i]
                        if info.get("TimeLimit.truncated", False):
                            with torch.no_grad():
                                terminal = model.policy.obs_to_tensor(info["terminal_observation"])[0]
                                rewards[b, i] += model.gamma * model.policy.predict_values(terminal)[0].item()
                    action = acted[i].reshape(-1, 1) if not box and acted[i].ndim == 1 else acted[i]
                    model.rollout_buffer.add(observations[:, i], action, rewards[:, i], starts, values[i], log_probs[i])
                observations, starts = new_observations, dones.reshape(B, N)[:, 0]
            for i, (model, callback) in enumerate(zip(models, callbacks)):
                with torch.no_grad():
                    last_values = model.policy.predict_values(obs_as_tensor(observations[:, i], model.device))
                model.rollout_buffer.compute_returns_and_advantage(last_values=last_values, dones=starts)
                callback.on_rollout_end()
                model._update_current_progress_remaining(model.num_timesteps, per_lab)
                model.train()
        for callback in callbacks:
            callback.on_training_end()
    finally:  # an interrupted run closes its monitor file too
        env.close()
    policies = [SB3Policy(model, name=f"{algo}_lab_{i}", action_transform=transform) for i, model in enumerate(models)]
    if run_dir is not None:
        for i, policy in enumerate(policies):
            policy.save(run_dir / "models" / f"lab_{i}")
    total = sum(int(m.num_timesteps) for m in models)
    report = {"scheme": "simultaneous independent learners (one model per lab, one batched env)", "action_param": action_param_name(transform)}
    return TrainResult(policies, models, "simultaneous", algo, total, params, report)


# --------------------------------------------------------------------------------------------
# Independent learners: alternating best responses
# --------------------------------------------------------------------------------------------


def focal_vec_env(game: Any, lab: int, background: list[Policy], n_envs: int, seed: int | None = None, batched: bool = True, transform: Any = None):
    """SB3 VecEnv of ``n_envs`` games in which lab ``lab`` learns and ``background`` plays the others.

    ``batched=True``: the focal form of :class:`~labrace.envs.vec_env.GameVecEnv` over the batched
    core (one ``act`` call per background policy per step for all games). ``batched=False``:
    ``n_envs`` Gymnasium ``FocalLabEnv`` copies in a ``DummyVecEnv`` (one game each; the same
    episodes as the batched form with one game and the same seed, about ten times slower).
    """
    if batched:
        from labrace.envs.vec_env import GameVecEnv  # SB3 is imported only when training

        return GameVecEnv(game, n_envs, seed=seed, focal_lab=lab, background=background, action_transform=transform)
    import gymnasium
    from stable_baselines3.common.vec_env import DummyVecEnv

    from labrace.envs.adapters import FocalLabEnv

    class InLogits(gymnasium.ActionWrapper):  # the learner's logits → the focal lab's action
        def __init__(self, env: Any) -> None:
            super().__init__(env)
            self.action_space = transform.space

        def action(self, action: np.ndarray) -> np.ndarray:
            return transform.to_env(np.asarray(action)[None])[0]

    def make(_: int):
        if transform is not None:
            return lambda: InLogits(FocalLabEnv(game, focal_lab=lab, background=background))
        return lambda: FocalLabEnv(game, focal_lab=lab, background=background)

    env = DummyVecEnv([make(k) for k in range(n_envs)])
    env.seed(seed)
    return env


def _focal_vec_env(game: Any, lab: int, background: list[Policy], n_envs: int, monitor_file: str | None, seed: int | None = None, batched: bool = True, transform: Any = None):
    from stable_baselines3.common.vec_env import VecMonitor

    return VecMonitor(focal_vec_env(game, lab, background, n_envs, seed, batched, transform), filename=monitor_file)


def train_focal(game: Any, lab: int, background: list[Policy], timesteps: int, seed: int = 0, hyperparams: dict[str, Any] | None = None, algo: str = "ppo") -> SB3Policy:
    """One model for ``lab`` trained ``timesteps`` steps against frozen ``background`` policies (a best response)."""
    params = hyperparams if hyperparams is not None else get_hyperparams(game.name, algo, "independent")
    settings, kwargs = split_hyperparams(params)
    transform = action_transform(settings, algo, game)
    env = _focal_vec_env(training_game(game, settings), lab, background, int(settings.get("n_envs", 16)), None, seed, settings.get("focal_env", "batched") == "batched", transform)
    model = keep_logs_out_of_tmp(algorithm_class(algo)(settings.get("policy", "MlpPolicy"), env, seed=seed, device="cpu", **kwargs))
    try:
        model.learn(timesteps, callback=training_callbacks(settings, timesteps) or None)
    finally:
        env.close()
    return SB3Policy(model, name=f"{algo}_best_response_lab_{lab}", action_transform=transform)


def profile_returns(game: Any, policies: list[Policy], episodes: int, seed: int) -> np.ndarray:
    """(E, N) returns of a policy profile (a thin wrapper of :func:`rollout`)."""
    return rollout(game, policies, episodes, seed).returns


def train_independent(
    game: Any,
    algo: str = "ppo",
    timesteps: int = 60_000,
    seed: int = 0,
    hyperparams: dict[str, Any] | None = None,
    run_dir: str | os.PathLike | None = None,
    progress_bar: bool = False,
    resume: bool = False,
    eval_episodes: int = 500,
    verbose: int = 0,
) -> TrainResult:
    """Train one model per lab by alternating best responses (see the module docstring).

    ``timesteps`` is each lab's total budget over all rounds (``rounds`` from the hyperparameters).
    With ``run_dir``: models in ``models/lab_<i>.zip`` after every lab's turn (``progress.json``
    says which turn finished; ``resume=True`` continues after it), monitors and TensorBoard logs.
    The report holds per-round returns and the convergence check.
    """
    check_algorithm(algo, game)
    params = hyperparams if hyperparams is not None else get_hyperparams(game.name, algo, "independent")
    settings, kwargs = split_hyperparams(params)
    rounds = int(settings.get("rounds", 3))
    n_envs = int(settings.get("n_envs", 16))
    batched = settings.get("focal_env", "batched") == "batched"
    per_turn = max(timesteps // rounds, 1)
    seed_everything(seed)
    N = game.num_agents
    cls = algorithm_class(algo)
    run_dir = Path(run_dir) if run_dir is not None else None
    tb = str(run_dir / "tb") if run_dir is not None else None

    # Policy wrappers are the background seen by the other labs; their .model is swapped in place.
    transform = action_transform(settings, algo, game)
    learning_game = training_game(game, settings)
    policies = [SB3Policy(None, name=f"{algo}_lab_{i}", action_transform=transform) for i in range(N)]
    progress_path = run_dir / "progress.json" if run_dir is not None else None
    saved = json.loads(progress_path.read_text()) if (resume and progress_path is not None and progress_path.exists()) else None
    start = int(saved["next_turn"]) if saved else 0  # index of the next (round, lab) turn
    history: list[dict[str, Any]] = list(saved["history"]) if saved else []
    envs = []
    models = []
    for i in range(N):
        monitor = None
        if run_dir is not None:  # a resumed run keeps the first monitor files: lab i's episodes go on in a new one
            done = (start + N - 1 - i) // N * per_turn  # lab i's steps in the turns already finished
            monitor = str(run_dir / (f"resumed-model_{done}_steps.lab_{i}.monitor.csv" if saved else f"lab_{i}.monitor.csv"))
        env = _focal_vec_env(learning_game, i, [policies[j] for j in range(N) if j != i], n_envs, monitor, seed + i, batched, transform)
        envs.append(env)
        models.append(keep_logs_out_of_tmp(cls(settings.get("policy", "MlpPolicy"), env, seed=seed + i, device="cpu", tensorboard_log=tb, verbose=verbose, **kwargs)))
        policies[i].model = models[i]

    schedules = [training_callbacks(settings, timesteps) for _ in range(N)]  # one per lab, kept over its turns
    state = None
    if saved:
        state = TrainingState.read(run_dir / "models" / "lab_0.zip") if batched else None
        for i in range(N):
            models[i] = keep_logs_out_of_tmp(cls.load(run_dir / "models" / f"lab_{i}.zip", env=envs[i], device="cpu", tensorboard_log=tb, force_reset=state is None))
            policies[i].model = models[i]
        if state is not None:
            state.restore(envs)  # last: loading the models re-seeded the global generators

    try:
        for turn in range(start, rounds * N):
            r, i = divmod(turn, N)
            models[i].learn(per_turn, callback=schedules[i] or None, progress_bar=progress_bar, tb_log_name=f"lab_{i}", reset_num_timesteps=False)
            if i == N - 1:  # end of a round: evaluate the profile
                returns = profile_returns(game, policies, eval_episodes, seed + 10_000)
                history.append({"round": r + 1, "mean_return_per_lab": returns.mean(axis=0).round(6).tolist()})
            if run_dir is not None:
                for j in range(N):
                    SB3Policy(models[j], policies[j].name, action_transform=transform).save(run_dir / "models" / f"lab_{j}")
                if batched:  # the batch of every lab's games and the random streams, for an exact resume
                    TrainingState(envs).write(TrainingState.path(run_dir / "models" / "lab_0.zip"))
                write_json(progress_path, {"next_turn": turn + 1, "rounds": rounds, "timesteps_per_turn": per_turn, "history": history})  # last: the turn is done
    finally:  # an interrupted run closes its monitor files too
        for env in envs:
            env.close()
    check = convergence_check(game, policies, max(int(per_turn * settings.get("check_fraction", 0.5)), 1), eval_episodes, seed)
    report = {"scheme": "alternating best responses (Gauss-Seidel sweep over labs)", "rounds": rounds, "timesteps_per_turn": per_turn, "history": history, "convergence": check}
    if saved:
        report["resumed_at_step"] = sum((start + N - 1 - i) // N * per_turn for i in range(N))
        report["resumed_exactly"] = state is not None and algo in ("ppo", "a2c") and settings.get("log_std_final") is None and int(saved.get("timesteps_per_turn", per_turn)) == per_turn
    total = sum(int(m.num_timesteps) for m in models)
    return TrainResult(policies, models, "independent", algo, total, params, report)


def convergence_check(game: Any, policies: list[SB3Policy], extra_steps: int, episodes: int, seed: int) -> dict[str, Any]:
    """Has the alternation converged? The exploitability of the final profile (best-response gain per lab).

    :func:`~labrace.agents.exploitability.exploitability`: exact in ``precipice_v0``, the best of the
    env's strategy set elsewhere, and in ``race_v0`` also a PPO best response trained
    ``extra_steps`` against the others' final policies (more training of a lab's own model alone
    misses responses across a zero-reward plateau: it undercounted the gain 8x, issue 15).
    ``converged`` is true when no lab gains more than the equilibrium tolerance per episode.
    """
    from labrace.agents.exploitability import exploitability

    learner = extra_steps if game.name == "race_v0" else 0
    report = exploitability(game, policies, episodes=episodes, seed=seed + 20_000, learner_timesteps=learner)
    return {"extra_timesteps": learner, "episodes": episodes, "labs": report["labs"], "converged": report["approximate_equilibrium"], "exploitability": report}
