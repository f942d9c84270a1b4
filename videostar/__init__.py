"""videostar: self-training for video language models from the labels you already have.

Importing this package does no heavy work; torch, transformers and PyAV load only when used.
"""

__version__ = "0.1.0"
