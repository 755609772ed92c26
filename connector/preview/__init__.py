"""The preview page at ``/``: a sample inbox from the sandbox world, with the sidebars beside it."""
