"""Wire protocols of the exchanges statarb talks to, shared by its clients and its venues."""
