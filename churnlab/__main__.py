"""`python -m churnlab` is the same as the `churnlab` command."""
from churnlab.cli import main

if __name__ == "__main__":
    main()
