"""Entry point: settings, the dispatcher factory, middlewares and the command line."""
