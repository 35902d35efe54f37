"""Verify a DSSE envelope with securesystemslib, a verifier release-gate did not write.

Usage: verify_dsse.py ENVELOPE THRESHOLD PUBKEY.pub...   (OpenSSH public key files)
Exits 0 and prints the payload when THRESHOLD of the keys signed; exits 1 otherwise.
"""
import json
import sys

from cryptography.hazmat.primitives.serialization import load_ssh_public_key
from securesystemslib.dsse import Envelope
from securesystemslib.signer import SSlibKey

envelope_path, threshold, *key_paths = sys.argv[1:]
with open(envelope_path, "rb") as f:
    envelope = Envelope.from_dict(json.load(f))
keys = []
for path in key_paths:
    with open(path, "rb") as f:
        keys.append(SSlibKey.from_crypto(load_ssh_public_key(f.read())))
try:
    envelope.verify(keys, int(threshold))
except Exception as error:  # securesystemslib raises VerificationError; anything else is a failure too
    print(f"not verified: {error}", file=sys.stderr)
    sys.exit(1)
sys.stdout.buffer.write(envelope.payload)
