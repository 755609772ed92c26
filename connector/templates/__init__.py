"""Email templates: the store (models, operations), import from Oro, sandboxed rendering of Oro's Twig
subset, and the catalog of variables per record type."""
