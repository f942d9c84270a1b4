"""The one generation engine every method runs on (Video-STaR, VideoSAVi, evaluation, later runners).

- ``work.py``: a unit of work (a sample, a prompt, the question it answers) and the CLIP it needs;
  batching that decodes each clip once, recording clips that cannot be decoded instead of failing.
- ``step.py``: the pure per-batch step, work + frames -> replies -> verdicts -> ledger rows, with no
  state of its own, so an in-process loop and a distributed worker call the same function.
- ``engine.py``: the in-process runner over a run ledger: pending work, resume, settings, skips.

Methods compose these (their own steps and prompts, verifying or not) rather than subclassing.
"""
