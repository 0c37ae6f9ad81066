"""The ``statarb`` command line. Each module here adds its commands through ``register(app)``.

Command modules import only the standard library and typer at module level; heavy libraries are
imported inside the command functions, so ``statarb --help`` answers fast.
"""
