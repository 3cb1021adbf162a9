"""Which handler handles which command: the one place they are registered.
`bootstrap` injects each handler's dependencies and builds the bus."""

from __future__ import annotations

from tindaklanjut.service_layer import commands, cycles, followup, handlers, plans, reminders, users

COMMAND_HANDLERS = {
    commands.IngestAssessments: handlers.ingest,
    commands.PublishAssessment: handlers.publish_assessment,
    commands.RecordAction: followup.record_action,
    commands.AttachEvidence: followup.attach_evidence,
    commands.SubmitFollowUp: followup.submit,
    commands.VerifyFollowUp: followup.verify,
    commands.RequestChanges: followup.request_changes,
    commands.RequestExtension: followup.request_extension,
    commands.RequestNotActionable: followup.request_not_actionable,
    commands.DecideRequest: followup.decide_request,
    commands.SubmitActionPlan: plans.submit_plan,
    commands.DecideActionPlan: plans.decide_plan,
    commands.CompleteMilestone: plans.complete_milestone,
    commands.CloseCycle: cycles.close_cycle_command,
    commands.CloseDueCycles: cycles.close_due_cycles_command,
    commands.HandleCycleClosed: cycles.cycle_closed_command,
    commands.AddUser: users.add,
    commands.RevokeToken: users.revoke,
    commands.SetPassword: users.set_password,
    commands.DisableUser: users.disable,
    commands.LogIn: users.log_in,
    commands.LogOut: users.log_out,
    commands.ImportContacts: reminders.import_contacts_command,
    commands.RunSweep: reminders.run_sweep,
}
