//! The text of the server's prompts: the protocol's review steps and its rollback-rehearsal steps.

/// The release-readiness review, for a decision file or a scope when given.
pub fn readiness_review(path: Option<&str>, scope: Option<&str>) -> String {
    let mut out = String::from(
        "Review whether this release is ready to ship, following the release-readiness protocol.\n",
    );
    if let Some(scope) = scope.filter(|scope| !scope.trim().is_empty()) {
        out.push_str(&format!("Release scope: {scope}.\n"));
    }
    match path.filter(|path| !path.trim().is_empty()) {
        Some(path) => out.push_str(&format!(
            "The Release Decision is in `{path}` (relative to the repository root): pass it as `path` to the tools.\n"
        )),
        None => out.push_str(
            "Find the Release Decision (a pull-request description or a doc with a `Release Decision` heading); if \
             there is none, start from the `release-gate://template` resource.\n",
        ),
    }
    out.push_str(
        "\nIn a git repository, keep the decision in the repository and let the tools gather the evidence:\n\
         1. `classify_risk`, then `draft_decision` with the risk class declared first (low: docs, UI polish; \
         medium: core behaviour; high: auth, billing, permissions, migrations). A class below the suggestion \
         is the person's call, with their reason.\n\
         2. Evidence: `run_code_gates` (never type a pass over a failed run), `record_gate` for review, \
         operational and communication with their evidence, `run_drill`, `run_rehearsal` (ask the person \
         first: it acts on an environment), `set_communication`.\n\
         3. `decision_status`: follow its `steps` (who acts, which tool) and `go_needs` (what a GO still \
         needs). After new commits, `rebind_decision` and re-run the gates.\n\
         4. Ask the person once for what only they can give: owners, panel, rollback trigger, residual risks, \
         the GO / NO-GO call, signatures. Never decide, sign or name an owner on their behalf.\n\
         \nFor a decision written as Markdown, check the same things with `validate_decision` (each error \
         finding says what to do; `release-gate://rules` explains each code) and `audit_decision`: the class \
         declared first, every required gate marked with its evidence after the word (`pass (CI #4411)`), a \
         concrete rollback trigger (a signal, a comparison and a number) and its owner, the drill and panel \
         for high risk, a rehearsal with its recovery time for medium and high, the communication package.\n\
         \nReport the verdict, the blocking findings with how to fix them, and what only a person can do.\n",
    );
    out
}

/// The protocol's five rehearsal steps for one service.
pub fn rehearsal_plan(service: &str, rollback_command: Option<&str>, environment: Option<&str>) -> String {
    let environment =
        environment.filter(|text| !text.trim().is_empty()).unwrap_or("a non-production environment");
    let rollback = match rollback_command.filter(|text| !text.trim().is_empty()) {
        Some(command) => format!("run the rollback path: `{command}`"),
        None => "run the documented rollback path (ask its owner for the exact command; do not guess one)"
            .to_owned(),
    };
    format!(
        "Plan a rollback rehearsal for {service} in {environment}, following the release-readiness protocol.\n\
         \nThe five steps, in order:\n\
         1. Apply the candidate build to {environment}.\n\
         2. Simulate the rollback trigger: make the condition written in the decision's rollback trigger true \
         (e.g. push the error rate over its threshold).\n\
         3. Execute the rollback path: {rollback}.\n\
         4. Confirm the service recovers and alerts normalize; note what you watched.\n\
         5. Record the recovery time and the friction points.\n\
         \nWhen the repository's committed policy has a `[rehearsal]` (apply, trigger, rollback, check), \
         `run_rehearsal` runs these steps itself, observes the trigger (the check must fail before the rollback) \
         and times the recovery; ask the person before calling it. Otherwise, \
         write the results into the decision's `Rollback rehearsal:` bullet (`apply candidate build:`, \
         `simulate rollback trigger:`, `execute rollback path:`, `confirm service recovers and alerts \
         normalize:`, `recovery time:`, `friction points:`) and call `validate_decision`. Never rehearse in \
         production, and never mark a step done that did not happen.\n"
    )
}
