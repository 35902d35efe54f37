"""Verify release-gate's decision log branch with git, hashlib and ssh-keygen only.

README "Verify without release-gate": one commit per entry, no merges, `prev` chained by SHA-256, every
checkpoint's RFC 6962 Merkle root recomputed and its SSH signature checked by ssh-keygen.
Usage, at the repository root: python3 verify_log_branch.py [REF] [ALLOWED_SIGNERS]
"""
import base64, hashlib, json, subprocess, sys, tempfile

ref = sys.argv[1] if len(sys.argv) > 1 else "release-gate-ledger"
signers = sys.argv[2] if len(sys.argv) > 2 else ".release/allowed_signers"
git = lambda *args: subprocess.run(["git", *args], check=True, capture_output=True).stdout
node = lambda l, r: hashlib.sha256(b"\x01" + l + r).digest()

def fail(message):
    print(message, file=sys.stderr)
    sys.exit(1)

stack, prev = [], "0" * 64  # the Merkle tree as (height, hash) of its perfect subtrees
lines = git("rev-list", "--reverse", "--first-parent", "--parents", ref).decode().split()
commits = git("rev-list", "--reverse", "--first-parent", ref).decode().split()
if len(lines) > 2 * len(commits):
    fail("a merge commit on the log")
for n, c in enumerate(commits, 1):
    if git("ls-tree", "--name-only", c).decode().split() != ["checkpoint", "checkpoint.sig", "entry"]:
        fail(f"commit {c} holds other files")
    line = git("cat-file", "blob", f"{c}:entry")
    entry = json.loads(line)
    if entry["seq"] != n or entry["prev"] != prev:
        fail(f"entry {n} breaks the chain")
    prev = hashlib.sha256(line).hexdigest()
    leaf = (0, hashlib.sha256(b"\x00" + line).digest())
    while stack and stack[-1][0] == leaf[0]:
        leaf = (leaf[0] + 1, node(stack.pop()[1], leaf[1]))
    stack.append(leaf)
    root = stack[-1][1]
    for _, left in reversed(stack[:-1]):
        root = node(left, root)
    checkpoint = git("cat-file", "blob", f"{c}:checkpoint")
    expected = f"release-gate.dev/ledger/v2\n{n}\n{base64.b64encode(root).decode()}\n".encode()
    if checkpoint != expected:
        fail(f"commit {c}: the checkpoint does not pin entries 1..{n}")
    with tempfile.NamedTemporaryFile() as sig:
        sig.write(git("cat-file", "blob", f"{c}:checkpoint.sig"))
        sig.flush()
        who = subprocess.run(["ssh-keygen", "-Y", "find-principals", "-f", signers, "-s", sig.name],
                             capture_output=True, text=True)
        check = subprocess.run(["ssh-keygen", "-Y", "verify", "-f", signers, "-I", who.stdout.strip().split("\n")[0],
                                "-n", "release-gate-checkpoint", "-s", sig.name], input=checkpoint, capture_output=True)
        if who.returncode != 0 or check.returncode != 0:
            fail(f"commit {c}: the checkpoint signature does not verify")
print(f"{len(commits)} entries verified; {check.stdout.decode().strip()}")
