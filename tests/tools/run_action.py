"""A small runner for the composite action in action.yml, as GitHub runs it, for the tests.

Usage: run_action.py ACTION_YML WORKDIR NAME=VALUE...

Evaluates the inputs (defaults, then the given ones), runs each step's `run` with bash as GitHub does
(`bash --noprofile --norc -eo pipefail`), with its `env` (`${{ inputs.NAME }}` substituted), `if:` of the
form `inputs.NAME != ''`, a fresh GITHUB_OUTPUT per step, and GITHUB_PATH applied to the next steps.
Prints one JSON object: the steps' outcomes and outputs. Exits with the first failing step's code.
"""

import json
import os
import re
import subprocess
import sys
import tempfile

from ruamel.yaml import YAML

EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def evaluate(text, inputs, context):
    def one(match):
        expression = match.group(1)
        if expression.startswith("inputs."):
            return inputs[expression[len("inputs."):]]
        if expression in context:
            return context[expression]
        raise SystemExit(f"the runner cannot evaluate ${{{{ {expression} }}}}")

    return EXPRESSION.sub(one, str(text))


def condition(text, inputs):
    match = re.fullmatch(r"inputs\.([\w-]+)\s*!=\s*''", text.strip())
    if not match:
        raise SystemExit(f"the runner cannot evaluate if: {text}")
    return inputs[match.group(1)] != ""


def read_outputs(path):
    outputs, lines = {}, open(path, encoding="utf-8").read().splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            value = []
            index += 1
            while lines[index] != delimiter:
                value.append(lines[index])
                index += 1
            outputs[name] = "\n".join(value)
        elif line:
            name, value = line.split("=", 1)
            outputs[name] = value
        index += 1
    return outputs


def main():
    action_path, workdir, *pairs = sys.argv[1:]
    action = YAML(typ="safe").load(open(action_path, encoding="utf-8"))
    assert action["runs"]["using"] == "composite", "only composite actions"
    inputs = {name: str(spec.get("default", "")) for name, spec in action.get("inputs", {}).items()}
    for pair in pairs:
        name, value = pair.split("=", 1)
        if name not in inputs:
            raise SystemExit(f"the action has no input {name}")
        inputs[name] = value
    action_dir = os.path.dirname(os.path.abspath(action_path))
    temp = tempfile.mkdtemp(prefix="run-action-")
    path_file = os.path.join(temp, "path")
    open(path_file, "w").close()
    env = dict(os.environ)
    env.update(
        GITHUB_ACTIONS="true",
        GITHUB_ACTION_PATH=action_dir,
        GITHUB_PATH=path_file,
        RUNNER_TEMP=temp,
        RUNNER_TOOL_CACHE=os.path.join(temp, "tool-cache"),
    )
    context = {"github.action_path": action_dir}
    report = {"steps": []}
    for number, step in enumerate(action["runs"]["steps"]):
        name = step.get("name", f"step {number}")
        if "if" in step and not condition(step["if"], inputs):
            report["steps"].append({"name": name, "outcome": "skipped"})
            continue
        output_file = os.path.join(temp, f"output-{number}")
        open(output_file, "w").close()
        step_env = dict(env, GITHUB_OUTPUT=output_file)
        added = [line for line in open(path_file, encoding="utf-8").read().splitlines() if line]
        step_env["PATH"] = os.pathsep.join(list(reversed(added)) + [env["PATH"]])
        for key, value in step.get("env", {}).items():
            step_env[key] = evaluate(value, inputs, context)
        cwd = os.path.join(workdir, evaluate(step.get("working-directory", "."), inputs, context))
        assert step.get("shell") == "bash", "every step names its shell"
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            cwd=cwd, env=step_env, capture_output=True, text=True,
        )
        report["steps"].append({
            "name": name,
            "id": step.get("id"),
            "outcome": "success" if done.returncode == 0 else "failure",
            "code": done.returncode,
            "stdout": done.stdout,
            "stderr": done.stderr,
            "outputs": read_outputs(output_file),
        })
        if done.returncode != 0:
            print(json.dumps(report, indent=2))
            sys.exit(done.returncode)
    report["path"] = [line for line in open(path_file, encoding="utf-8").read().splitlines() if line]
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
