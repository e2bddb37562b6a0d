import sys
import unittest

sys.path.insert(0, "src")

import app  # noqa: E402


class AppTest(unittest.TestCase):
    def test_greeting(self):
        self.assertIn("strata", app.GREETING)


if __name__ == "__main__":
    unittest.main()
