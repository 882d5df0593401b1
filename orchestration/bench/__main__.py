"""`python -m orchestration.bench`: see `orchestration.bench.harness`."""

from orchestration.bench.harness import main

if __name__ == "__main__":
    main()
