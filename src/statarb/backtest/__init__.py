"""statarb.backtest."""
