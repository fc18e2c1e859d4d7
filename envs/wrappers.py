"""Video recording for any PettingZoo ``ParallelEnv`` (swarmzoo's or not) with ``rgb_array``.

::

    from swarmzoo.wrappers import RecordVideo

    env = swarmzoo.make("flocking-v0", n_agents=200, render_mode="rgb_array")
    env = RecordVideo(env, "videos", episode_trigger=lambda ep: ep % 10 == 0)
    ...                              # reset / step as usual; episodes 0, 10, 20, ... are saved
    env.close()                      # writes a recording still in progress
    env.recorded_paths               # [Path("videos/rl-video-episode-0.mp4"), ...]

The schedule follows Gymnasium's ``RecordVideo``: ``episode_trigger(episode_id)`` and/or
``step_trigger(step_id)`` (counting from 0 over the wrapper's life) start a recording; without
either, :func:`capped_cubic_trigger` (episodes 0, 1, 8, 27, ..., 729, 1000, 2000, ...). A
recording ends with its episode (or after ``episodes_per_video`` episodes, or ``video_length``
frames when that is > 0). Files are MP4 (H.264 via imageio-ffmpeg) or GIF (Pillow).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from pettingzoo.utils.wrappers import BaseParallelWrapper

VIDEO_FORMATS = ("mp4", "gif")


def capped_cubic_trigger(episode_id: int) -> bool:
    """True at perfect cubes below 1000 (0, 1, 8, 27, ...) and every 1000th episode after."""
    if episode_id < 1000:
        return round(episode_id ** (1.0 / 3)) ** 3 == episode_id
    return episode_id % 1000 == 0


def write_video(frames: list[np.ndarray] | np.ndarray, path: str | Path, fps: float) -> Path:
    """Write ``frames`` ``(T, H, W, 3) uint8`` to ``path`` (``.mp4`` or ``.gif``).

    Raises:
        ValueError: no frames, frames of different shapes or dtypes, or an unknown suffix.
    """
    import imageio.v3 as iio

    path = Path(path)
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in VIDEO_FORMATS:
        raise ValueError(f"video files end in .mp4 or .gif, got {path.name!r}")
    if len(frames) == 0:
        raise ValueError(f"no frames to write to {path}")
    shapes = {np.shape(f) for f in frames}
    if len(shapes) != 1:
        raise ValueError(f"frames for {path} have different shapes: {sorted(shapes)}")
    stack = np.stack(frames)
    if stack.dtype != np.uint8 or stack.ndim != 4 or stack.shape[-1] != 3:
        raise ValueError(f"frames must be (H, W, 3) uint8 images, got {stack.shape[1:]} {stack.dtype}")
    if not fps > 0:
        raise ValueError(f"fps must be > 0, got {fps}")
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == "gif":
        iio.imwrite(path, stack, extension=".gif", duration=1000 / fps, loop=0)
    else:
        iio.imwrite(path, stack, extension=".mp4", fps=fps, codec="libx264", macro_block_size=1)
    return path


class RecordVideo(BaseParallelWrapper):
    """Record episodes of a PettingZoo ``ParallelEnv`` to video files.

    Args:
        env: a ``ParallelEnv`` created with ``render_mode="rgb_array"``.
        video_folder: where files go (created).
        episode_trigger: ``episode_id -> bool``: start recording at this episode's reset.
        step_trigger: ``step_id -> bool``: start recording at this step (counted over all
            episodes since the wrapper was made).
        video_length: frames per video; 0 records until the episode ends (or
            ``episodes_per_video`` episodes end).
        episodes_per_video: episodes per file when ``video_length`` is 0.
        name_prefix: file names are ``{name_prefix}-episode-{id}.{format}`` (or ``-step-{id}``).
        fps: frames per second (default: the env's ``metadata["render_fps"]``).
        format: ``mp4`` or ``gif``.

    Raises:
        ValueError: the env does not render ``rgb_array`` frames, or a bad argument.
    """

    def __init__(
        self,
        env,
        video_folder: str | Path,
        episode_trigger: Callable[[int], bool] | None = None,
        step_trigger: Callable[[int], bool] | None = None,
        video_length: int = 0,
        episodes_per_video: int = 1,
        name_prefix: str = "rl-video",
        fps: float | None = None,
        format: str = "mp4",
    ) -> None:
        super().__init__(env)
        if getattr(env, "render_mode", None) != "rgb_array":
            raise ValueError(
                f"RecordVideo needs an env made with render_mode='rgb_array', got "
                f"render_mode={getattr(env, 'render_mode', None)!r}"
            )
        if format not in VIDEO_FORMATS:
            raise ValueError(f"format must be one of {VIDEO_FORMATS}, got {format!r}")
        if video_length < 0:
            raise ValueError(f"video_length must be >= 0 (0: whole episodes), got {video_length}")
        if episodes_per_video < 1:
            raise ValueError(f"episodes_per_video must be >= 1, got {episodes_per_video}")
        if episode_trigger is None and step_trigger is None:
            episode_trigger = capped_cubic_trigger
        self.video_folder = Path(video_folder)
        self.episode_trigger = episode_trigger
        self.step_trigger = step_trigger
        self.video_length = video_length
        self.episodes_per_video = episodes_per_video
        self.name_prefix = name_prefix
        self.fps = fps if fps is not None else env.metadata.get("render_fps", 30)
        if not self.fps > 0:
            raise ValueError(f"fps must be > 0, got {self.fps}")
        self.format = format
        self.episode_id = -1
        self.step_id = 0
        self.recorded_paths: list[Path] = []
        self._frames: list[np.ndarray] = []
        self._name: str | None = None
        self._episodes_in_video = 0

    @property
    def recording(self) -> bool:
        """Whether frames are being collected now."""
        return self._name is not None

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None):
        obs, infos = self.env.reset(seed=seed, options=options)
        self.episode_id += 1
        if self.recording and self.video_length == 0 and self._episodes_in_video >= self.episodes_per_video:
            self._finish()
        if not self.recording and self.episode_trigger is not None and self.episode_trigger(self.episode_id):
            self._start(f"episode-{self.episode_id}")
        if self.recording:
            self._episodes_in_video += 1
            self._capture()
        return obs, infos

    def step(self, actions):
        result = self.env.step(actions)
        if not self.recording and self.step_trigger is not None and self.step_trigger(self.step_id):
            self._start(f"step-{self.step_id}")
            self._episodes_in_video = 1
        self.step_id += 1
        if self.recording:
            self._capture()
            if self.video_length > 0 and len(self._frames) >= self.video_length:
                self._finish()
            elif (
                self.video_length == 0
                and not self.env.agents
                and self._episodes_in_video >= self.episodes_per_video
            ):
                self._finish()
        return result

    def close(self) -> None:
        if self.recording and self._frames:
            self._finish()
        self.env.close()

    def _start(self, tag: str) -> None:
        self._name = f"{self.name_prefix}-{tag}.{self.format}"
        self._frames = []
        self._episodes_in_video = 0

    def _capture(self) -> None:
        frame = self.env.render()
        if not isinstance(frame, np.ndarray):
            raise ValueError(f"render() returned {type(frame).__name__}, not an rgb_array frame")
        self._frames.append(frame)

    def _finish(self) -> None:
        assert self._name is not None
        path = write_video(self._frames, self.video_folder / self._name, self.fps)
        self.recorded_paths.append(path)
        self._frames = []
        self._name = None
        self._episodes_in_video = 0
