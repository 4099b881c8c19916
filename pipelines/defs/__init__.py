"""Assets, checks and resources, one folder per stage; loaded by `pipelines.definitions`."""
