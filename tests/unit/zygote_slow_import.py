"""A module slow to import, for the zygote test: it marks, at the end of its import, the file
named by NHTB_TEST_IMPORTED."""
import os
import time

time.sleep(0.5)
with open(os.environ["NHTB_TEST_IMPORTED"], "w") as f:
    f.write("imported")
