import pytest

from videostar.verify.embed import Embedder
from videostar.verify.verifier import Verifier


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real bundled all-MiniLM-L6-v2, loaded once per session."""
    return Embedder()


@pytest.fixture(scope="session")
def verifier(embedder) -> Verifier:
    return Verifier(embedder=embedder)
