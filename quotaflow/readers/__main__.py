"""``python -m quotaflow.readers``: print the what-if path registry as Markdown (``docs/what-if-paths.md``)."""

from quotaflow.readers._docs import markdown

print(markdown(), end="")
