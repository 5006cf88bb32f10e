"""handloop's test suite.

boto3 clients in the test process (and the commands and servers it starts) sign as botocore
alone does, the install most users have: awscrt, which handloop depends on for S3's CRC32C
and CRC64NVME checksums, would otherwise switch botocore to its CRT signers. The tests that
need a botocore[crt] client run one in a subprocess (tests/test_api_s3_writes.py).
"""

import os

os.environ.setdefault("BOTO_DISABLE_CRT", "true")
