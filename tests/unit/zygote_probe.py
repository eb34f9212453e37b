"""A daemon for the zygote test: says what it is, then waits to be stopped."""
import os
import sys
import time


def main() -> int:
    print(f"argv={sys.argv[1:]} own-session={os.getsid(0) == os.getpid()} stdin-null={os.isatty(0) is False}",
          flush=True)
    time.sleep(float(sys.argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
