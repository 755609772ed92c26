"""Email -> Oro: link threads to records (Oro's "context"), keep later messages linked, unlink, notes,
records created from an email, and the privacy policy that decides what may go to Oro at all.

Start from :mod:`connector.linking.operations`; results are the dataclasses of
:mod:`connector.linking.schemas`, failures the typed errors of :mod:`connector.linking.errors`.
"""
