"""The rules: plain async functions `(ctx, **args)` that validate, decide and run transactions."""
