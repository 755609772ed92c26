"""The hermetic "outside world" of the demo and the tests.

``world.SandboxWorld.generate(seed)`` makes one deterministic world: an Oro back office (the JSON:API,
OAuth 2, permissions by business unit, fault injection) with realistic sample data, and the sample
conversations of the sandbox users' mailboxes. ``app.create_sandbox_app(world)`` serves it as one WSGI
app (the Oro part under ``/oro``). ``examples`` names the tricky people and threads and the sandbox
credentials. Nothing here may run on a public deployment.
"""
