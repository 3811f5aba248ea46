"""``python -m ctrnet``."""

from ctrnet.cli import main

if __name__ == "__main__":
    main()
