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
        "\nWork in this order:\n\
         1. Declare the risk class first (low: docs, copy, UI polish; medium: behaviour change in core flows; \
         high: auth, billing, permissions, migrations). Never lower it to get past a gate.\n\
         2. Evaluate every gate layer the class requires (code, review, operational, communication, decision; \
         see the `release-gate://policy` resource) and mark each pass, fail or n/a with its evidence after the \
         word, e.g. `pass (CI #4411)`.\n\
         3. Check that the rollback trigger is concrete (a signal, a comparison and a number, e.g. `error rate > \
         2% for 5 minutes`) and that a rollback owner is named.\n\
         4. For high risk, check the five-item pre-release drill and a go/no-go panel of at least two people; for \
         medium and high risk, check that the rollback was rehearsed with a recovery time (the \
         `rollback_rehearsal_plan` prompt plans one).\n\
         5. Check the communication package: what changed, known limitations, monitoring focus, rollback \
         trigger conditions, escalation.\n\
         6. Call `validate_decision` and fix every error finding (each message says what to do); read every \
         warning. The `release-gate://rules` resource explains each code. Call `audit_decision` for the \
         five-question audit.\n\
         7. The GO or NO-GO, its owner and its timestamp belong to a person: ask them; never record a decision \
         or name an owner on their behalf.\n\
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
         \nThen write the results into the decision's `Rollback rehearsal:` bullet (`apply candidate build:`, \
         `simulate rollback trigger:`, `execute rollback path:`, `confirm service recovers and alerts \
         normalize:`, `recovery time:`, `friction points:`) and call `validate_decision`. Never rehearse in \
         production, and never mark a step done that did not happen.\n"
    )
}
